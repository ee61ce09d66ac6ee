"""The worker registry (spec/scheduler.md §4): registration, pings, liveness and the long-poll of notifications.

A worker registers (its model: cpu, memory, GPU/TEE flags, slots), pings to stay alive, and waits
for its notifications (`notifications`, a long-poll). A worker is *alive* when it pinged within `lost_after` seconds
(`SchedulerConfig.worker_lost_after`): the same window after which the detectors mark its replicates
WORKER_LOST, so the API, the dashboard, the metrics and the detectors agree on who is alive.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..protocol.crypto import keccak_hex
from ..protocol.models import (
    NotificationBatch,
    PublicConfiguration,
    StoredNotification,
    TaskNotificationExtra,
    WorkerModel,
)
from ..protocol.statuses import TaskNotificationType
from ..protocol.tags import TeeFramework
from ..protocol.time import Clock
from ..service.errors import NotFound
from .store import Store
from .wakeups import Wakeups

POLL_FALLBACK = 1.0  # re-read the database this often while long-polling (notifications of other processes)


def configuration_hash(configuration: PublicConfiguration) -> str:
    """keccak of the canonical JSON of the public configuration: workers restart when it changes."""
    return keccak_hex(json.dumps(configuration.wire(), sort_keys=True, separators=(",", ":")).encode())


def is_alive(last_alive: datetime | None, now: float, lost_after: float) -> bool:
    """True when the worker pinged within the last `lost_after` seconds."""
    return last_alive is not None and last_alive.timestamp() > now - lost_after


def max_nb_tasks(model: WorkerModel) -> int:
    """How many replicates a worker computes at once: one on a GPU worker, else one per CPU (spec §6.1)."""
    return 1 if model.gpuEnabled else model.cpuNb


def worker_json(
    row: Mapping[str, Any], memberships: list[tuple[str, bool]], now: float, lost_after: float
) -> dict[str, Any]:
    """The wire form of a worker (`GET /workers`): its model, liveness and tasks."""
    last_alive = row["last_alive"]
    return {
        "walletAddress": row["wallet"],
        "name": row["name"],
        "os": row["os"],
        "cpu": row["cpu"],
        "cpuNb": row["cpu_nb"],
        "memorySize": row["memory_size"],
        "gpuEnabled": row["gpu_enabled"],
        "teeEnabled": row["tee_enabled"],
        "tdxEnabled": row["tdx_enabled"],
        "maxNbTasks": row["max_nb_tasks"],
        "alive": is_alive(last_alive, now, lost_after),
        "lastAliveDate": last_alive.isoformat() if last_alive else None,
        "lastReplicateDemandDate": row["last_replicate_demand"].isoformat() if row["last_replicate_demand"] else None,
        "participatingChainTaskIds": [task for task, _ in memberships],
        "computingChainTaskIds": [task for task, computing in memberships if computing],
    }


class WorkerRegistry:
    """Workers as the scheduler knows them. `configuration` gives the public configuration (it
    depends on the chain id, known once the scheduler started); `wakeups` wakes the long-polls."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        wakeups: Wakeups,
        *,
        configuration: Callable[[], PublicConfiguration],
        lost_after: float,
    ) -> None:
        self.store = store
        self.clock = clock
        self.wakeups = wakeups
        self.configuration = configuration
        self.lost_after = lost_after

    async def register(self, wallet: str, model: WorkerModel) -> dict[str, Any]:
        """Creates or updates the worker, marks it alive, and answers its wire form."""
        now = self.clock.now()
        await self.store.register_worker(wallet, model, max_nb_tasks(model), now)
        return await self.describe(wallet, now)

    async def describe(self, wallet: str, now: float) -> dict[str, Any]:
        row = await self.store.worker_row(wallet)
        if row is None:
            raise NotFound(f"worker {wallet} is not registered")
        worker = await self.store.worker(wallet)
        assert worker is not None
        computing = set(await self.store.worker_tasks(wallet, computing_only=True))
        return worker_json(row, [(t, t in computing) for t in worker.participating], now, self.lost_after)

    async def ping(self, wallet: str) -> str:
        """Records the ping; answers the configuration hash (NotFound if never registered)."""
        if not await self.store.touch_alive(wallet, self.clock.now()):
            raise NotFound(f"worker {wallet} is not registered: POST /workers/register first")
        return configuration_hash(self.configuration())

    async def computing(self, wallet: str) -> list[str]:
        """The tasks whose replicate holds one of the worker's slots."""
        return await self.store.worker_tasks(wallet, computing_only=True)

    async def all(self) -> list[dict[str, Any]]:
        """Every worker's wire form, in registration order."""
        now = self.clock.now()
        return [
            worker_json(row, memberships, now, self.lost_after) for row, memberships in await self.store.all_workers()
        ]

    async def alive_count(self) -> int:
        return len(await self.store.alive_workers(self.clock.now() - self.lost_after))

    async def alive_wallets(self, framework: TeeFramework | None = None) -> frozenset[str]:
        """The wallets of the alive workers that can run a task of `framework` (the RUNNING_FAILED
        rule of TEE tasks: a worker that may never be given the task cannot keep it alive)."""
        flag = {None: None, TeeFramework.TDX: "tdx_enabled"}.get(framework, "tee_enabled")
        return frozenset(
            row["wallet"]
            for row in await self.store.alive_workers(self.clock.now() - self.lost_after)
            if flag is None or row[flag]
        )

    async def notifications(self, wallet: str, after: int, timeout: float) -> NotificationBatch:
        """The worker's notifications after id `after`; waits up to `timeout` seconds for one (less at shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            ticket = self.wakeups.ticket(wallet)
            rows = await self.store.notifications_after(wallet, after)
            remaining = deadline - loop.time()
            if rows or remaining <= 0 or self.wakeups.closed:
                break
            await self.wakeups.wait(ticket, min(remaining, POLL_FALLBACK))
        items = [
            StoredNotification(
                id=row["id"],
                chainTaskId=row["task_id"],
                workersAddress=[row["wallet"]],
                taskNotificationType=TaskNotificationType(row["type"]),
                taskNotificationExtra=TaskNotificationExtra.model_validate(row["extra"]),
            )
            for row in rows
        ]
        return NotificationBatch(notifications=items, cursor=items[-1].id if items else after)
