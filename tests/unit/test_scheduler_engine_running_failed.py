"""RUNNING_FAILED for every task (scheduler/engine/running_failed.py, decision 111): a task every alive
worker failed before computing, for a cause of the app or its input, ends at once instead of waiting
out its contribution deadline; a platform failure keeps it waiting for a worker that may succeed."""

from __future__ import annotations

from test_scheduler_engine_tee import T0, W1, W2, W3, chain, statuses, task

from pocopool.protocol.statuses import ReplicateStatus as RS
from pocopool.protocol.statuses import ReplicateStatusCause as Cause
from pocopool.protocol.statuses import ReplicateStatusModifier as Modifier
from pocopool.protocol.statuses import TaskNotificationType as Next
from pocopool.protocol.statuses import TaskStatus as TS
from pocopool.scheduler.engine import decide
from pocopool.scheduler.engine.running_failed import failure_before_computed
from pocopool.scheduler.state import ReplicateEntry, ReplicateRecord

STANDARD_TAG = "0x" + "00" * 32
RUNNING = (RS.STARTING, RS.STARTED, RS.APP_DOWNLOADING, RS.APP_DOWNLOADED, RS.DATA_DOWNLOADING, RS.DATA_DOWNLOADED)


def standard(status: TS = TS.RUNNING):
    return task(status, tag=STANDARD_TAG, enclave_challenge=None)


def replicate(wallet: str, *steps: RS | tuple[RS, Cause]) -> ReplicateRecord:
    entries = [ReplicateEntry(RS.CREATED, T0, Modifier.POOL_MANAGER)]
    for i, step in enumerate(steps, start=1):
        status, cause = step if isinstance(step, tuple) else (step, None)
        entries.append(ReplicateEntry(status, T0 + i, Modifier.WORKER, cause))
    return ReplicateRecord(wallet=wallet, history=tuple(entries), worker_weight=2)


def app_failed(wallet: str, *then: RS | tuple[RS, Cause]) -> ReplicateRecord:
    return replicate(wallet, *RUNNING, RS.COMPUTING, (RS.COMPUTE_FAILED, Cause.APP_COMPUTE_FAILED), *then)


def test_every_alive_worker_failed_for_the_app_ends_a_standard_task_at_once() -> None:
    reps = [app_failed(W1), app_failed(W2, (RS.ABORTED, Cause.APP_COMPUTE_FAILED))]
    t = decide(standard(), reps, chain(), T0 + 10, alive_workers={W1, W2})
    assert statuses(t) == [TS.RUNNING_FAILED, TS.FAILED]
    assert t.statuses[0].cause == "ALL_ALIVE_WORKERS_FAILED"
    assert "COMPUTE_FAILED (APP_COMPUTE_FAILED)" in t.statuses[0].message
    assert "no worker of this pool can run it" in t.statuses[0].message
    # W2 already stopped (ABORTED): only W1, still holding its failed replicate, is told to abort
    assert [(n.type, set(n.wallets)) for n in t.notifications] == [(Next.PLEASE_ABORT, {W1})]


def test_arguments_that_cannot_be_split_end_the_task_even_before_it_runs() -> None:
    refused = replicate(W1, RS.STARTING, (RS.START_FAILED, Cause.INPUT_FILES_DOWNLOAD_FAILED))
    t = decide(standard(TS.INITIALIZED), [refused], chain(), T0 + 10, alive_workers={W1})
    assert statuses(t) == [TS.RUNNING, TS.RUNNING_FAILED, TS.FAILED]


def test_a_worker_that_has_not_tried_keeps_the_task_running() -> None:
    assert decide(standard(), [app_failed(W1)], chain(), T0 + 10, alive_workers={W1, W3}).is_empty


def test_a_failure_of_the_platform_keeps_the_task_waiting_for_another_worker() -> None:
    unknown = replicate(W2, *RUNNING, RS.COMPUTING, (RS.COMPUTE_FAILED, Cause.UNKNOWN))
    assert decide(standard(), [app_failed(W1), unknown], chain(), T0 + 10, alive_workers={W1, W2}).is_empty


def test_a_replicate_that_computed_or_is_still_running_has_no_failure_before_computed() -> None:
    assert failure_before_computed(replicate(W1, *RUNNING, RS.COMPUTING, RS.COMPUTED)) is None
    assert failure_before_computed(replicate(W1, *RUNNING)) is None
    entry = failure_before_computed(app_failed(W1, (RS.ABORTED, Cause.APP_COMPUTE_FAILED)))
    assert entry is not None and (entry.status, entry.cause) == (RS.COMPUTE_FAILED, Cause.APP_COMPUTE_FAILED)
    lost = app_failed(W1, RS.WORKER_LOST)  # WORKER_LOST says nothing about progress: still failed
    assert failure_before_computed(lost) is not None


def test_no_alive_worker_decides_nothing() -> None:
    assert decide(standard(), [app_failed(W1)], chain(), T0 + 10, alive_workers=set()).is_empty
