"""The replicate engine: one pure function decides every replicate status change (spec §2.3–2.5, §2.8).

`decide_replicate(task, replicate, update, proof, now)` reads plain values: the task's fixed facts,
the replicate as stored, the proposed update (a worker's report, or the scheduler's own status as
POOL_MANAGER) and, for a status that the chain must confirm, what the chain said just before. It
returns `Accepted` (the history entry to append, what else the append writes, whether the task must
be looked at again, the next action for the worker) or `RefusedUpdate` (which rule refused it, a
sentence, and what the worker should do). It performs no I/O.

Every replicate status goes through it: workers' reports and batches (scheduler/replicates.py), detectors
(WORKER_LOST, unnotified contributions and reveals), recovery (RECOVERING) and the task engine's own
replicate changes (engine/reveal.py: upload requested, reveal timeout, upload timeout). The store appends an
Accepted as it is, guarded by the status the decision read.

Checks, in the reference's order (§2.4): the task is known, the replicate exists, the status is not
already in its history, the transition is allowed, the status-specific proof holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import Enum

from ...chain.base import ChainTask, Contribution
from ...protocol.consensus import worker_weight
from ...protocol.crypto import ZERO_BYTES32
from ...protocol.models import ComputeLogs, ReplicateStatusDetails
from ...protocol.statuses import (
    FAILED_BEFORE_COMPUTED,
)
from ...protocol.statuses import (
    ChainContributionStatus as CCS,
)
from ...protocol.statuses import (
    ChainTaskStatus as CTS,
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
from ...protocol.transitions import REPLICATE_TRANSITIONS, is_valid_replicate_transition, next_action
from ..state import NewReplicateUpdate, ReplicateEntry, ReplicateRecord, TaskState

# Statuses believed only once the chain shows them (spec §2.4 step 5): the caller reads the chain
# first and passes what it read as `ChainProof`.
NEEDS_CHAIN_PROOF = frozenset({RS.CONTRIBUTED, RS.REVEALED, RS.CONTRIBUTE_AND_FINALIZE_DONE})
# Accepted statuses that may move the task: the task engine looks at it again (spec §2.8, plus upload
# failures so that another revealer is asked at once).
TASK_TRIGGERS = (
    frozenset(
        {
            RS.STARTED,
            RS.CONTRIBUTED,
            RS.REVEALED,
            RS.RESULT_UPLOADED,
            RS.RESULT_UPLOAD_FAILED,
            RS.CONTRIBUTE_AND_FINALIZE_DONE,
        }
    )
    | FAILED_BEFORE_COMPUTED
)
FREES_COMPUTING_SLOT = frozenset({RS.COMPUTED}) | FAILED_BEFORE_COMPUTED
LEAVES_TASK = frozenset({RS.COMPLETED, RS.FAILED, RS.ABORTED})


class Refusal(str, Enum):
    """Why an update is refused (the reference's names where it has one, spec §2.4)."""

    UNKNOWN_TASK = "UNKNOWN_TASK"  # no such task in the scheduler
    UNKNOWN_REPLICATE = "UNKNOWN_REPLICATE"  # the worker holds no replicate of the task
    ALREADY_REPORTED = "ALREADY_REPORTED"  # the status is in the history already: nothing to do
    BAD_WORKFLOW_TRANSITION = "BAD_WORKFLOW_TRANSITION"  # not allowed from the current status
    NOT_ON_CHAIN = "NOT_ON_CHAIN"  # the chain does not show what the status claims
    MISSING_DETAILS = "MISSING_DETAILS"  # the update lacks what the status needs (a result link)


@dataclass(frozen=True)
class ProposedUpdate:
    """A status someone wants to append: a worker (WORKER) or the scheduler (POOL_MANAGER)."""

    status: RS
    modifier: Modifier = Modifier.WORKER
    details: ReplicateStatusDetails | None = None
    cause: Cause | None = None  # the scheduler's own cause; a worker's comes in details.cause
    message: str | None = None  # the scheduler's own sentence; a worker's comes in details.errorMessage


@dataclass(frozen=True)
class ChainProof:
    """What the chain said about this worker's contribution (and the task), read just before the
    decision. Only statuses in NEEDS_CHAIN_PROOF look at it."""

    contribution: Contribution | None = None
    score: int = 0
    task: ChainTask | None = None  # for CONTRIBUTE_AND_FINALIZE_DONE


NO_PROOF = ChainProof()


@dataclass(frozen=True)
class Accepted:
    """The entry to append and everything the append writes with it."""

    entry: NewReplicateUpdate
    next_action: Next
    contribution: tuple[str, int] | None = None  # (result hash, worker weight) verified on chain
    result_link: str | None = None
    callback_data: str | None = None
    logs: tuple[str, str, str | None] | None = None  # (stdout, stderr, TEE stages as JSON), tailed
    free_computing_slot: bool = False
    leave_task: bool = False
    task_update: bool = False  # the task engine must look at the task again


@dataclass(frozen=True)
class RefusedUpdate:
    refusal: Refusal
    message: str
    next_action: Next = Next.PLEASE_ABORT


Decision = Accepted | RefusedUpdate


def allowed_after(status: RS) -> str:
    targets = sorted(REPLICATE_TRANSITIONS[status], key=lambda s: s.ordinal)
    return ", ".join(s.value for s in targets) or "none: the replicate is final"


def decide_replicate(
    task: TaskState | None,
    replicate: ReplicateRecord | None,
    update: ProposedUpdate,
    proof: ChainProof,
    now: float,
    *,
    wallet: str = "",
) -> Decision:
    """Accepted or RefusedUpdate for one proposed status of one replicate (the only place that decides).

    `replicate` is the replicate as stored (None: the worker holds none); `wallet` names it in
    sentences when it is None. RECOVERING written by the scheduler may repeat (every restart shows
    in the history, docs/decisions.md 19); any other status is recorded at most once.
    """
    status = update.status
    if task is None:
        return RefusedUpdate(Refusal.UNKNOWN_TASK, "unknown task")
    task_id = task.chain_task_id
    if replicate is None:
        return RefusedUpdate(Refusal.UNKNOWN_REPLICATE, f"worker {wallet} holds no replicate of task {task_id}")
    wallet = replicate.wallet
    repeat_allowed = status is RS.RECOVERING and update.modifier is Modifier.POOL_MANAGER
    if replicate.has(status) and not repeat_allowed:
        return RefusedUpdate(Refusal.ALREADY_REPORTED, f"{status.value} is already reported", Next.PLEASE_WAIT)
    if not is_valid_replicate_transition(replicate.status, status):
        return RefusedUpdate(
            Refusal.BAD_WORKFLOW_TRANSITION,
            f"cannot go from {replicate.status.value} to {status.value} (allowed: {allowed_after(replicate.status)})",
        )
    verdict = _proof_of(task, wallet, update, proof)
    if isinstance(verdict, RefusedUpdate):
        return verdict
    contribution, result_link, callback_data = verdict
    details = update.details
    cause = details.cause if details and details.cause else update.cause
    return Accepted(
        entry=_entry(update, cause, now),
        next_action=next_action(status, cause, contribute_and_finalize=task.contribute_and_finalize),
        contribution=contribution,
        result_link=result_link,
        callback_data=callback_data,
        logs=_logs(details),
        free_computing_slot=status in FREES_COMPUTING_SLOT,
        leave_task=status in LEAVES_TASK,
        task_update=status in TASK_TRIGGERS,
    )


_Proven = tuple[tuple[str, int] | None, str | None, str | None]  # contribution, result link, callback data


def _proof_of(task: TaskState, wallet: str, update: ProposedUpdate, proof: ChainProof) -> _Proven | RefusedUpdate:
    """The status-specific checks (spec §2.4 step 5): on chain for CONTRIBUTED, REVEALED and
    CONTRIBUTE_AND_FINALIZE_DONE, in the update's details for RESULT_UPLOADED."""
    status, task_id = update.status, task.chain_task_id
    if status in NEEDS_CHAIN_PROOF:
        contribution = proof.contribution or Contribution()
        if status is RS.CONTRIBUTED:
            if contribution.status not in (CCS.CONTRIBUTED, CCS.PROVED) or contribution.result_hash == ZERO_BYTES32:
                return RefusedUpdate(
                    Refusal.NOT_ON_CHAIN,
                    f"the chain shows no contribution of worker {wallet} to task "
                    f"{task_id} (contribution {contribution.status.value})",
                )
            return (contribution.result_hash, worker_weight(proof.score)), None, None
        if contribution.status is not CCS.PROVED:
            return RefusedUpdate(
                Refusal.NOT_ON_CHAIN,
                f"the chain shows no reveal of worker {wallet} for task {task_id} "
                f"(contribution {contribution.status.value})",
            )
        if status is RS.CONTRIBUTE_AND_FINALIZE_DONE:
            chain_task = proof.task
            if chain_task is None or chain_task.status is not CTS.COMPLETED:
                shown = chain_task.status.value if chain_task else "unreadable"
                return RefusedUpdate(Refusal.NOT_ON_CHAIN, f"task {task_id} is {shown} on chain, not COMPLETED")
            return (contribution.result_hash, 0), chain_task.results.decode("utf-8", "replace") or None, None
        return None, None, None
    if status is RS.RESULT_UPLOADED:
        details = update.details
        link = (details.resultLink or "").strip() if details else ""
        callback = (details.chainCallbackData or "").strip() if details else ""
        if task.has_callback and not callback:
            return RefusedUpdate(
                Refusal.MISSING_DETAILS, "RESULT_UPLOADED of a callback deal needs details.chainCallbackData"
            )
        if not task.has_callback and not link:
            return RefusedUpdate(Refusal.MISSING_DETAILS, "RESULT_UPLOADED needs details.resultLink")
        return None, link or None, callback or None
    return None, None, None


def _entry(update: ProposedUpdate, cause: Cause | None, now: float) -> NewReplicateUpdate:
    details = update.details
    receipt = details.chainReceipt if details else None
    return NewReplicateUpdate(
        status=update.status,
        modifier=update.modifier,
        date=now,
        cause=cause,
        error_message=(details.errorMessage if details and details.errorMessage else update.message),
        exit_code=details.exitCode if details else None,
        block_number=receipt.blockNumber if receipt else None,
        tx_hash=receipt.txHash if receipt else None,
        result_link=details.resultLink if details else None,
        tee_session_error=details.teeSessionGenerationError if details else None,
        exit_causes=tuple((e.cause.value, e.message) for e in details.exitCauses)
        if details and details.exitCauses
        else None,
    )


def _logs(details: ReplicateStatusDetails | None) -> tuple[str, str, str | None] | None:
    if details is None or (details.computeLogs is None and not details.teeStages):
        return None
    tailed = (details.computeLogs or ComputeLogs()).tailed()
    stages = json.dumps([stage.tailed().wire() for stage in details.teeStages]) if details.teeStages else None
    return tailed.stdout, tailed.stderr, stages


def with_history(replicate: ReplicateRecord, accepted: Accepted) -> ReplicateRecord:
    """The replicate as it is once `accepted` is appended (a batch decides each update on it)."""
    entry = accepted.entry
    return replace(
        replicate, history=(*replicate.history, ReplicateEntry(entry.status, entry.date, entry.modifier, entry.cause))
    )
