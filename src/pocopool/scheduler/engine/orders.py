"""What the engine tells one worker, in the task's current status (spec/scheduler.md §2.6, §5.6).

The task engine sends these orders as notifications when a task changes status (PLEASE_REVEAL to the winners and
PLEASE_ABORT to the others at consensus, PLEASE_UPLOAD to the chosen revealer, PLEASE_COMPLETE at the
end); `standing_order` says which of them still stands for one replicate, so that a restarted
worker (`GET /replicates/interrupted`) is told the same thing the engine told it, or what its own
replicate flow says next (PLEASE_CONTRIBUTE, PLEASE_WAIT).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...protocol.statuses import (
    COMPLETION_PHASE,
    CONTRIBUTION_PHASE,
    REVEAL_PHASE,
    TaskAbortCause,
)
from ...protocol.statuses import (
    ReplicateStatus as RS,
)
from ...protocol.statuses import (
    TaskNotificationType as Next,
)
from ...protocol.statuses import (
    TaskStatus as TS,
)
from ..state import ReplicateRecord, TaskState
from .rules import is_winner


@dataclass(frozen=True)
class Order:
    type: Next
    abort_cause: TaskAbortCause | None = None


def consensus_order(replicate: ReplicateRecord, consensus: str | None) -> Order:
    """A holder's order once the consensus is `consensus`: reveal if it contributed it, else abort."""
    if consensus is not None and is_winner(replicate, consensus):
        return Order(Next.PLEASE_REVEAL)
    return Order(Next.PLEASE_ABORT, TaskAbortCause.CONSENSUS_REACHED)


def standing_order(task: TaskState, replicate: ReplicateRecord) -> Order | None:
    """What a restarted worker should do for this replicate now (None: nothing to recover)."""
    last = replicate.last_relevant
    if task.status in CONTRIBUTION_PHASE:
        if task.contribute_and_finalize and last in (RS.COMPUTED, RS.CONTRIBUTE_AND_FINALIZE_ONGOING):
            return Order(Next.PLEASE_CONTRIBUTE_AND_FINALIZE)
        if last is RS.CONTRIBUTE_AND_FINALIZE_DONE:
            return Order(Next.PLEASE_WAIT)
        if last.ordinal <= RS.CONTRIBUTING.ordinal and last not in (RS.START_FAILED, RS.COMPUTE_FAILED):
            return Order(Next.PLEASE_CONTRIBUTE)
        if last is RS.CONTRIBUTED:
            return Order(Next.PLEASE_WAIT)
        return None
    if task.status in REVEAL_PHASE:
        if task.status is TS.RESULT_UPLOADING and task.uploading_wallet == replicate.wallet:
            if last in (RS.RESULT_UPLOAD_REQUESTED, RS.RESULT_UPLOADING):
                return Order(Next.PLEASE_UPLOAD)
            if last is RS.RESULT_UPLOADED:
                return Order(Next.PLEASE_WAIT)
        if last in (RS.CONTRIBUTED, RS.REVEALING):
            return consensus_order(replicate, task.consensus)
        if last is RS.RESULT_UPLOAD_REQUESTED:
            return Order(Next.PLEASE_UPLOAD)
        if last in (RS.REVEALED, RS.RESULT_UPLOADED):
            return Order(Next.PLEASE_WAIT)
        if task.status is TS.CONSENSUS_REACHED and not replicate.has(RS.CONTRIBUTED):
            return consensus_order(replicate, task.consensus)
        return None
    if task.status in COMPLETION_PHASE and (
        replicate.has(RS.REVEALED) or replicate.has(RS.CONTRIBUTE_AND_FINALIZE_DONE)
    ):
        return Order(Next.PLEASE_COMPLETE if task.status is TS.COMPLETED else Next.PLEASE_WAIT)
    return None
