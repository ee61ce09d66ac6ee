"""Consensus per replicate: `contributions(task, onchain, moves)`, pure.

For each replicate: its contribution hash, whether it agrees with the consensus, whether it
revealed, and what the chain paid or took (the Reward and Seize events whose `ref` is the task id,
as given by `Chain.events`, each as a `StakeMove`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .crypto import same_address
from .statuses import ReplicateStatus as RS
from .views import OnChainTask, StakeMove, TaskView


def contributions(
    task: TaskView | None, onchain: OnChainTask | None, moves: Iterable[StakeMove] = ()
) -> list[dict[str, Any]]:
    """One row per replicate: `worker`, `contributionHash`, `agrees` (None when either hash is
    unknown), `revealed`, `reward` and `seized` (sums of this task's moves for that wallet)."""
    if task is None:
        return []
    task_id = task.chainTaskId
    consensus = task.consensus or (onchain.consensus_value if onchain else None)
    if consensus and int(consensus, 16) == 0:
        consensus = None
    mine = [m for m in moves if m.ref == task_id and m.name in ("Reward", "Seize")]
    rows = []
    for replicate in task.replicates:
        wallet = replicate.walletAddress
        contribution = replicate.contributionHash
        revealed = any(u.status is RS.REVEALED for u in replicate.statusUpdateList)
        rewarded = sum(m.amount for m in mine if m.name == "Reward" and same_address(m.owner, wallet))
        seized = sum(m.amount for m in mine if m.name == "Seize" and same_address(m.owner, wallet))
        rows.append(
            {
                "worker": wallet,
                "contributionHash": contribution,
                "agrees": (contribution == consensus) if (contribution and consensus) else None,
                "revealed": revealed,
                "reward": rewarded,
                "seized": seized,
            }
        )
    return rows
