"""How a replicate follows the scheduler's answers (spec/worker.md §2.4, §4): the next-action handling.

The stages are replaced by scripted ones and the reporter by a recorder that answers like pocopool's
scheduler, so that each rule of the runner shows on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from pocopool.protocol.models import ReplicateStatusDetails, TaskNotification, TaskNotificationExtra
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
)
from pocopool.protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from pocopool.protocol.statuses import (
    TaskAbortCause,
)
from pocopool.protocol.statuses import (
    TaskNotificationType as Next,
)
from pocopool.protocol.time import SystemClock
from pocopool.protocol.transitions import next_action
from pocopool.worker import replicate as replicate_module
from pocopool.worker.config import WorkerConfig
from pocopool.worker.context import ReplicateContext
from pocopool.worker.logs import get_logger
from pocopool.worker.replicate import ReplicateRunner
from pocopool.worker.stages import Stage
from pocopool.worker.stages.outcome import Outcome, failed, succeeded
from pocopool.worker.state import ReplicateState
from pocopool.worker.workspace import TaskPaths
from proving import Report, assert_reported

TASK = "0x" + "7a" * 32


class Recorder:
    """Answers each status like the scheduler's next-action table, unless told otherwise."""

    def __init__(self, answers: dict[RS, Next | None] | None = None) -> None:
        self.sent: list[tuple[RS, Cause | None]] = []
        self.said: list[Report] = []  # each status as the proof helper reads it, with its message
        self.requests: list[list[RS]] = []  # the statuses of each request
        self.answers = answers or {}

    async def report(
        self, task: str, status: RS, details: ReplicateStatusDetails | None, *, deadline: float, log
    ) -> Next | None:  # type: ignore[no-untyped-def]
        return await self.report_many(task, [(status, details)], deadline=deadline, log=log)

    async def report_many(self, task: str, reports, *, deadline: float, log) -> Next | None:  # type: ignore[no-untyped-def]
        """Like the scheduler's batch: in order, the first refusal is the answer."""
        self.requests.append([status for status, _ in reports])
        answer: Next | None = None
        for status, details in reports:
            self.sent.append((status, details.cause if details else None))
            cause = details.cause.value if details and details.cause else None
            self.said.append((status.value, cause, details.errorMessage if details else None))
            answer = (
                self.answers[status]
                if status in self.answers
                else next_action(status, details.cause if details else None)
            )
            if answer in (None, Next.PLEASE_ABORT):
                break
        return answer


def stage(
    name: str, running: RS, done: RS, failure: RS, outcome: Outcome, delay: float = 0.0, ran: list | None = None
) -> Stage:
    async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
        if ran is not None:
            ran.append(name)
        await asyncio.sleep(delay)
        return outcome

    return Stage(name, running, done, failure, run)


def make_ctx(tmp_path: Path, status_hold: float) -> ReplicateContext:
    config = WorkerConfig(
        scheduler_url="http://unused", workdir=tmp_path, private_key="0x" + "b2" * 32, status_hold=status_hold
    )
    paths = TaskPaths(tmp_path / TASK)
    paths.root.mkdir()
    context = ReplicateContext(
        SimpleNamespace(config=config), TASK, paths, ReplicateState(TASK, {}), get_logger("test")
    )  # type: ignore[arg-type]
    context._description = SimpleNamespace(final_deadline=SystemClock().now() + 3600)  # type: ignore[assignment]
    return context


@pytest.fixture
def ctx(tmp_path: Path) -> ReplicateContext:
    """A runner that sends each status at once: the order of requests and stages, one by one."""
    return make_ctx(tmp_path, status_hold=0)


@pytest.fixture
def held(tmp_path: Path) -> ReplicateContext:
    """A runner that holds the statuses of quick stages (the default)."""
    return make_ctx(tmp_path, status_hold=0.2)


def push(action: Next, **extra: object) -> TaskNotification:
    return TaskNotification(
        chainTaskId=TASK,
        taskNotificationType=action,
        taskNotificationExtra=TaskNotificationExtra(**extra) if extra else None,
    )


def pipeline(monkeypatch: pytest.MonkeyPatch, ran: list[str], compute_delay: float = 0.0) -> None:
    monkeypatch.setattr(
        replicate_module,
        "STAGES",
        {
            Next.PLEASE_START: stage("start", RS.STARTING, RS.STARTED, RS.START_FAILED, succeeded(RS.STARTED), ran=ran),
            Next.PLEASE_DOWNLOAD_APP: stage(
                "app",
                RS.APP_DOWNLOADING,
                RS.APP_DOWNLOADED,
                RS.APP_DOWNLOAD_FAILED,
                failed(RS.APP_DOWNLOAD_FAILED, Cause.APP_IMAGE_DOWNLOAD_FAILED, "404"),
                ran=ran,
            ),
            Next.PLEASE_CONTRIBUTE: stage(
                "contribute", RS.CONTRIBUTING, RS.CONTRIBUTED, RS.CONTRIBUTE_FAILED, succeeded(RS.CONTRIBUTED), ran=ran
            ),
            Next.PLEASE_COMPUTE: stage(
                "compute",
                RS.COMPUTING,
                RS.COMPUTED,
                RS.COMPUTE_FAILED,
                succeeded(RS.COMPUTED),
                delay=compute_delay,
                ran=ran,
            ),
            Next.PLEASE_COMPLETE: stage(
                "complete", RS.COMPLETING, RS.COMPLETED, RS.COMPLETE_FAILED, succeeded(RS.COMPLETED), ran=ran
            ),
        },
    )


async def test_each_answer_drives_the_next_stage_and_wait_does_nothing(
    ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    pipeline(monkeypatch, ran)
    recorder = Recorder()
    runner = ReplicateRunner(ctx, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_START))
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.1)
    # STARTED → PLEASE_DOWNLOAD_APP; the download fails with a contributable cause → PLEASE_CONTRIBUTE;
    # CONTRIBUTED → PLEASE_WAIT: the runner waits for a push.
    assert ran == ["start", "app", "contribute"]
    assert recorder.sent == [
        (RS.STARTING, None),
        (RS.STARTED, None),
        (RS.APP_DOWNLOADING, None),
        (RS.APP_DOWNLOAD_FAILED, Cause.APP_IMAGE_DOWNLOAD_FAILED),
        (RS.CONTRIBUTING, None),
        (RS.CONTRIBUTED, None),
    ]
    assert not task.done() and not runner.computing  # a failure before COMPUTED frees the slot
    runner.deliver(push(Next.PLEASE_CONTRIBUTE))  # a replayed push: already done, skipped
    runner.deliver(push(Next.PLEASE_COMPLETE))
    await asyncio.wait_for(task, 2)
    assert ran == ["start", "app", "contribute", "complete"]
    assert recorder.sent[-2:] == [(RS.COMPLETING, None), (RS.COMPLETED, None)]
    assert ctx.state.reported[-1] == "COMPLETED"


async def test_a_refused_running_status_aborts_without_running_the_stage(
    ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    pipeline(monkeypatch, ran)
    recorder = Recorder({RS.STARTING: Next.PLEASE_ABORT})
    runner = ReplicateRunner(ctx, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_START))
    await asyncio.wait_for(runner.run(), 2)
    assert ran == []
    assert recorder.sent == [(RS.STARTING, None), (RS.ABORTED, Cause.UNKNOWN)]
    assert not ctx.paths.root.exists()
    assert_reported(
        recorder.said,
        status="ABORTED",
        cause="UNKNOWN",
        error="asked it to abort without a reason",
        component="scheduler",
        fix="decisive failure",
    )


async def test_a_failure_answered_with_abort_ends_in_aborted_for_the_same_cause(
    ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The abort answers the replicate's own failure: ABORTED says why (issue 17: never UNKNOWN while
    the real cause is known)."""
    ran: list[str] = []
    pipeline(monkeypatch, ran)
    recorder = Recorder({RS.APP_DOWNLOAD_FAILED: Next.PLEASE_ABORT})
    runner = ReplicateRunner(ctx, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_DOWNLOAD_APP))
    await asyncio.wait_for(runner.run(), 2)
    assert recorder.sent[-2:] == [
        (RS.APP_DOWNLOAD_FAILED, Cause.APP_IMAGE_DOWNLOAD_FAILED),
        (RS.ABORTED, Cause.APP_IMAGE_DOWNLOAD_FAILED),
    ]
    assert runner.finished


async def test_a_pushed_abort_cancels_the_running_stage_at_once(
    ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    pipeline(monkeypatch, ran, compute_delay=30)
    recorder = Recorder()
    runner = ReplicateRunner(ctx, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_COMPUTE))
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.1)
    assert runner.computing
    runner.deliver(push(Next.PLEASE_ABORT, taskAbortCause=TaskAbortCause.CONSENSUS_REACHED))
    await asyncio.wait_for(task, 2)
    assert recorder.sent == [(RS.COMPUTING, None), (RS.ABORTED, Cause.CONSENSUS_REACHED)]
    assert not ctx.paths.root.exists()


async def test_a_stopping_worker_keeps_the_replicate_state(
    ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    pipeline(monkeypatch, ran, compute_delay=30)
    runner = ReplicateRunner(ctx, Recorder(), SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_COMPUTE))
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ReplicateState.load(ctx.paths).reported == ["COMPUTING"]


async def test_a_replicate_is_dropped_when_its_final_deadline_has_passed(
    ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx._description = SimpleNamespace(final_deadline=SystemClock().now() - 1)  # type: ignore[assignment]
    runner = ReplicateRunner(ctx, Recorder(), SystemClock(), grace=0)  # type: ignore[arg-type]
    await asyncio.wait_for(runner.run(), 2)
    assert runner.finished and not ctx.paths.root.exists()


async def test_quick_stages_go_out_together_with_the_next_status_that_cannot_wait(
    held: ReplicateContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []
    pipeline(monkeypatch, ran)
    recorder = Recorder()
    runner = ReplicateRunner(held, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_START))
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.1)
    assert ran == ["start", "app", "contribute"]  # the same stages, in the same order as one by one
    assert recorder.requests == [
        [RS.STARTING, RS.STARTED, RS.APP_DOWNLOADING, RS.APP_DOWNLOAD_FAILED],  # a failure is not held
        [RS.CONTRIBUTING, RS.CONTRIBUTED],  # CONTRIBUTED waits for a push: sent at once
    ]
    assert ReplicateState.load(held.paths).reported[-1] == "CONTRIBUTED"  # saved once sent
    runner.deliver(push(Next.PLEASE_COMPLETE))
    await asyncio.wait_for(task, 2)
    assert recorder.requests[-1] == [RS.COMPLETING, RS.COMPLETED]


async def test_a_long_stage_shows_as_running_after_the_hold_time(
    held: ReplicateContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []
    pipeline(monkeypatch, ran, compute_delay=30)
    recorder = Recorder()
    runner = ReplicateRunner(held, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_COMPUTE))
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.05)
    assert recorder.requests == [] and runner.computing  # COMPUTING is held: the app has just started
    await asyncio.sleep(0.3)
    assert recorder.requests == [[RS.COMPUTING]]  # the hold time passed: it went alone
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_held_status_refused_later_stops_the_running_stage(
    held: ReplicateContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []
    pipeline(monkeypatch, ran, compute_delay=30)
    recorder = Recorder({RS.COMPUTING: Next.PLEASE_ABORT})
    runner = ReplicateRunner(held, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_COMPUTE))
    await asyncio.wait_for(runner.run(), 5)  # not the 30 s of the app
    assert recorder.requests == [[RS.COMPUTING], [RS.ABORTED]]
    assert runner.finished and not held.paths.root.exists()


async def test_a_state_save_landing_during_the_purge_does_not_bring_the_folder_back(
    held: ReplicateContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A held status sent on its timer saves the state when its answer comes; if that happens while
    # the complete stage deletes the folder, the save must not recreate it (COMPLETE_FAILED).
    from pocopool.worker.stages import complete

    real_purge = TaskPaths.purge

    def purge_with_a_save_landing(paths: TaskPaths) -> bool:
        real_purge(paths)
        held.save()  # what the timer's send does when its answer arrives
        return not paths.root.exists()

    monkeypatch.setattr(TaskPaths, "purge", purge_with_a_save_landing)
    held.save()
    assert held.paths.state.exists()
    outcome = await complete.run(held, push(Next.PLEASE_COMPLETE))
    assert outcome.status is RS.COMPLETED and not held.paths.root.exists()


class SlowRecorder(Recorder):
    """A scheduler that takes `latency` seconds to answer each request."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    async def report_many(self, task: str, reports, *, deadline: float, log) -> Next | None:  # type: ignore[no-untyped-def]
        await asyncio.sleep(self.latency)
        return await super().report_many(task, reports, deadline=deadline, log=log)


async def test_statuses_held_while_a_timed_send_is_in_flight_go_out_after_the_hold_time_too(
    held: ReplicateContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """STARTING goes on its timer to a slow scheduler; STARTED and APP_DOWNLOADING are held while that
    request is in flight, and the app download then takes long: they must not wait for its end."""
    monkeypatch.setattr(
        replicate_module,
        "STAGES",
        {
            Next.PLEASE_START: stage(
                "start", RS.STARTING, RS.STARTED, RS.START_FAILED, succeeded(RS.STARTED), delay=0.3
            ),
            Next.PLEASE_DOWNLOAD_APP: stage(
                "app", RS.APP_DOWNLOADING, RS.APP_DOWNLOADED, RS.APP_DOWNLOAD_FAILED, succeeded(RS.APP_DOWNLOADED), 60
            ),
        },
    )
    recorder = SlowRecorder(latency=0.4)
    runner = ReplicateRunner(held, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_START))
    task = asyncio.create_task(runner.run())
    try:
        for _ in range(200):  # up to 10 s, while the app download takes 60 s
            if [RS.STARTED, RS.APP_DOWNLOADING] in recorder.requests:
                break
            await asyncio.sleep(0.05)
        assert recorder.requests == [[RS.STARTING], [RS.STARTED, RS.APP_DOWNLOADING]], recorder.requests
        assert not task.done()  # the app download is still running
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
