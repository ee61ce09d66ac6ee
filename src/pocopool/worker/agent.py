"""The worker: logs in, registers, asks for work, follows pushes, and runs its replicates.

Everything runs in one TaskGroup owned by `Worker.run()`: the ping loop, the ask-for-work loop, the
notification long-poll loop and one runner per replicate. `stop()` ends the group: every loop and
runner is cancelled, running apps are killed, and the state on disk is kept so that the next start
resumes (spec/worker.md §2).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any

from ..chain.aio import chain_read
from ..chain.base import Chain, ChainError
from ..integrity import DamagedFile
from ..protocol.keys import Wallet
from ..protocol.models import PublicConfiguration, TaskNotification, TaskNotificationExtra, WorkerModel
from ..protocol.statuses import ReplicateStatus as RS
from ..protocol.statuses import TaskNotificationType as Next
from ..protocol.time import Clock, SystemClock
from .authorization import authorization_problem
from .backoff import Backoff
from .bundle import BundleCache
from .client import SchedulerClient, SchedulerError, retry_until
from .config import WorkerConfig
from .context import ReplicateContext, WorkerServices
from .description import TaskDescription
from .downloads import Downloader
from .identity import exception_leaves, worker_model, worker_version
from .logs import get_logger
from .notifications import NotificationCursor, addressed_to
from .recovery import Resumable, authorization_of, resumable_state
from .replicate import ReplicateRunner
from .runtimes import Runtime, select_cgroups, select_runtime
from .stages import abort
from .stages.outcome import Outcome, failed
from .state import ReplicateState
from .status import StatusReporter
from .tee.platform import EnclavePlatform
from .workspace import Workspace

FINISHED_MEMORY = 1000  # recently finished tasks whose late pushes are ignored
ABORT_REPORT_WINDOW = 300.0  # s to report ABORTED for a task this worker holds nothing of
MIN_EMPTY_POLL = 1.0  # s: an empty long-poll answer faster than this is followed by a pause


class _Stopped(Exception):
    """Raised inside the worker's TaskGroup to end it."""


class Worker:
    """`await Worker(config, chain, clock).run()` until `stop()` is called (or SIGTERM in the CLI)."""

    def __init__(
        self,
        config: WorkerConfig,
        chain: Chain,
        clock: Clock | None = None,
        *,
        runtime: Runtime | None = None,
        tee_platform: EnclavePlatform | None = None,
    ) -> None:
        self.config = config
        self.chain = chain
        self.clock: Clock = clock or SystemClock()
        self.account = Wallet.from_key(config.private_key)
        self.wallet: str = self.account.address
        self.log = get_logger("agent", wallet=self.wallet, worker=config.name)
        self.ready = asyncio.Event()  # set once registered and recovered: the worker asks for work
        self.public: PublicConfiguration | None = None
        self._runtime = runtime
        self.tee_platform = tee_platform  # loaded by the entry point for a --tee worker (decision 102)
        self._stop = asyncio.Event()
        self._runners: dict[str, ReplicateRunner] = {}
        self._damaged: set[str] = set()  # task ids whose state.json was found damaged at start
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._group: asyncio.TaskGroup | None = None
        self._services: WorkerServices | None = None
        self._client: SchedulerClient | None = None
        self._reporter: StatusReporter | None = None
        self._config_hash: str | None = None

    # ----- public ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the worker to stop (safe from a signal handler); `run()` returns once it has."""
        self._stop.set()

    @property
    def replicates(self) -> list[str]:
        """Task ids of the replicates this worker is running now."""
        return list(self._runners)

    async def run(self) -> None:
        workspace = Workspace(self.config.workdir)
        workspace.open()
        self._damaged = self._damaged_states(workspace)
        client = SchedulerClient(
            self.config.scheduler_url,
            self.config.private_key,
            self.log.child("scheduler"),
            timeout=self.config.http_timeout,
        )
        downloads = Downloader(timeout=self.config.download_timeout)
        self._client, self._reporter = client, StatusReporter(client, self.clock)
        self.log.info(
            "worker-starting",
            scheduler=self.config.scheduler_url,
            workdir=str(self.config.workdir),
            slots=self.config.slots,
        )
        try:
            try:
                async with asyncio.TaskGroup() as group:
                    self._group = group
                    group.create_task(self._watch_stop())
                    await self._startup(workspace, client, downloads)
                    group.create_task(self._ping_loop())
                    group.create_task(self._ask_loop())
                    group.create_task(self._notification_loop())
                    self.ready.set()
            except* _Stopped:
                pass
        except BaseExceptionGroup as group:  # noqa: F821 - a startup failure: raise it as itself
            leaves = exception_leaves(group)
            if len(leaves) == 1 and isinstance(leaves[0], Exception):
                raise leaves[0] from None
            raise
        finally:
            self._group = None
            await client.close()
            await downloads.close()
            workspace.close()
            self.log.info("worker-stopped")

    async def _watch_stop(self) -> None:
        await self._stop.wait()
        self.log.info("worker-stopping", suspended_replicates=len(self._runners))
        raise _Stopped()

    # ----- startup (spec/worker.md §2.1) -------------------------------------------------------
    async def _startup(self, workspace: Workspace, client: SchedulerClient, downloads: Downloader) -> None:
        self.public = await retry_until(client.get_config, self.clock, self.log, "GET /workers/config")
        self.log.info(
            "scheduler-config",
            workerpool=self.public.workerPoolAddress,
            results=self.public.resultRepositoryURL,
            ask_period_ms=self.public.askForReplicatePeriod,
        )
        required = self.public.requiredWorkerVersion
        if required and required != worker_version():
            raise RuntimeError(f"the scheduler requires worker version {required}; this worker is {worker_version()}")
        await retry_until(client.login, self.clock, self.log, "login")
        await self._register()
        if self._runtime is None:
            cgroups = select_cgroups(self.log.child("runtime"), self.config.name)
            self._runtime = await select_runtime(
                self.config.runtime,
                self.log.child("runtime"),
                self.config.sandbox_uid,
                self.config.sandbox_gid,
                cgroups,
            )
        runtime = self._runtime
        self._services = WorkerServices(
            config=self.config,
            account=self.account,
            chain=self.chain,
            clock=self.clock,
            workspace=workspace,
            bundles=BundleCache(
                workspace.bundles, downloads, self.config.max_bundle_bytes, self.config.max_bundle_extracted_bytes
            ),
            downloads=downloads,
            runtime=runtime,
            result_repository_url=self.public.resultRepositoryURL,
            tee_platform=self.tee_platform,
        )
        await self._recover()
        purged = workspace.purge_all_but(set(self._runners))
        if purged:
            self.log.info("stale-task-folders-deleted", count=len(purged))

    def _damaged_states(self, workspace: Workspace) -> set[str]:
        """Reports, one line each, the task folders whose state.json does not read back (decision 89):
        those replicates are not resumed, and the startup cleanup deletes their folders."""
        damaged: set[str] = set()
        for task_id in workspace.task_ids_on_disk():
            try:
                ReplicateState.read(workspace.task(task_id))
            except DamagedFile as damage:
                self.log.error("replicate-state-damaged", task=task_id, error=str(damage))
                damaged.add(task_id.lower())
        return damaged

    async def _register(self) -> None:
        assert self._client is not None
        model = self._model()
        await retry_until(lambda: self._client.register(model), self.clock, self.log, "register")  # type: ignore[union-attr]
        self.log.info(
            "registered",
            worker_name=model.name,
            cpuNb=model.cpuNb,
            memoryGiB=model.memorySize,
            teeEnabled=model.teeEnabled,
        )

    def _model(self) -> WorkerModel:
        return worker_model(self.config, self.wallet)

    async def _recover(self) -> None:
        """Resume what the scheduler says was interrupted, if the result is still here (§2.5)."""
        client = self._client
        assert client is not None
        try:
            block = await self._latest_block()
            notifications = await retry_until(
                lambda: client.interrupted(block), self.clock, self.log, "GET /replicates/interrupted"
            )
        except (SchedulerError, ChainError) as error:
            self.log.warning("recovery-skipped", error=str(error))
            return
        for notification in notifications:
            if addressed_to(notification, self.wallet):
                try:
                    await self._recover_one(notification)
                except Exception:  # noqa: BLE001 - one bad entry must not stop the recovery of others
                    self.log.exception("recovery-failed", task=notification.chainTaskId)

    async def _recover_one(self, notification: TaskNotification) -> None:
        task_id = notification.chainTaskId
        log = self.log.bind(task=task_id)
        action = notification.taskNotificationType
        if not await self._authorization_ok(notification, log):
            return
        if action is Next.PLEASE_ABORT:
            self._spawn(self._abort_without_runner(notification))
            return
        paths = self._workspace.task(task_id)
        if task_id.lower() in self._damaged:
            resumable = Resumable(None, f"its state file {paths.state} is damaged")
        else:
            resumable = await resumable_state(notification, paths, self.chain)
        state = resumable.state
        if state is None:
            log.warning("replicate-not-recoverable", request=action.value, reason=resumable.reason)
            self._spawn(self._give_up(notification, resumable))
            return
        paths.root.mkdir(parents=True, exist_ok=True)
        state.save(paths)
        log.info("replicate-recovered", request=action.value, digest=state.result_digest)
        self._start_runner(task_id, state, notification, recovered=True, description=resumable.description)

    # ----- loops -------------------------------------------------------------------------------
    async def _ping_loop(self) -> None:
        assert self._client is not None
        while True:
            try:
                value = await self._client.ping()
            except Exception as error:  # noqa: BLE001 - a failed ping is retried at the next tick
                self.log.warning("ping-failed", error=str(error))
            else:
                if self._config_hash is not None and value != self._config_hash:
                    self.log.warning("scheduler-changed", reason="the public configuration hash changed")
                    await self._reload_config()
                self._config_hash = value
            await self.clock.sleep(self.config.ping_period)

    async def _reload_config(self) -> None:
        """The scheduler restarted or changed: read its configuration again and register again."""
        assert self._client is not None and self._services is not None
        try:
            self.public = await self._client.get_config()
            self._services.result_repository_url = self.public.resultRepositoryURL
            await self._client.register(self._model())
        except SchedulerError as error:
            self.log.warning("reload-config-failed", error=str(error))

    def _ask_period(self) -> float:
        if self.config.ask_period is not None:
            return self.config.ask_period
        period_ms = self.public.askForReplicatePeriod if self.public else 5000
        return max(period_ms, 100) / 1000

    def free_slots(self) -> int:
        return self.config.slots - sum(1 for runner in self._runners.values() if runner.computing)

    async def _ask_loop(self) -> None:
        if self.config.start_delay > 0:
            self.log.info("start-delay", seconds=self.config.start_delay)
            await self.clock.sleep(self.config.start_delay)
        while True:
            if self.free_slots() <= 0:
                await self.clock.sleep(self._ask_period())
                continue
            asked = self.clock.now()
            try:
                await self._ask_once()
            except Exception:  # noqa: BLE001 - logged; the next tick asks again
                self.log.exception("ask-for-replicate-failed")
            # At most one ask per period, whether the scheduler held it or answered at once.
            await self.clock.sleep(max(self._ask_period() - (self.clock.now() - asked), 0.0))

    async def _ask_once(self) -> None:
        assert self._client is not None
        try:
            block = await self._latest_block()
            summary = await self._client.available(block, self.config.ask_hold)
        except (SchedulerError, ChainError) as error:
            self.log.warning("ask-for-replicate-failed", error=str(error))
            return
        if summary is None:
            return
        authorization = summary.workerpoolAuthorization
        task_id = authorization.chainTaskId
        log = self.log.bind(task=task_id)
        if task_id in self._runners:
            log.warning("replicate-already-running")
            return
        problem = await authorization_problem(authorization, self.wallet, self.chain, self._workerpool())
        if problem is not None:
            log.warning("replicate-dropped", reason=problem)
            return
        log.info("replicate-received", deal=authorization.dealId, index=authorization.taskIndex)
        state = ReplicateState(task_id, authorization.wire())
        paths = self._workspace.task(task_id)
        paths.root.mkdir(parents=True, exist_ok=True)
        state.save(paths)
        self._start_runner(
            task_id,
            state,
            TaskNotification(
                chainTaskId=task_id,
                workersAddress=[],
                taskNotificationType=Next.PLEASE_START,
                taskNotificationExtra=TaskNotificationExtra(
                    workerpoolAuthorization=authorization, smsUrl=summary.smsUrl
                ),
            ),
        )

    async def _notification_loop(self) -> None:
        assert self._client is not None
        cursor = NotificationCursor(self._workspace.cursor_file)
        backoff = Backoff()
        while True:
            asked = self.clock.now()
            try:
                batch = await self._client.notifications(cursor.value, self.config.notification_wait)
            except SchedulerError as error:
                self.log.warning("notifications-failed", error=str(error))
                await backoff.wait(self.clock)
                continue
            backoff.reset()
            if not batch.notifications and self.clock.now() - asked < MIN_EMPTY_POLL:
                await self.clock.sleep(MIN_EMPTY_POLL)  # a server that does not hold the poll: no tight loop
            for notification in batch.notifications:
                try:
                    await self._dispatch(notification)
                except Exception:  # noqa: BLE001 - one bad push must not stop the others
                    self.log.exception("notification-failed", task=notification.chainTaskId)
            newest = max([batch.cursor, *(n.id for n in batch.notifications)])
            cursor.advance(newest)

    async def _dispatch(self, notification: TaskNotification) -> None:
        task_id = notification.chainTaskId
        log = self.log.bind(task=task_id)
        action = notification.taskNotificationType
        if not addressed_to(notification, self.wallet):
            log.debug("notification-ignored", request=action.value, reason="addressed to other workers")
            return
        if not await self._authorization_ok(notification, log):
            return
        log.info("notification-received", request=action.value)
        runner = self._runners.get(task_id)
        if runner is not None:
            authorization = authorization_of(notification)
            if authorization is not None:
                runner.ctx.state.authorization = authorization.wire()
            runner.deliver(notification)
            return
        if task_id in self._finished:
            log.info("notification-ignored", request=action.value, reason="replicate already finished here")
            return
        if action is Next.PLEASE_ABORT:
            self._spawn(self._abort_without_runner(notification))
            return
        if ReplicateState.load(self._workspace.task(task_id)) is not None:
            await self._recover_one(notification)
            return
        log.info("notification-ignored", request=action.value, reason="no replicate of this task here")

    # ----- replicates --------------------------------------------------------------------------
    def _start_runner(
        self,
        task_id: str,
        state: ReplicateState,
        first: TaskNotification,
        *,
        recovered: bool = False,
        description: TaskDescription | None = None,
    ) -> None:
        assert self._services is not None and self._reporter is not None
        ctx = ReplicateContext(
            services=self._services,
            chain_task_id=task_id,
            paths=self._workspace.task(task_id),
            state=state,
            log=get_logger("replicate", wallet=self.wallet, task=task_id),
            _description=description,
        )
        runner = ReplicateRunner(ctx, self._reporter, self.clock, recovered=recovered)
        self._runners[task_id] = runner
        runner.deliver(first)
        self._spawn(self._drive(runner))

    async def _drive(self, runner: ReplicateRunner) -> None:
        try:
            await runner.run()
        finally:
            self._runners.pop(runner.chain_task_id, None)
            if runner.ctx.purged:
                self._finished[runner.chain_task_id] = None
                while len(self._finished) > FINISHED_MEMORY:
                    self._finished.popitem(last=False)

    async def _abort_without_runner(self, notification: TaskNotification) -> None:
        """PLEASE_ABORT for a task with no runner here: delete what is left, and say ABORTED."""
        await self._end_without_runner(notification.chainTaskId, failed(RS.ABORTED, abort.abort_cause(notification)))

    async def _give_up(self, notification: TaskNotification, resumable: Resumable) -> None:
        """A replicate this worker cannot resume after a restart: say so with its cause, so that the
        scheduler frees its place and its slot at once instead of waiting for a deadline."""
        message = (
            f"the worker restarted and cannot resume its replicate ({resumable.reason}); the scheduler asked "
            f"for {notification.taskNotificationType.value}"
        )
        await self._end_without_runner(notification.chainTaskId, failed(RS.FAILED, resumable.cause, message))

    async def _end_without_runner(self, task_id: str, outcome: Outcome) -> None:
        """Ends a replicate this worker holds no runner for: deletes its folder, reports `outcome`."""
        assert self._reporter is not None
        await asyncio.to_thread(self._workspace.task(task_id).purge)
        await self._reporter.report(
            task_id,
            outcome.status,
            outcome.details,
            deadline=self.clock.now() + ABORT_REPORT_WINDOW,
            log=self.log.bind(task=task_id),
        )
        self._finished[task_id] = None

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        assert self._group is not None
        self._group.create_task(self._guarded(coroutine))

    async def _guarded(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """A replicate's failure is logged; it never ends the worker's TaskGroup."""
        try:
            await coroutine
        except Exception:  # noqa: BLE001
            self.log.exception("replicate-task-failed")

    # ----- helpers -----------------------------------------------------------------------------
    @property
    def _workspace(self) -> Workspace:
        assert self._services is not None
        return self._services.workspace

    def _workerpool(self) -> str:
        assert self.public is not None
        return self.public.workerPoolAddress

    async def _latest_block(self) -> int:
        return (await chain_read(self.chain, self.chain.latest_block)).number

    async def _authorization_ok(self, notification: TaskNotification, log) -> bool:
        authorization = authorization_of(notification)
        if authorization is None:
            return True
        problem = await authorization_problem(authorization, self.wallet, self.chain, self._workerpool())
        if problem is not None:
            log.warning("notification-dropped", request=notification.taskNotificationType.value, reason=problem)
            return False
        return True
