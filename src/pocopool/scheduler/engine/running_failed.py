"""RUNNING_FAILED: a task no worker of the pool can run ends now, not at its contribution deadline
(spec/scheduler.md §1.3 step 5, widened by docs/decisions.md 111).

The reference fails a TEE task when every alive worker holds a replicate of it that failed before
COMPUTED. pocopool applies the rule to every task, with one more condition for a standard task:
each of those failures has a cause the app or its input owns (Origin APP or INPUT: the app exited
with an error or wrote no computed.json, the arguments cannot be split, a dataset is missing…).
Such a failure is the same on any worker; a platform failure (a download timed out, a disk was
full) may not be, and a standard task keeps waiting for a worker that may succeed. A TEE task keeps
the reference's rule as it is: any failure before COMPUTED counts.

A replicate counts from its failure on, also after it reported ABORTED (the worker's answer to the
PLEASE_ABORT that follows a failure), so the rule does not depend on which report arrives first.
On chain the task stays ACTIVE: the requester's refund (`claim`) opens at the final deadline, as the
protocol says; off chain the workers are freed and the requester knows at once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ...protocol.explanations import Origin, explain_cause
from ...protocol.statuses import FAILED_BEFORE_COMPUTED, TaskAbortCause
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import TaskStatus as TS
from ...protocol.task_causes import TaskFailureCause
from ..state import ReplicateEntry, ReplicateRecord, TaskState
from .rules import fail_task
from .transition import NOTHING, Transition

_AFTER_A_FAILURE = frozenset({*FAILED_BEFORE_COMPUTED, RS.ABORTED, RS.FAILED})
_NOT_THE_WORKERS_FAULT = frozenset({Origin.APP, Origin.INPUT})


def failure_before_computed(replicate: ReplicateRecord) -> ReplicateEntry | None:
    """The entry of the replicate's failure before COMPUTED, if it failed there and went no further."""
    if replicate.has(RS.COMPUTED) or replicate.last_relevant not in _AFTER_A_FAILURE:
        return None
    return next((entry for entry in replicate.history if entry.status in FAILED_BEFORE_COMPUTED), None)


def _fails_everywhere(entry: ReplicateEntry) -> bool:
    return entry.cause is not None and explain_cause(entry.cause).origin in _NOT_THE_WORKERS_FAULT


def running_failed(
    task: TaskState, replicates: Sequence[ReplicateRecord], alive_workers: Collection[str] | None
) -> Transition:
    """RUNNING_FAILED, FAILED when every alive worker failed the task as the module says; NOTHING
    otherwise. With no alive worker (or unknown liveness) nothing is decided: the reference fails a
    TEE task then (vacuous truth), pocopool waits for a worker (docs/decisions.md)."""
    if not alive_workers:
        return NOTHING
    mine = {r.wallet.lower(): r for r in replicates}
    failures: list[tuple[ReplicateRecord, ReplicateEntry]] = []
    for wallet in {w.lower() for w in alive_workers}:
        replicate = mine.get(wallet)
        if replicate is None:
            return NOTHING
        entry = failure_before_computed(replicate)
        if entry is None or (task.tee_framework is None and not _fails_everywhere(entry)):
            return NOTHING
        failures.append((replicate, entry))
    listed = ", ".join(
        sorted(f"{r.wallet} {e.status.value}{f' ({e.cause.value})' if e.cause else ''}" for r, e in failures)
    )
    if task.tee_framework is not None:
        message = f"every alive worker failed the TEE task before computing ({listed})"
    else:
        message = (
            f"every alive worker failed the task before computing, each for a cause of the app or its input "
            f"({listed}): no worker of this pool can run it as it is"
        )
    return fail_task(
        replicates, TS.RUNNING_FAILED, TaskFailureCause.ALL_ALIVE_WORKERS_FAILED, message, abort=TaskAbortCause.UNKNOWN
    )
