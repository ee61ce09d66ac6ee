"""An in-process cluster on a virtual clock: a LocalChain, a Scheduler and N simulated workers in one
asyncio loop, so that a ten-minute deadline scenario runs in well under a second.

    async with Cluster.open(tmp_path, workers=["honest", "no-reveal"]) as cluster:
        [task] = cluster.new_deal(trust=1)
        await cluster.run_until(lambda: cluster.task_status(task) in FINAL, max_seconds=900)

The scheduler is the real one (store, engine, updater, supply, replicate updates, detectors) minus its
HTTP server: the simulated workers call its services directly, and send real contribute and reveal
transactions to the ledger with the authorizations it signed. Each `step()` advances the clock, lets
every worker act once on what it was told, then runs the scheduler's deal watcher and detectors and
waits for every task update they cause. Worker behaviours are the devnet faults (`wrong-result`,
`no-reveal`, `no-upload`, `crash-after-contribute`, `slow`) plus `honest`, `offline` (registered,
never asks) and `unnotified-contribute` (contributes on chain but never reports CONTRIBUTED).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..chain.base import ChainError, DealRequest
from ..chain.local import LocalChain
from ..protocol import crypto
from ..protocol.keys import Wallet
from ..protocol.models import ReplicateStatusDetails, ReplicateStatusUpdate, WorkerModel
from ..protocol.statuses import ReplicateStatus as RS
from ..protocol.statuses import ReplicateStatusCause as Cause
from ..protocol.statuses import TaskNotificationType as Next
from ..protocol.time import VirtualClock
from ..scheduler import Scheduler, SchedulerConfig
from ..scheduler.registry import max_nb_tasks
from ..service.errors import Refused

OWNER = Wallet.from_key("0x" + "01" * 32)
SCHEDULER = Wallet.from_key("0x" + "a1" * 32)
REQUESTER = Wallet.from_key("0x" + "c3" * 32)
APP_OWNER = Wallet.from_key("0x" + "d4" * 32)


def worker_account(index: int) -> Wallet:
    """The wallet of the cluster's `index`-th worker (fixed, so that runs are reproducible)."""
    return Wallet.from_key(f"0x{0xC1C1 + index:064x}")


BEHAVIOURS = (
    "honest",
    "offline",
    "wrong-result",
    "no-reveal",
    "no-upload",
    "crash-after-contribute",
    "slow",
    "unnotified-contribute",
)
COMPUTE_STEPS = (
    RS.STARTING,
    RS.STARTED,
    RS.APP_DOWNLOADING,
    RS.APP_DOWNLOADED,
    RS.DATA_DOWNLOADING,
    RS.DATA_DOWNLOADED,
    RS.COMPUTING,
    RS.COMPUTED,
)
FUNDS = 1_000_000 * 10**9


@dataclass
class SimReplicate:
    task_id: str
    authorization: dict[str, Any]
    ready_at: float  # clock time at which the computation ends
    contributed: bool = False
    over: bool = False


@dataclass
class SimWorker:
    """A worker made of direct service calls and chain transactions."""

    index: int
    account: Wallet
    behaviour: str = "honest"
    start_at: float = 0.0  # clock time of the first ask
    slots: int = 2
    alive: bool = True  # pings and acts
    recovering: bool = False  # restarted: asks GET /replicates/interrupted before anything else
    cursor: int = 0
    replicates: dict[str, SimReplicate] = field(default_factory=dict)
    history: list[tuple[str, str]] = field(default_factory=list)  # (task, status) accepted, in order

    @property
    def wallet(self) -> str:
        return self.account.address

    def digest(self, task_id: str) -> str:
        honest = crypto.keccak_hex(b"pocopool:cluster:result:" + bytes.fromhex(task_id[2:]))
        if self.behaviour == "wrong-result":
            return crypto.keccak_hex(bytes.fromhex(honest[2:]) + b"pocopool:fault:wrong-result")
        return honest


class Cluster:
    def __init__(
        self,
        chain: LocalChain,
        clock: VirtualClock,
        scheduler: Scheduler,
        app: str,
        category: int,
        workerpool: str,
        time_ref: int,
    ) -> None:
        self.chain = chain
        self.clock = clock
        self.scheduler = scheduler
        self.app = app
        self.category = category
        self.workerpool = workerpool
        self.time_ref = time_ref
        self.workers: list[SimWorker] = []

    # ----- setup ----------------------------------------------------------------------------------
    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        directory: Path,
        workers: list[str] | tuple[str, ...] = ("honest",),
        *,
        time_ref: int = 60,
        start_delays: dict[int, float] | None = None,
        worker_lost_after: float = 30.0,
        slots: int = 2,
        db_url: str | None = None,
        **config: Any,
    ) -> AsyncIterator[Cluster]:
        """A ledger with one category of `time_ref` seconds, a scheduler, and one simulated worker per
        behaviour in `workers`. The scheduler is stopped and the ledger closed on exit."""
        clock = VirtualClock()
        directory.mkdir(parents=True, exist_ok=True)
        chain = LocalChain.create(directory / "chain.db", OWNER.address, clock=clock)
        category = chain.create_category(OWNER, "CLUSTER", "virtual-time category", time_ref).return_value
        workerpool = chain.create_workerpool(SCHEDULER, "cluster pool", price=10**8).return_value
        app = chain.create_app(APP_OWNER, "sim", "http://files.test/sim.tar.gz", "0x" + "ab" * 32).return_value
        chain.mint(OWNER, REQUESTER.address, FUNDS)
        chain.mint(OWNER, SCHEDULER.address, FUNDS)
        settings: dict[str, Any] = {
            "workerpool": workerpool,
            "private_key": crypto.key_hex(SCHEDULER),
            "db_url": db_url or f"sqlite:///{directory / 'scheduler.db'}",
            "port": 0,
            "results_url": "http://results.test",
            "ask_period_ms": 0,
            "worker_lost_after": worker_lost_after,
        }
        settings.update(config)
        scheduler = Scheduler(SchedulerConfig(**settings), chain, clock)
        scheduler.chain_id = chain.chain_id()
        await scheduler.store.open()
        cluster = cls(chain, clock, scheduler, app, category, workerpool, time_ref)
        delays = start_delays or {}
        for index, behaviour in enumerate(workers):
            await cluster.add_worker(behaviour, start_delay=delays.get(index, 0.0), slots=slots)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(scheduler.updater.run(2))
                try:
                    yield cluster
                finally:
                    scheduler.updater.stop()
        finally:
            await scheduler.store.close()
            chain.close()

    async def add_worker(self, behaviour: str = "honest", *, start_delay: float = 0.0, slots: int = 2) -> SimWorker:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; known: {', '.join(BEHAVIOURS)}")
        index = len(self.workers)
        account = worker_account(index)
        self.chain.mint(OWNER, account.address, 1000 * 10**9)
        worker = SimWorker(index, account, behaviour, self.clock.now() + start_delay, slots)
        model = WorkerModel(name=f"sim-{index}", cpuNb=slots)
        await self.scheduler.store.register_worker(worker.wallet, model, max_nb_tasks(model), self.clock.now())
        self.workers.append(worker)
        return worker

    def new_deal(self, *, trust: int = 1, volume: int = 1) -> list[str]:
        request = DealRequest(
            app=self.app,
            workerpool=self.workerpool,
            category=self.category,
            trust=trust,
            volume=volume,
            params='{"iexec_args":"cluster"}',
        )
        deal_id = self.chain.create_deal(REQUESTER, request).return_value
        deal = self.chain.view_deal(deal_id)
        assert deal is not None
        return deal.task_ids()

    # ----- time -----------------------------------------------------------------------------------
    async def step(self, seconds: float = 1.0) -> None:
        """Advance the clock, let every worker act once, then run the scheduler's loops to rest."""
        self.clock.advance(seconds)
        for worker in self.workers:
            if worker.alive:
                await self.scheduler.store.touch_alive(worker.wallet, self.clock.now())
                await self._act(worker)
        await self.scheduler.tick()

    async def run_until(self, done: Callable[[], Awaitable[bool]], *, max_seconds: float, step: float = 5.0) -> float:
        """Steps until `done()`; returns the virtual seconds it took. AssertionError after max_seconds."""
        start = self.clock.now()
        await self.scheduler.tick()
        while not await done():
            if self.clock.now() - start > max_seconds:
                raise AssertionError(f"not done after {max_seconds} virtual seconds")
            await self.step(step)
        return self.clock.now() - start

    async def task_status(self, task_id: str) -> str | None:
        task = await self.scheduler.store.task(task_id)
        return task.status.value if task else None

    def crash(self, worker: SimWorker) -> None:
        """The worker stops at once: no pings, no actions (its replicates stay where they were)."""
        worker.alive = False

    def restart(self, worker: SimWorker, behaviour: str = "honest") -> None:
        """The worker comes back (healthy by default) and recovers through /replicates/interrupted."""
        worker.alive, worker.behaviour, worker.cursor = True, behaviour, 0
        worker.replicates = {k: v for k, v in worker.replicates.items() if v.contributed and not v.over}
        worker.recovering = True

    # ----- one worker's turn ----------------------------------------------------------------------
    async def _report(self, worker: SimWorker, task_id: str, status: RS, **details: Any) -> Next | None:
        update = ReplicateStatusUpdate(status=status, details=ReplicateStatusDetails(**details) if details else None)
        try:
            answer = await self.scheduler.replicates.update_status(task_id, worker.wallet, update)
        except Refused:
            return None
        worker.history.append((task_id, status.value))
        return answer.next_action

    async def _act(self, worker: SimWorker) -> None:
        if worker.behaviour == "offline":
            return
        now = self.clock.now()
        if worker.recovering:
            worker.recovering = False
            await self._recover(worker)
        for batch in await self._pushes(worker):
            await self._on_push(worker, *batch)
            if not worker.alive:
                return
        for replicate in list(worker.replicates.values()):
            if not replicate.contributed and not replicate.over and now >= replicate.ready_at:
                await self._contribute(worker, replicate)
                if not worker.alive:
                    return
        busy = sum(1 for r in worker.replicates.values() if not r.contributed and not r.over)
        if now >= worker.start_at and busy < worker.slots:
            block = self.chain.latest_block().number
            summary = await self.scheduler.supply.next_replicate(worker.wallet, block)
            if summary is not None:
                authorization = summary.workerpoolAuthorization.wire()
                task_id = summary.workerpoolAuthorization.chainTaskId
                ready = now + (self.time_ref * 8 if worker.behaviour == "slow" else 0)
                worker.replicates[task_id] = SimReplicate(task_id, authorization, ready)
                for status in COMPUTE_STEPS[:-1]:
                    await self._report(worker, task_id, status)
                await self._report(worker, task_id, RS.COMPUTED, exitCode=0)

    async def _pushes(self, worker: SimWorker) -> list[tuple[str, Next, dict[str, Any]]]:
        rows = await self.scheduler.store.notifications_after(worker.wallet, worker.cursor)
        if rows:
            worker.cursor = rows[-1]["id"]
        return [(row["task_id"], Next(row["type"]), dict(row["extra"] or {})) for row in rows]

    async def _recover(self, worker: SimWorker) -> None:
        for notification in await self.scheduler.recovery.interrupted(worker.wallet):
            extra = notification.taskNotificationExtra.wire() if notification.taskNotificationExtra else {}
            await self._on_push(worker, notification.chainTaskId, notification.taskNotificationType, extra)

    async def _contribute(self, worker: SimWorker, replicate: SimReplicate) -> None:
        task_id = replicate.task_id
        if await self._report(worker, task_id, RS.CONTRIBUTING) is not Next.PLEASE_CONTINUE:
            replicate.over = True
            return
        digest = worker.digest(task_id)
        try:
            receipt = self.chain.contribute(
                worker.account,
                task_id,
                crypto.result_hash(task_id, digest),
                crypto.result_seal(worker.wallet, task_id, digest),
                replicate.authorization["enclaveChallenge"],
                "0x",
                replicate.authorization["signature"]["value"],
            )
        except ChainError as error:
            await self._report(
                worker, task_id, RS.CONTRIBUTE_FAILED, cause=Cause.TASK_NOT_ACTIVE, errorMessage=str(error)
            )
            replicate.over = True
            return
        replicate.contributed = True
        if worker.behaviour == "unnotified-contribute":
            return  # the scheduler must find the contribution on chain by itself
        await self._report(
            worker,
            task_id,
            RS.CONTRIBUTED,
            chainReceipt={"blockNumber": receipt.block_number, "txHash": receipt.tx_hash},
        )
        if worker.behaviour == "crash-after-contribute":
            self.crash(worker)

    async def _on_push(self, worker: SimWorker, task_id: str, kind: Next, extra: dict[str, Any]) -> None:
        replicate = worker.replicates.get(task_id)
        if replicate is None or replicate.over:
            return
        if kind is Next.PLEASE_REVEAL and worker.behaviour != "no-reveal":
            await self._report(worker, task_id, RS.REVEALING)
            try:
                receipt = self.chain.reveal(worker.account, task_id, worker.digest(task_id))
            except ChainError as error:
                await self._report(
                    worker, task_id, RS.REVEAL_FAILED, cause=Cause.CANNOT_REVEAL, errorMessage=str(error)
                )
                return
            await self._report(
                worker,
                task_id,
                RS.REVEALED,
                chainReceipt={"blockNumber": receipt.block_number, "txHash": receipt.tx_hash},
            )
        elif kind is Next.PLEASE_UPLOAD and worker.behaviour != "no-upload":
            await self._report(worker, task_id, RS.RESULT_UPLOADING)
            link = crypto.result_link("pocopool", f"http://results.test/results/{task_id}")
            await self._report(worker, task_id, RS.RESULT_UPLOADED, resultLink=link)
        elif kind is Next.PLEASE_COMPLETE:
            await self._report(worker, task_id, RS.COMPLETING)
            await self._report(worker, task_id, RS.COMPLETED)
            replicate.over = True
        elif kind is Next.PLEASE_ABORT:
            cause = extra.get("taskAbortCause") or "UNKNOWN"
            await self._report(worker, task_id, RS.ABORTED, cause=Cause(cause))
            replicate.over = True
