"""The scheduler's decisions, pure functions of plain values (STYLE.md "decisions as data").

- `decide(task, replicates, chain, now) -> Transition` (tasks.py): every task status change.
- `decide_replicate(task, replicate, update, proof, now) -> Accepted | RefusedUpdate` (replicates.py):
  every replicate status change, whoever proposes it.
- `standing_order(task, replicate)` (orders.py): what the engine tells one worker in the task's
  current status; recovery answers a restarted worker with it.
"""

from .orders import Order, standing_order
from .replicates import (
    NEEDS_CHAIN_PROOF,
    NO_PROOF,
    Accepted,
    ChainProof,
    ProposedUpdate,
    Refusal,
    RefusedUpdate,
    allowed_after,
    decide_replicate,
    with_history,
)
from .reveal import UPLOAD_TIMEOUT_PERIODS, choose_uploader, finalize_blocker, reveal_timed_out
from .rules import consensus_winners, holders, pool_change
from .tasks import decide
from .transition import (
    NOTHING,
    Action,
    ChainAction,
    ChainView,
    Notification,
    ReplicateChange,
    SmsCall,
    StatusChange,
    Transition,
    TxOutcome,
)

__all__ = [
    "NEEDS_CHAIN_PROOF",
    "NO_PROOF",
    "NOTHING",
    "UPLOAD_TIMEOUT_PERIODS",
    "Accepted",
    "Action",
    "ChainAction",
    "ChainProof",
    "ChainView",
    "Order",
    "ProposedUpdate",
    "Notification",
    "Refusal",
    "RefusedUpdate",
    "ReplicateChange",
    "SmsCall",
    "StatusChange",
    "Transition",
    "TxOutcome",
    "allowed_after",
    "choose_uploader",
    "consensus_winners",
    "decide",
    "decide_replicate",
    "finalize_blocker",
    "holders",
    "pool_change",
    "reveal_timed_out",
    "standing_order",
    "with_history",
]
