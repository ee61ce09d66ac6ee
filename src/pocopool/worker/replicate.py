"""One replicate's life on this worker: follow the scheduler's requests, one stage at a time.

Requests come from three places — the local PLEASE_START after asking for work, the next action the
scheduler answers to each status update, and pushes (PLEASE_REVEAL, PLEASE_UPLOAD, PLEASE_COMPLETE,
PLEASE_ABORT) — and are queued here. For each request the runner sends the "…ING" status, runs the
stage, sends the stage's outcome and queues the answer (spec/worker.md §2.4). A PLEASE_ABORT cancels
the running stage at once (the runtime kills the app), purges the task folder and reports ABORTED.

The runner ends after COMPLETED or ABORTED, or when the task's final deadline has passed. When the
worker stops, the runner is cancelled: the app is killed and state.json stays for recovery.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque

from ..chain.base import ChainError
from ..protocol.models import ReplicateStatusDetails, TaskNotification
from ..protocol.statuses import FAILURE_STATUSES
from ..protocol.statuses import ReplicateStatus as RS
from ..protocol.statuses import ReplicateStatusCause as Cause
from ..protocol.statuses import TaskNotificationType as Next
from ..protocol.time import Clock
from ..protocol.transitions import next_action
from .context import ReplicateContext
from .description import DescriptionUnavailable
from .stages import STAGES, Stage, abort
from .stages.outcome import Outcome, failed
from .status import StatusReporter

# Statuses after which the scheduler still counts this replicate in the worker's computing slots.
_COMPUTING = frozenset(
    {
        None,
        RS.STARTING,
        RS.STARTED,
        RS.APP_DOWNLOADING,
        RS.APP_DOWNLOADED,
        RS.DATA_DOWNLOADING,
        RS.DATA_DOWNLOADED,
        RS.COMPUTING,
    }
)
# Statuses a runner may hold back, when they carry no failure cause, and send in one request with the
# next status it must send at once: the scheduler's answer to each is known in advance (the protocol's
# next action: continue, or the next stage), so nothing waits for it. A quick replicate thus makes
# five status requests instead of eighteen (bench/RESULTS.md). Held statuses are sent anyway after
# `status_hold` seconds, so a long stage still shows as running.
HOLDABLE = frozenset(
    {
        RS.STARTING,
        RS.STARTED,
        RS.APP_DOWNLOADING,
        RS.APP_DOWNLOADED,
        RS.DATA_DOWNLOADING,
        RS.DATA_DOWNLOADED,
        RS.COMPUTING,
        RS.CONTRIBUTING,
        RS.REVEALING,
        RS.RESULT_UPLOADING,
        RS.COMPLETING,
    }
)
_FAULT_SKIPS = {Next.PLEASE_REVEAL: "no-reveal", Next.PLEASE_UPLOAD: "no-upload"}
CRASH_EXIT_CODE = 70  # the `crash-after-contribute` fault's exit status
DEFAULT_GRACE = 60.0  # s after the final deadline during which a last push (abort) is still awaited
UNKNOWN_DEADLINE_WAIT = 600.0  # s, when the task's deadline cannot be read


def local_notification(chain_task_id: str, action: Next) -> TaskNotification:
    return TaskNotification(chainTaskId=chain_task_id, taskNotificationType=action)


class ReplicateRunner:
    def __init__(
        self,
        ctx: ReplicateContext,
        reporter: StatusReporter,
        clock: Clock,
        *,
        grace: float = DEFAULT_GRACE,
        recovered: bool = False,
    ) -> None:
        self.ctx = ctx
        self.recovered = recovered  # resumed after a restart: its result exists, it holds no slot
        self.reporter = reporter
        self.clock = clock
        self.grace = grace
        self.finished = False
        self._queue: deque[TaskNotification] = deque()
        self._wakeup = asyncio.Event()
        self._abort: TaskNotification | None = None
        self._failure: Cause | None = None  # the cause of this replicate's own failure, once reported
        self._stage_task: asyncio.Task[Outcome] | None = None
        self._final_deadline: float | None = None
        self._held: list[tuple[RS, ReplicateStatusDetails | None]] = []
        self._sending = asyncio.Lock()  # held statuses go out in order, once
        self._hold_timer: asyncio.Task[None] | None = None
        self._group: asyncio.TaskGroup | None = None  # while run() runs: owns the hold timer

    @property
    def chain_task_id(self) -> str:
        return self.ctx.chain_task_id

    @property
    def computing(self) -> bool:
        """True while the replicate holds one of the worker's slots (until COMPUTED or a failure)."""
        return not self.finished and not self.recovered and self.ctx.state.last_status in _COMPUTING

    # ----- input -------------------------------------------------------------------------------
    def deliver(self, notification: TaskNotification, *, first: bool = False) -> None:
        """Queue a request; PLEASE_ABORT jumps the queue and cancels the running stage."""
        if self.finished:
            return
        if notification.taskNotificationType is Next.PLEASE_ABORT:
            if self._abort is None:
                self._abort = notification
            if self._stage_task is not None and not self._stage_task.done():
                self.ctx.log.info("stage-cancelled-for-abort")
                self._stage_task.cancel()
        elif first:
            self._queue.appendleft(notification)
        else:
            self._queue.append(notification)
        self._wakeup.set()

    # ----- the loop ----------------------------------------------------------------------------
    async def run(self) -> None:
        """Runs the replicate to its end. The runner's TaskGroup owns the status-hold timer, which
        ends with it."""
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                try:
                    await self._loop()
                except Exception:  # noqa: BLE001 - one replicate's bug must not stop the worker
                    self.ctx.log.exception("replicate-runner-failed")
                finally:
                    self.finished = True
                    if self._hold_timer is not None:
                        self._hold_timer.cancel()
        except asyncio.CancelledError:
            self.ctx.log.info("replicate-suspended", reason="worker stopping; state kept for recovery")
            raise
        finally:
            self._group = None

    async def _loop(self) -> None:
        while True:
            notification = await self._next()
            if notification is None:
                await self._give_up("the final deadline passed without a final request")
                return
            if self._abort is not None:
                await self._run_abort()
                return
            action = notification.taskNotificationType
            if action in (Next.PLEASE_CONTINUE, Next.PLEASE_WAIT):
                continue
            stage = STAGES.get(action)
            if stage is None:
                self.ctx.log.warning("request-not-supported", request=action.value)
                continue
            fault = _FAULT_SKIPS.get(action)
            if fault in self.ctx.services.config.faults:
                self.ctx.log.warning("fault-injected", fault=fault, request=action.value)
                continue
            if self.ctx.state.has_reported(stage.done):
                self.ctx.log.info("request-already-done", request=action.value, status=stage.done.value)
                continue
            if await self._run_stage(stage, notification):
                return

    async def _next(self) -> TaskNotification | None:
        while True:
            if self._abort is not None:
                return self._abort
            if self._queue:
                return self._queue.popleft()
            remaining = await self._deadline() + self.grace - self.clock.now()
            if remaining <= 0:
                return None
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=min(remaining, 30.0))
            except TimeoutError:
                pass

    async def _run_stage(self, stage: Stage, notification: TaskNotification) -> bool:
        """Run one request; True when the replicate is over."""
        log = self.ctx.log.bind(stage=stage.name)
        answer = await self._report(stage.running, None)
        if self._abort is not None:
            await self._run_abort()
            return True
        if answer is None:
            await self._give_up(f"{stage.running.value} could not be reported before the final deadline")
            return True
        if answer is Next.PLEASE_ABORT:
            self._abort = local_notification(self.chain_task_id, Next.PLEASE_ABORT)
            await self._run_abort()
            return True
        outcome = await self._execute(stage, notification)
        if outcome is None or self._abort is not None:
            await self._run_abort()
            return True
        log.info("stage-ended", status=outcome.status.value, cause=outcome.cause.value if outcome.cause else None)
        answer = await self._report(outcome.status, outcome.details)
        if outcome.status in FAILURE_STATUSES and outcome.cause is not None:
            self._failure = outcome.cause
        if outcome.status is RS.CONTRIBUTED and "crash-after-contribute" in self.ctx.services.config.faults:
            self.ctx.log.warning(
                "fault-injected", fault="crash-after-contribute", answer=answer.value if answer else None
            )
            os._exit(CRASH_EXIT_CODE)  # no cleanup, no goodbye: what a power cut looks like to the scheduler
        if outcome.status is RS.COMPLETED:
            self.ctx.log.info("replicate-completed")
            return True
        if answer is None:
            await self._give_up(f"{outcome.status.value} could not be reported before the final deadline")
            return True
        self.deliver(local_notification(self.chain_task_id, answer), first=True)
        return False

    async def _execute(self, stage: Stage, notification: TaskNotification) -> Outcome | None:
        """The stage's outcome, or None if an abort cancelled it."""
        async with asyncio.TaskGroup() as group:
            task = group.create_task(self._guarded(stage, notification))
            self._stage_task = task
        self._stage_task = None
        return None if task.cancelled() else task.result()

    async def _guarded(self, stage: Stage, notification: TaskNotification) -> Outcome:
        try:
            return await stage.run(self.ctx, notification)
        except DescriptionUnavailable as error:
            return failed(stage.failed, Cause.TASK_DESCRIPTION_NOT_FOUND, f"[worker] {error}")
        except Exception as error:  # noqa: BLE001 - reported, with its text, instead of crashing the runner
            self.ctx.log.exception("stage-crashed", stage=stage.name)
            return failed(stage.failed, Cause.UNKNOWN, f"[worker] internal error: {type(error).__name__}: {error}")

    async def _run_abort(self) -> None:
        outcome = await abort.run(self.ctx, self._abort, self._failure)
        await self._report(outcome.status, outcome.details)
        self.ctx.log.info("replicate-aborted", cause=outcome.cause.value if outcome.cause else None)

    async def _give_up(self, reason: str) -> None:
        await self.ctx.purge()
        self.ctx.log.warning("replicate-dropped", reason=reason)

    async def _report(self, status: RS, details: ReplicateStatusDetails | None) -> Next | None:
        """The scheduler's answer to this status, or None if it could not be told before the final
        deadline. A holdable status is only queued, and answered with the protocol's next action."""
        hold = self.ctx.services.config.status_hold
        if hold > 0 and status in HOLDABLE and (details is None or details.cause is None):
            self._held.append((status, details))
            self.ctx.state.record(status)
            if self._group is not None and (self._hold_timer is None or self._hold_timer.done()):
                self._hold_timer = self._group.create_task(self._send_held_after(hold))
            return next_action(status, None)
        return await self._send([(status, details)])

    async def _send(self, reports: list[tuple[RS, ReplicateStatusDetails | None]]) -> Next | None:
        """Sends the held statuses, then `reports`, in one request, and saves the state (the held
        ones were recorded when held)."""
        async with self._sending:
            held, self._held = self._held, []
            if not held and not reports:
                return None
            try:
                answer = await self.reporter.report_many(
                    self.chain_task_id, held + reports, deadline=await self._deadline(), log=self.ctx.log
                )
            except Exception:
                self._held = held + self._held  # they go with the runner's next status
                raise
            for status, _ in reports:
                self.ctx.state.record(status)
            self.ctx.save()
            return answer

    async def _send_held_after(self, delay: float) -> None:
        """A stage that takes longer than `delay`: what is held goes now. A refusal stops the stage.
        Statuses held while a send is in flight find this timer still running and start none of their
        own: it sends them `delay` later too, so a long stage that follows a quick one shows as running."""
        while True:
            await self.clock.sleep(delay)
            if not self._held or self.finished:
                return
            try:
                answer = await self._send([])
            except Exception:  # noqa: BLE001 - the runner's next status sends them again
                self.ctx.log.exception("held-statuses-not-sent")
                return
            if answer is Next.PLEASE_ABORT:
                self.deliver(local_notification(self.chain_task_id, Next.PLEASE_ABORT))
                return

    async def _deadline(self) -> float:
        """The task's final deadline (chain seconds): nothing is worth retrying after it."""
        if self._final_deadline is None:
            try:
                self._final_deadline = float((await self.ctx.description()).final_deadline)
            except (DescriptionUnavailable, ChainError):
                return self.clock.now() + UNKNOWN_DEADLINE_WAIT
        return self._final_deadline
