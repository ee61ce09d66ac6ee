"""Allowed status transitions, kept as data (spec/scheduler.md §2.3, §1.5, §2.5).

`REPLICATE_TRANSITIONS` is built exactly the way the reference ReplicateWorkflow is built, so that
the table can be checked line by line against §2.3. `TASK_TRANSITIONS` lists what the task engine
may do (§1.5), with the reopen path made live (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

from .statuses import (
    IRRELEVANT_STATUSES,
)
from .statuses import (
    ReplicateStatus as RS,
)
from .statuses import (
    ReplicateStatusCause as Cause,
)
from .statuses import (
    TaskNotificationType as Next,
)
from .statuses import (
    TaskStatus as TS,
)

_DEFAULT_PATH: dict[RS, tuple[RS, ...]] = {
    RS.CREATED: (RS.STARTING,),
    RS.STARTING: (RS.STARTED, RS.START_FAILED),
    RS.STARTED: (RS.APP_DOWNLOADING,),
    RS.APP_DOWNLOADING: (RS.APP_DOWNLOADED, RS.APP_DOWNLOAD_FAILED),
    RS.APP_DOWNLOAD_FAILED: (RS.CONTRIBUTING,),
    RS.APP_DOWNLOADED: (RS.DATA_DOWNLOADING,),
    RS.DATA_DOWNLOADING: (RS.DATA_DOWNLOADED, RS.DATA_DOWNLOAD_FAILED),
    RS.DATA_DOWNLOAD_FAILED: (RS.CONTRIBUTING,),
    RS.DATA_DOWNLOADED: (RS.COMPUTING,),
    RS.COMPUTING: (RS.COMPUTED, RS.COMPUTE_FAILED),
    RS.COMPUTED: (RS.CONTRIBUTING, RS.CONTRIBUTE_AND_FINALIZE_ONGOING),
    RS.CONTRIBUTING: (RS.CONTRIBUTED, RS.CONTRIBUTE_FAILED),
    RS.CONTRIBUTED: (RS.REVEALING,),
    RS.REVEALING: (RS.REVEALED, RS.REVEAL_FAILED),
    RS.REVEALED: (RS.RESULT_UPLOAD_REQUESTED, RS.COMPLETING),
    RS.RESULT_UPLOAD_REQUESTED: (RS.RESULT_UPLOADING,),
    RS.RESULT_UPLOADING: (RS.RESULT_UPLOADED, RS.RESULT_UPLOAD_FAILED),
    RS.RESULT_UPLOAD_FAILED: (RS.COMPLETING,),
    RS.RESULT_UPLOADED: (RS.COMPLETING,),
    RS.CONTRIBUTE_AND_FINALIZE_ONGOING: (RS.CONTRIBUTE_AND_FINALIZE_DONE, RS.CONTRIBUTE_AND_FINALIZE_FAILED),
    RS.CONTRIBUTE_AND_FINALIZE_DONE: (RS.COMPLETING,),
    RS.COMPLETING: (RS.COMPLETED, RS.COMPLETE_FAILED),
}

_FAILABLE = tuple(list(RS)[: RS.REVEAL_FAILED.ordinal + 1]) + (
    RS.CONTRIBUTE_AND_FINALIZE_ONGOING,
    RS.CONTRIBUTE_AND_FINALIZE_FAILED,
    RS.ABORTED,
)
_NON_FINAL_WORKFLOW = tuple(list(RS)[: RS.COMPLETE_FAILED.ordinal + 1])
_WORKFLOW = _NON_FINAL_WORKFLOW + (RS.COMPLETED, RS.FAILED)
_RECOVERABLE = (
    RS.CREATED,
    RS.STARTING,
    RS.STARTED,
    RS.APP_DOWNLOADING,
    RS.APP_DOWNLOAD_FAILED,
    RS.APP_DOWNLOADED,
    RS.DATA_DOWNLOADING,
    RS.DATA_DOWNLOAD_FAILED,
    RS.DATA_DOWNLOADED,
    RS.COMPUTING,
    RS.COMPUTED,
    RS.CONTRIBUTING,
    RS.CONTRIBUTED,
    RS.REVEALING,
    RS.REVEALED,
    RS.RESULT_UPLOAD_REQUESTED,
    RS.RESULT_UPLOADING,
    RS.RESULT_UPLOAD_FAILED,
    RS.RESULT_UPLOADED,
    RS.CONTRIBUTE_AND_FINALIZE_ONGOING,
    RS.CONTRIBUTE_AND_FINALIZE_DONE,
    RS.CONTRIBUTE_AND_FINALIZE_FAILED,
    RS.COMPLETING,
    RS.RECOVERING,
)


def _build_replicate_table() -> dict[RS, frozenset[RS]]:
    table: dict[RS, set[RS]] = {status: set() for status in RS}

    def add(sources: Iterable[RS], targets: Iterable[RS]) -> None:
        for source in sources:
            table[source].update(targets)

    for source, targets in _DEFAULT_PATH.items():
        add([source], targets)
    add(_FAILABLE + (RS.WORKER_LOST, RS.RECOVERING), [RS.FAILED])
    # WORKER_LOST in and out.
    add(_NON_FINAL_WORKFLOW + (RS.ABORTED, RS.RECOVERING), [RS.WORKER_LOST])
    add([RS.WORKER_LOST], _WORKFLOW + (RS.RECOVERING, RS.ABORTED))
    # RECOVERING in and out: out is every status but CREATED and STARTING.
    add(_RECOVERABLE, [RS.RECOVERING])
    add([RS.RECOVERING], [s for s in RS if s not in (RS.CREATED, RS.STARTING)])
    # ABORTED in and out.
    add(_NON_FINAL_WORKFLOW + (RS.WORKER_LOST,), [RS.ABORTED])
    add([RS.ABORTED], [RS.FAILED, RS.WORKER_LOST, RS.COMPLETED])
    table[RS.WORKER_LOST].discard(RS.WORKER_LOST)
    # pocopool: the scheduler ends an upload request nobody acted on (docs/decisions.md, upload timeout).
    table[RS.RESULT_UPLOAD_REQUESTED].add(RS.RESULT_UPLOAD_FAILED)
    return {status: frozenset(targets) for status, targets in table.items()}


REPLICATE_TRANSITIONS: Mapping[RS, frozenset[RS]] = _build_replicate_table()


def is_valid_replicate_transition(current: RS, new: RS) -> bool:
    return new in REPLICATE_TRANSITIONS[current]


_TO_FAILED_VIA = {TS.FINAL_DEADLINE_REACHED}
TASK_TRANSITIONS: Mapping[TS, frozenset[TS]] = {
    TS.RECEIVED: frozenset({TS.INITIALIZING, TS.INITIALIZE_FAILED, TS.FINAL_DEADLINE_REACHED}),
    TS.INITIALIZING: frozenset({TS.INITIALIZED, TS.INITIALIZE_FAILED, TS.FINAL_DEADLINE_REACHED}),
    TS.INITIALIZED: frozenset({TS.RUNNING, TS.CONTRIBUTION_TIMEOUT, TS.FINAL_DEADLINE_REACHED}),
    TS.RUNNING: frozenset(
        {
            TS.CONSENSUS_REACHED,
            TS.FINALIZED,
            TS.RUNNING_FAILED,
            TS.CONTRIBUTION_TIMEOUT,
            TS.FINAL_DEADLINE_REACHED,
        }
    ),
    TS.CONSENSUS_REACHED: frozenset({TS.AT_LEAST_ONE_REVEALED, TS.REOPENING, TS.FINAL_DEADLINE_REACHED}),
    # AT_LEAST_ONE_REVEALED: a winner's reveal mined before the reopen, on a ledger whose clock lags (decision 132)
    TS.REOPENING: frozenset({TS.REOPENED, TS.AT_LEAST_ONE_REVEALED, TS.REOPEN_FAILED, TS.FINAL_DEADLINE_REACHED}),
    TS.REOPENED: frozenset({TS.INITIALIZED, TS.FINAL_DEADLINE_REACHED}),
    TS.AT_LEAST_ONE_REVEALED: frozenset({TS.RESULT_UPLOADING, TS.FINAL_DEADLINE_REACHED}),
    TS.RESULT_UPLOADING: frozenset({TS.RESULT_UPLOADED, TS.RESULT_UPLOAD_TIMEOUT, TS.FINAL_DEADLINE_REACHED}),
    TS.RESULT_UPLOADED: frozenset({TS.FINALIZING, TS.FINALIZE_FAILED, TS.FINAL_DEADLINE_REACHED}),
    TS.FINALIZING: frozenset({TS.FINALIZED, TS.FINALIZE_FAILED, TS.FINAL_DEADLINE_REACHED}),
    TS.FINALIZED: frozenset({TS.COMPLETED}),
    TS.INITIALIZE_FAILED: frozenset({TS.FAILED}),
    TS.RUNNING_FAILED: frozenset({TS.FAILED}),
    TS.CONTRIBUTION_TIMEOUT: frozenset({TS.FAILED}),
    TS.REOPEN_FAILED: frozenset({TS.FAILED}),
    TS.RESULT_UPLOAD_TIMEOUT: frozenset({TS.FAILED}),
    TS.FINALIZE_FAILED: frozenset({TS.FAILED}),
    TS.FINAL_DEADLINE_REACHED: frozenset({TS.FAILED}),
    TS.COMPLETED: frozenset(),
    TS.FAILED: frozenset(),
}


def is_valid_task_transition(current: TS, new: TS) -> bool:
    return new in TASK_TRANSITIONS[current]


def is_valid_task_path(current: TS, path: Iterable[TS]) -> bool:
    """True if each status of `path` may follow the previous one, starting from `current`."""
    for status in path:
        if not is_valid_task_transition(current, status):
            return False
        current = status
    return True


# Download failures whose error result is still contributed (spec §2.5, worker §6.5).
CONTRIBUTABLE_FAILURES: Mapping[RS, frozenset[Cause]] = {
    RS.APP_DOWNLOAD_FAILED: frozenset({Cause.APP_IMAGE_DOWNLOAD_FAILED}),
    RS.DATA_DOWNLOAD_FAILED: frozenset(
        {
            Cause.DATASET_FILE_DOWNLOAD_FAILED,
            Cause.DATASET_FILE_BAD_CHECKSUM,
            Cause.INPUT_FILES_DOWNLOAD_FAILED,
        }
    ),
}

# Replicates in these statuses will never contribute: they weigh nothing in the prediction.
_WILL_NOT_CONTRIBUTE = frozenset(
    {
        RS.START_FAILED,
        RS.COMPUTE_FAILED,
        RS.CONTRIBUTE_FAILED,
        RS.FAILED,
        RS.ABORTED,
        RS.COMPLETED,
        RS.CONTRIBUTE_AND_FINALIZE_FAILED,
        RS.COMPLETE_FAILED,
    }
)


class _HasStatus(Protocol):
    @property
    def status(self) -> RS: ...


E = TypeVar("E", bound=_HasStatus)


def last_relevant(history: Sequence[E]) -> E:
    """The last entry of a replicate's history that says something about its progress: not
    WORKER_LOST or RECOVERING (spec/scheduler.md §2.7); the first one when none does."""
    for entry in reversed(history):
        if entry.status not in IRRELEVANT_STATUSES:
            return entry
    return history[0]


def may_still_contribute(current: RS, last_relevant: RS, cause: Cause | None, age: float, period: float) -> bool:
    """Whether a replicate that has not contributed yet still counts as a vote to come, in the
    consensus prediction (spec/scheduler.md §5.4) and in what `task show` says the supply will do.

    `last_relevant` is its last status other than WORKER_LOST and RECOVERING, `cause` that status's
    cause, `age` the seconds since it was created, `period` the category's time reference. It counts
    for one period after its creation, unless it failed for good or its worker is lost now: unlike
    the reference, a lost worker's place goes at once to the next worker that asks
    (docs/decisions.md)."""
    if current is RS.WORKER_LOST or age >= period or last_relevant in _WILL_NOT_CONTRIBUTE:
        return False
    if last_relevant in CONTRIBUTABLE_FAILURES:
        # A download failure is contributed as an error result only for the causes that allow it.
        return cause is None or cause in CONTRIBUTABLE_FAILURES[last_relevant]
    return True


_NEXT_ACTION: Mapping[RS, Next] = {
    RS.STARTING: Next.PLEASE_CONTINUE,
    RS.STARTED: Next.PLEASE_DOWNLOAD_APP,
    RS.START_FAILED: Next.PLEASE_ABORT,
    RS.APP_DOWNLOADING: Next.PLEASE_CONTINUE,
    RS.APP_DOWNLOADED: Next.PLEASE_DOWNLOAD_DATA,
    RS.APP_DOWNLOAD_FAILED: Next.PLEASE_ABORT,
    RS.DATA_DOWNLOADING: Next.PLEASE_CONTINUE,
    RS.DATA_DOWNLOADED: Next.PLEASE_COMPUTE,
    RS.DATA_DOWNLOAD_FAILED: Next.PLEASE_ABORT,
    RS.COMPUTING: Next.PLEASE_CONTINUE,
    RS.COMPUTED: Next.PLEASE_CONTRIBUTE,
    RS.COMPUTE_FAILED: Next.PLEASE_ABORT,
    RS.CONTRIBUTING: Next.PLEASE_CONTINUE,
    RS.CONTRIBUTED: Next.PLEASE_WAIT,
    RS.CONTRIBUTE_FAILED: Next.PLEASE_ABORT,
    RS.REVEALING: Next.PLEASE_CONTINUE,
    RS.REVEALED: Next.PLEASE_WAIT,
    RS.REVEAL_FAILED: Next.PLEASE_ABORT,
    RS.RESULT_UPLOADING: Next.PLEASE_CONTINUE,
    RS.RESULT_UPLOADED: Next.PLEASE_WAIT,
    RS.RESULT_UPLOAD_FAILED: Next.PLEASE_ABORT,
    RS.CONTRIBUTE_AND_FINALIZE_ONGOING: Next.PLEASE_CONTINUE,
    RS.CONTRIBUTE_AND_FINALIZE_DONE: Next.PLEASE_WAIT,
    RS.CONTRIBUTE_AND_FINALIZE_FAILED: Next.PLEASE_ABORT,
    RS.COMPLETING: Next.PLEASE_CONTINUE,
    RS.COMPLETED: Next.PLEASE_WAIT,
    RS.COMPLETE_FAILED: Next.PLEASE_ABORT,
}


def next_action(status: RS, cause: Cause | None, *, contribute_and_finalize: bool = False) -> Next:
    """The action the scheduler answers to an accepted status update (spec §2.5).

    Statuses without an entry in the reference (CREATED, RESULT_UPLOAD_REQUESTED, FAILED, ABORTED,
    RECOVERING, WORKER_LOST) answer PLEASE_WAIT instead of an empty body (docs/decisions.md).
    """
    if status is RS.COMPUTED and contribute_and_finalize:
        return Next.PLEASE_CONTRIBUTE_AND_FINALIZE
    if status in CONTRIBUTABLE_FAILURES and cause is not None:
        return Next.PLEASE_CONTRIBUTE if cause in CONTRIBUTABLE_FAILURES[status] else Next.PLEASE_ABORT
    return _NEXT_ACTION.get(status, Next.PLEASE_WAIT)
