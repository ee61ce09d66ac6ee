"""How a replicate follows the scheduler's answers (spec/worker.md §2.4, §4): the next-action handling.

The stages are replaced by scripted ones and the reporter by a recorder that answers like pocopool's
scheduler, so that each rule of the runner shows on its own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from pocopool.protocol.models import ReplicateStatusDetails, TaskNotification, TaskNotificationExtra
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
    ReplicateStatusCause as Cause,
    TaskAbortCause,
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

TASK = "0x" + "7a" * 32


class Recorder:
    """Answers each status like the scheduler's next-action table, unless told otherwise."""

    def __init__(self, answers: dict[RS, Next | None] | None = None) -> None:
        self.sent: list[tuple[RS, Cause | None]] = []
        self.answers = answers or {}

    async def report(self, task: str, status: RS, details: ReplicateStatusDetails | None, *, deadline: float, log) -> Next | None:  # type: ignore[no-untyped-def]
        self.sent.append((status, details.cause if details else None))
        if status in self.answers:
            return self.answers[status]
        return next_action(status, details.cause if details else None)


def stage(name: str, running: RS, done: RS, failure: RS, outcome: Outcome, delay: float = 0.0, ran: list | None = None) -> Stage:
    async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
        if ran is not None:
            ran.append(name)
        await asyncio.sleep(delay)
        return outcome

    return Stage(name, running, done, failure, run)


@pytest.fixture
def ctx(tmp_path: Path) -> ReplicateContext:
    config = WorkerConfig(scheduler_url="http://unused", workdir=tmp_path, private_key="0x" + "b2" * 32)
    paths = TaskPaths(tmp_path / TASK)
    paths.root.mkdir()
    context = ReplicateContext(SimpleNamespace(config=config), TASK, paths, ReplicateState(TASK, {}), get_logger("test"))  # type: ignore[arg-type]
    context._description = SimpleNamespace(final_deadline=SystemClock().now() + 3600)  # type: ignore[assignment]
    return context


def push(action: Next, **extra: object) -> TaskNotification:
    return TaskNotification(chainTaskId=TASK, taskNotificationType=action,
                            taskNotificationExtra=TaskNotificationExtra(**extra) if extra else None)


def pipeline(monkeypatch: pytest.MonkeyPatch, ran: list[str], compute_delay: float = 0.0) -> None:
    monkeypatch.setattr(replicate_module, "STAGES", {
        Next.PLEASE_START: stage("start", RS.STARTING, RS.STARTED, RS.START_FAILED, succeeded(RS.STARTED), ran=ran),
        Next.PLEASE_DOWNLOAD_APP: stage("app", RS.APP_DOWNLOADING, RS.APP_DOWNLOADED, RS.APP_DOWNLOAD_FAILED,
                                        failed(RS.APP_DOWNLOAD_FAILED, Cause.APP_IMAGE_DOWNLOAD_FAILED, "404"), ran=ran),
        Next.PLEASE_CONTRIBUTE: stage("contribute", RS.CONTRIBUTING, RS.CONTRIBUTED, RS.CONTRIBUTE_FAILED,
                                      succeeded(RS.CONTRIBUTED), ran=ran),
        Next.PLEASE_COMPUTE: stage("compute", RS.COMPUTING, RS.COMPUTED, RS.COMPUTE_FAILED, succeeded(RS.COMPUTED),
                                   delay=compute_delay, ran=ran),
        Next.PLEASE_COMPLETE: stage("complete", RS.COMPLETING, RS.COMPLETED, RS.COMPLETE_FAILED, succeeded(RS.COMPLETED), ran=ran),
    })


async def test_each_answer_drives_the_next_stage_and_wait_does_nothing(ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch) -> None:
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
        (RS.STARTING, None), (RS.STARTED, None), (RS.APP_DOWNLOADING, None),
        (RS.APP_DOWNLOAD_FAILED, Cause.APP_IMAGE_DOWNLOAD_FAILED), (RS.CONTRIBUTING, None), (RS.CONTRIBUTED, None),
    ]
    assert not task.done() and not runner.computing  # a failure before COMPUTED frees the slot
    runner.deliver(push(Next.PLEASE_CONTRIBUTE))  # a replayed push: already done, skipped
    runner.deliver(push(Next.PLEASE_COMPLETE))
    await asyncio.wait_for(task, 2)
    assert ran == ["start", "app", "contribute", "complete"]
    assert recorder.sent[-2:] == [(RS.COMPLETING, None), (RS.COMPLETED, None)]
    assert ctx.state.reported[-1] == "COMPLETED"


async def test_a_refused_running_status_aborts_without_running_the_stage(ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    pipeline(monkeypatch, ran)
    recorder = Recorder({RS.STARTING: Next.PLEASE_ABORT})
    runner = ReplicateRunner(ctx, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_START))
    await asyncio.wait_for(runner.run(), 2)
    assert ran == []
    assert recorder.sent == [(RS.STARTING, None), (RS.ABORTED, Cause.UNKNOWN)]
    assert not ctx.paths.root.exists()


async def test_a_failure_answered_with_abort_ends_in_aborted(ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    pipeline(monkeypatch, ran)
    recorder = Recorder({RS.APP_DOWNLOAD_FAILED: Next.PLEASE_ABORT})
    runner = ReplicateRunner(ctx, recorder, SystemClock())  # type: ignore[arg-type]
    runner.deliver(push(Next.PLEASE_DOWNLOAD_APP))
    await asyncio.wait_for(runner.run(), 2)
    assert recorder.sent[-2:] == [(RS.APP_DOWNLOAD_FAILED, Cause.APP_IMAGE_DOWNLOAD_FAILED), (RS.ABORTED, Cause.UNKNOWN)]
    assert runner.finished


async def test_a_pushed_abort_cancels_the_running_stage_at_once(ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch) -> None:
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


async def test_a_stopping_worker_keeps_the_replicate_state(ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch) -> None:
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


async def test_a_replicate_is_dropped_when_its_final_deadline_has_passed(ctx: ReplicateContext, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx._description = SimpleNamespace(final_deadline=SystemClock().now() - 1)  # type: ignore[assignment]
    runner = ReplicateRunner(ctx, Recorder(), SystemClock(), grace=0)  # type: ignore[arg-type]
    await asyncio.wait_for(runner.run(), 2)
    assert runner.finished and not ctx.paths.root.exists()
