"""The Scheduler service: owns the store, the HTTP server and every background loop.

    scheduler = Scheduler(config, chain, clock)
    await scheduler.start()          # migrations, owner check, port bound: scheduler.url is known
    async with asyncio.TaskGroup() as tg:
        tg.create_task(scheduler.run())   # serves until stop()
        ...
        scheduler.stop()

`run()` keeps every coroutine in one TaskGroup (HTTP server, deal watcher, detectors, task update
workers); `stop()` asks them all to finish, and `run()` returns once they did (or were cancelled
after SHUTDOWN_TIMEOUT), with the database closed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import cast

from ..chain.aio import chain_read
from ..chain.base import Chain, ChainError
from ..integrity import one_line
from ..protocol.crypto import InvalidHex, normalize_address, same_address
from ..protocol.keys import Wallet
from ..protocol.models import PublicConfiguration
from ..protocol.statuses import TaskStatus as TS
from ..protocol.time import Clock, SystemClock
from ..service.server import Server, bound_port, listen, make_server
from ..service.startup import StartupError
from .auth import Authenticator
from .config import SchedulerConfig
from .deals import DealWatcher
from .detectors import DETECTORS, DetectorContext, run_detectors
from .http import create_app
from .logs import log_event
from .logs_access import LogsChallenges
from .metrics import SchedulerMetrics, TimedChain
from .recovery import RecoveryService
from .registry import WorkerRegistry
from .replicates import ReplicateUpdateService
from .sms import SmsClient
from .store import Store
from .supply import SupplyService
from .updater import TaskUpdater
from .wakeups import Wakeups

SHUTDOWN_TIMEOUT = 10.0
HTTP_GRACEFUL_TIMEOUT = 3.0  # in-flight requests at stop; the long polls were woken by then


class Scheduler:
    def __init__(self, config: SchedulerConfig, chain: Chain, clock: Clock | None = None) -> None:
        self.config = config
        self.metrics = SchedulerMetrics()
        # Every chain call is timed; TimedChain answers the whole Chain interface by delegation.
        self.chain: Chain = cast(Chain, TimedChain(chain, self.metrics.chain_calls))
        chain = self.chain
        self.clock: Clock = clock or SystemClock()
        try:
            self.signer = Wallet.from_key(config.private_key)
            self.workerpool = normalize_address(config.workerpool)
        except (ValueError, InvalidHex) as error:
            raise StartupError(f"invalid key or workerpool address: {error}") from None
        self.address: str = self.signer.address
        self.chain_id = 0
        self.store = Store(config.db_url)
        self.status_wakeups = Wakeups()  # status writes: wakes the event streams
        self.store.on_status_written = self._status_written
        self.logs_challenges = LogsChallenges(chain_id=lambda: self.chain_id, now=self.clock.now)
        self.notification_wakeups = Wakeups()  # notifications, by wallet: wakes the workers' long-polls
        self.auth = Authenticator(config.jwt_secret)
        self.registry = WorkerRegistry(
            self.store,
            self.clock,
            self.notification_wakeups,
            configuration=self.public_configuration,
            lost_after=config.worker_lost_after,
        )
        self.sms = SmsClient(config.sms_url, self.signer) if config.sms_url else None
        self.updater = TaskUpdater(
            self.store,
            chain,
            self.clock,
            self.signer,
            self.notification_wakeups,
            tee_frameworks=config.tee_frameworks,
            upload_timeout_periods=config.upload_timeout_periods,
            sms=self.sms,
            alive_workers=self.registry.alive_wallets,
        )
        self.supply = SupplyService(
            self.store,
            chain,
            self.clock,
            self.signer,
            config.ask_period_ms,
            sms_url=config.sms_url,
            wakeups=self.status_wakeups,
        )
        self.replicates = ReplicateUpdateService(self.store, chain, self.clock, self.updater)
        self.recovery = RecoveryService(self.store, chain, self.clock, self.supply, self.replicates, self.updater)
        self.deals = DealWatcher(self.store, chain, self.clock, self.workerpool)
        self.app = create_app(
            store=self.store,
            chain=chain,
            clock=self.clock,
            auth=self.auth,
            registry=self.registry,
            supply=self.supply,
            recovery=self.recovery,
            replicate_updates=self.replicates,
            status_wakeups=self.status_wakeups,
            logs_challenges=self.logs_challenges,
            scheduler_metrics=self.metrics,
        )
        self._socket: socket.socket | None = None
        self._stop = asyncio.Event()
        self._running = asyncio.Event()
        self._detector_tick = 0

    def public_configuration(self) -> PublicConfiguration:
        """What every worker is told at `GET /workers/config` (its hash answers each ping)."""
        return PublicConfiguration(
            workerPoolAddress=self.workerpool,
            schedulerPublicAddress=self.address,
            resultRepositoryURL=self.config.results_url,
            askForReplicatePeriod=self.config.ask_period_ms,
            chainId=self.chain_id,
        )

    def _status_written(self, count: int) -> None:
        self.metrics.status_updates.inc(count)
        self.status_wakeups.notify()

    # ----- lifecycle ------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the scheduler is not started")
        return bound_port(self._socket)

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    async def start(self) -> None:
        """Checks the key against the chain, migrates the database and binds the port (idempotent)."""
        if self._socket is not None:
            return
        try:
            pool = await chain_read(self.chain, self.chain.view_workerpool, self.workerpool)
        except ChainError as error:
            raise StartupError(f"cannot read workerpool {self.workerpool} on chain: {error}") from None
        if pool is None:
            raise StartupError(f"workerpool {self.workerpool} does not exist on chain")
        if not same_address(pool.owner, self.address):
            raise StartupError(
                f"the key's address {self.address} is not the owner of workerpool {self.workerpool} "
                f"(owner: {pool.owner})"
            )
        self.chain_id = await chain_read(self.chain, self.chain.chain_id)
        # The port first: a port taken is said before anything else is opened or logged.
        self._socket = listen(self.config.host, self.config.port)
        try:
            await self.store.open()
        except Exception as error:  # noqa: BLE001 - whatever the driver raises, say it in one line
            await self.store.close()
            self._socket.close()
            self._socket = None
            url = self.store.db.url.render_as_string(hide_password=True)
            raise StartupError(f"cannot open the database {url}: {one_line(str(error))}") from None
        log_event(
            "scheduler.started",
            url=self.url,
            workerpool=self.workerpool,
            scheduler=self.address,
            chain_id=self.chain_id,
            db=self.store.dialect,
        )

    def stop(self) -> None:
        """Asks `run()` to finish (safe to call from a signal handler)."""
        self._stop.set()

    async def wait_running(self) -> None:
        """Returns once `run()` serves HTTP and runs its loops."""
        await self._running.wait()

    async def run(self) -> None:
        """Serves until `stop()`; then finishes every owned coroutine and closes the database."""
        await self.start()
        assert self._socket is not None
        server = make_server(self.app, graceful_timeout=HTTP_GRACEFUL_TIMEOUT)
        workers = self.config.update_workers
        try:
            async with asyncio.TaskGroup() as group:
                owned = [
                    group.create_task(server.serve(sockets=[self._socket]), name="http"),
                    group.create_task(self._watch_deals(), name="deal-watcher"),
                    group.create_task(self._detect(), name="detectors"),
                    group.create_task(
                        self.updater.run(workers, shutdown_timeout=SHUTDOWN_TIMEOUT - 1), name="task-updates"
                    ),
                ]
                await self._wait_http(server)
                await self._resume_unfinished()
                self._running.set()
                await self._stop.wait()
                log_event("scheduler.stopping")
                server.should_exit = True
                self.notification_wakeups.close()
                self.status_wakeups.close()
                self.updater.stop()
                _, pending = await asyncio.wait(owned, timeout=SHUTDOWN_TIMEOUT)
                for task in pending:
                    log_event("scheduler.cancel", level=logging.WARNING, loop=task.get_name())
                    task.cancel()
        finally:
            self._running.clear()
            await self.store.close()
            self._socket.close()
            log_event("scheduler.stopped")

    async def _wait_http(self, server: Server) -> None:
        while not server.started and not self._stop.is_set():
            await asyncio.sleep(0.01)

    async def _pause(self, seconds: float) -> None:
        """Sleeps on the scheduler's clock, or less if stop() is called."""
        if self._stop.is_set():
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()

    async def _resume_unfinished(self) -> None:
        """After a restart, every unfinished task gets one update (what changed while we were down)."""
        unfinished = await self.store.task_ids([s for s in TS if not s.is_final], limit=100_000)
        self.updater.request_many(unfinished)

    # ----- loops ----------------------------------------------------------------------------------
    async def poll_deals(self) -> list[str]:
        """One read of new deals; their tasks are queued for an update."""
        created: list[str] = []
        while True:
            batch = await self.deals.poll_once()
            created += batch
            self.updater.request_many(batch)
            if not batch:
                return created

    async def detect(self) -> list[str]:
        """One run of the detectors; the tasks found are queued for an update."""
        every = max(1, self.config.full_scan_every)
        ctx = DetectorContext(
            self.store,
            self.chain,
            self.clock.now(),
            record=self.replicates.record_pool_status_of,
            worker_lost_after=self.config.worker_lost_after,
            full_scan=self._detector_tick % every == every - 1,
        )
        found = await run_detectors(ctx, self._detector_tick, DETECTORS)
        self._detector_tick += 1
        self.updater.request_many(found)
        return found

    async def tick(self) -> None:
        """Deals, detectors, and every update they cause: one deterministic step (tests, virtual time)."""
        await self.poll_deals()
        await self.detect()
        await self.updater.idle()

    async def _watch_deals(self) -> None:
        while not self._stop.is_set():
            try:
                await self.poll_deals()
            except Exception as error:  # noqa: BLE001 - the watcher survives a bad read and retries
                log_event("deals.poll_failed", level=logging.ERROR, error=repr(error))
            await self._pause(self.config.poll_interval)

    async def _detect(self) -> None:
        while not self._stop.is_set():
            await self._pause(self.config.detector_period)
            if self._stop.is_set():
                return
            try:
                await self.detect()
            except Exception as error:  # noqa: BLE001 - the loop survives and runs again next period
                log_event("detectors.failed", level=logging.ERROR, error=repr(error))
