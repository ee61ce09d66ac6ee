"""The rules several steps of the task engine share: the scheduler's own replicate statuses, who
still holds a replicate, how a task fails or completes, who won the consensus.

Each builds part of a `Transition` (transition.py) from plain values; none performs I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ...protocol.statuses import (
    FINAL_REPLICATE_STATUSES,
    TaskAbortCause,
)
from ...protocol.statuses import (
    ReplicateStatus as RS,
)
from ...protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from ...protocol.statuses import (
    ReplicateStatusModifier as Modifier,
)
from ...protocol.statuses import (
    TaskNotificationType as Next,
)
from ...protocol.statuses import (
    TaskStatus as TS,
)
from ...protocol.task_causes import TaskFailureCause
from ..state import ReplicateRecord, TaskState
from .replicates import NO_PROOF, Accepted, ProposedUpdate, decide_replicate
from .transition import ChainAction, Notification, ReplicateChange, StatusChange, Transition, TxOutcome


def pool_change(
    task: TaskState,
    replicate: ReplicateRecord,
    status: RS,
    now: float,
    cause: Cause | None = None,
    message: str | None = None,
) -> ReplicateChange | None:
    """The scheduler's own status for a replicate, if the replicate rule accepts it (None: refused)."""
    decision = decide_replicate(
        task, replicate, ProposedUpdate(status, Modifier.POOL_MANAGER, cause=cause, message=message), NO_PROOF, now
    )
    if not isinstance(decision, Accepted):
        return None
    return ReplicateChange(replicate.wallet, replicate.status, decision)


# A replicate in one of these is over for the scheduler: it gets no more notifications.
ENDED = FINAL_REPLICATE_STATUSES | {RS.ABORTED}


def holders(replicates: Sequence[ReplicateRecord]) -> tuple[str, ...]:
    """Wallets of the workers still holding a replicate of the task (not ended)."""
    return tuple(r.wallet for r in replicates if r.status not in ENDED)


def accepted_changes(changes: Iterable[ReplicateChange | None]) -> tuple[ReplicateChange, ...]:
    return tuple(change for change in changes if change is not None)


def fail_task(
    replicates: Sequence[ReplicateRecord],
    status: TS,
    cause: TaskFailureCause,
    message: str,
    abort: TaskAbortCause | None = TaskAbortCause.UNKNOWN,
) -> Transition:
    """An intermediate failure status written together with FAILED; holders are told to abort."""
    wallets = holders(replicates)
    notifications = (Notification(Next.PLEASE_ABORT, wallets, abort_cause=abort),) if wallets else ()
    return Transition(
        statuses=(StatusChange(status, cause, message), StatusChange(TS.FAILED)),
        notifications=notifications,
    )


def complete_task(replicates: Sequence[ReplicateRecord], tx: TxOutcome | None) -> Transition:
    receipt = tx if tx is not None and tx.action is ChainAction.FINALIZE and tx.mined else None
    wallets = holders(replicates)
    return Transition(
        statuses=(
            StatusChange(
                TS.FINALIZED,
                message="the task is finalized on chain",
                block_number=receipt.block_number if receipt else None,
                tx_hash=receipt.tx_hash if receipt else None,
            ),
            StatusChange(TS.COMPLETED),
        ),
        notifications=(Notification(Next.PLEASE_COMPLETE, wallets),) if wallets else (),
    )


def is_winner(replicate: ReplicateRecord, consensus: str) -> bool:
    """The replicate contributed the consensus value (reported CONTRIBUTED, hash verified on chain)."""
    return (
        replicate.has(RS.CONTRIBUTED)
        and replicate.contribution_hash is not None
        and replicate.contribution_hash.lower() == consensus.lower()
        and replicate.last_relevant is not RS.FAILED  # failed by a reveal timeout before a reopen: out of the game
    )


def consensus_winners(task: TaskState, replicates: Sequence[ReplicateRecord], consensus: str) -> list[ReplicateRecord]:
    """Replicates that contributed the consensus value."""
    return [r for r in replicates if is_winner(r, consensus)]
