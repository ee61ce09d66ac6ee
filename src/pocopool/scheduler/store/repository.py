"""The scheduler database behind one object: `Store` owns the database, the transactions and the
after-commit hook, and delegates each query to the module of its concept (tasks, replicates,
workers, notifications, views, cursors), whose functions take the transaction's connection.

Methods are coroutines; each write is one transaction. Status writes are optimistic: an UPDATE
filtered on the status the caller read. When another writer changed it meanwhile, nothing is
written and the method answers False (the caller decides again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError

from ...protocol.models import WorkerModel
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import TaskStatus as TS
from ...service.database import open_database
from ..engine import Transition
from ..state import ReplicateRecord, TaskState, WorkerState
from . import cursors, notifications, replicates, tasks, views, workers
from .records import NewTask, NotificationRow, Stale, TaskDetails, to_datetime
from .replicates import ReplicateWriter
from .tables import schema


class Store:
    """The scheduler database. `open()` runs the migrations; `close()` releases connections."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.db = open_database(url, schema)
        # Called after a commit that appended task or replicate statuses (the number appended): the
        # event stream and the metrics listen here, so that every status write is seen.
        self.on_status_written: Callable[[int], None] | None = None

    def _written(self, count: int) -> None:
        if count and self.on_status_written is not None:
            self.on_status_written(count)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    async def open(self) -> None:
        await self.db.migrate()

    async def close(self) -> None:
        await self.db.dispose()

    # ----- chain cursor ---------------------------------------------------------------------------
    async def cursor(self, name: str = "deals") -> int:
        """The last block whose events were processed; -1 before the first one."""
        async with self.db.read() as conn:
            return await cursors.cursor(conn, name)

    # ----- tasks ----------------------------------------------------------------------------------
    async def add_tasks(
        self, new_tasks: Sequence[NewTask], cursor_block: int, now: float, *, cursor: str = "deals"
    ) -> list[str]:
        """Stores the tasks not known yet (by deal and index) and moves the cursor, in one transaction.

        Returns the ids of the tasks created.
        """
        async with self.db.write() as conn:
            created = await tasks.add_tasks(conn, new_tasks, now)
            await cursors.set_cursor(conn, cursor, cursor_block, now)
        self._written(len(created))
        return created

    async def load(self, task_id: str) -> tuple[TaskState, list[ReplicateRecord]] | None:
        """The task and its replicates with their histories, read in one snapshot."""
        async with self.db.read() as conn:
            return await tasks.load(conn, task_id)

    async def task(self, task_id: str) -> TaskState | None:
        async with self.db.read() as conn:
            return await tasks.task(conn, task_id)

    async def task_ids(
        self,
        statuses: Iterable[TS],
        *,
        contribution_deadline_after: float | None = None,
        contribution_deadline_until: float | None = None,
        final_deadline_after: float | None = None,
        final_deadline_until: float | None = None,
        reveal_deadline_until: float | None = None,
        limit: int = 1000,
    ) -> list[str]:
        """Ids of tasks in some statuses, optionally bounded by deadlines (indexed: status, deadline)."""
        async with self.db.read() as conn:
            return await tasks.task_ids(
                conn,
                statuses,
                contribution_deadline_after=contribution_deadline_after,
                contribution_deadline_until=contribution_deadline_until,
                final_deadline_after=final_deadline_after,
                final_deadline_until=final_deadline_until,
                reveal_deadline_until=reveal_deadline_until,
                limit=limit,
            )

    async def apply(self, task: TaskState, transition: Transition, rows: Sequence[NotificationRow], now: float) -> bool:
        """Writes one engine transition, guarded by the status `task` was read with.

        Appends the statuses, sets the fields, writes the scheduler's replicate statuses (each guarded
        by the status it expects), stores the notifications, and purges the workers' task lists when the
        task ends. False (and nothing written) if the task or a replicate changed meanwhile.
        Raises InvalidTaskTransition (nothing written) for a path the transition table forbids.
        """
        values = tasks.transition_values(task, transition, now)
        try:
            async with self.db.write() as conn:
                await tasks.write_transition(conn, task, transition, values, rows, now)
        except Stale:
            return False
        self._written(len(transition.statuses) + len(transition.replicates))
        return True

    async def supply_candidates(self, wallet: str, now: float, *, limit: int, offset: int) -> list[TaskState]:
        """Tasks accepting contributions that the worker holds no replicate of: RUNNING first, then
        the earliest contribution deadline (indexed by status and contribution deadline)."""
        async with self.db.read() as conn:
            return await tasks.supply_candidates(conn, wallet, now, limit=limit, offset=offset)

    # ----- replicates -----------------------------------------------------------------------------
    async def replicates_of_tasks(self, task_ids: Sequence[str]) -> dict[str, list[ReplicateRecord]]:
        """The replicates of several tasks, by task id, read in one query (the supply scan)."""
        if not task_ids:
            return {}
        async with self.db.read() as conn:
            return await replicates.replicates_of_tasks(conn, task_ids)

    async def replicate(self, task_id: str, wallet: str) -> ReplicateRecord | None:
        async with self.db.read() as conn:
            found = await replicates.replicates_of_task(conn, task_id, wallet)
        return found[0] if found else None

    async def add_replicate(self, task_id: str, wallet: str, weight: int, max_nb_tasks: int, now: float) -> bool:
        """Gives the worker a replicate CREATED and a computing slot, in one transaction.

        False if the worker has no free slot or already holds a replicate of the task.
        """
        try:
            async with self.db.write() as conn:
                await replicates.add_replicate(conn, task_id, wallet, weight, max_nb_tasks, now)
        except (Stale, IntegrityError):
            return False
        self._written(1)
        return True

    @asynccontextmanager
    async def replicate_writer(self, task_id: str, wallet: str) -> AsyncIterator[ReplicateWriter]:
        """One write transaction on one replicate: `writer.replicate` is read in it (None: no such
        replicate) and each `writer.append(accepted)` appends a status `decide_replicate` accepted,
        guarded by the status the decision read. Committed when the block ends; rolled back if it
        raises (StaleReplicate: another writer changed the replicate, decide again)."""
        async with self.db.write() as conn:
            found = await replicates.replicates_of_task(conn, task_id, wallet)
            writer = ReplicateWriter(conn, task_id, wallet, found[0] if found else None)
            yield writer
        self._written(writer.written)

    async def replicates_in(
        self,
        task_statuses: Iterable[TS],
        last_relevant: Iterable[RS],
        *,
        limit: int = 1000,
    ) -> list[tuple[str, str]]:
        """(task id, wallet) of replicates whose last relevant status is one of `last_relevant`, in tasks
        in one of `task_statuses` (indexed: replicates by last relevant status, tasks by id)."""
        async with self.db.read() as conn:
            return await replicates.replicates_in(conn, task_statuses, last_relevant, limit)

    async def lost_replicates(self, alive_after: float, now: float, *, limit: int = 1000) -> list[tuple[str, str]]:
        """(task id, wallet) of replicates held by workers that did not ping since `alive_after`, in
        tasks whose final deadline is not passed, not yet WORKER_LOST nor final (indexed: workers by
        last ping, worker_tasks by wallet, replicates by wallet and task)."""
        async with self.db.read() as conn:
            return await replicates.lost_replicates(conn, alive_after, now, limit)

    # ----- workers --------------------------------------------------------------------------------
    async def register_worker(self, wallet: str, model: WorkerModel, max_nb_tasks: int, now: float) -> None:
        """Creates or updates the worker (keeping its task lists) with its slot count, and marks it alive."""
        async with self.db.write() as conn:
            await workers.register_worker(conn, wallet, model, max_nb_tasks, now)

    async def touch_alive(self, wallet: str, now: float) -> bool:
        """Records a ping. False if the worker never registered."""
        async with self.db.write() as conn:
            return await workers.touch_alive(conn, wallet, now)

    async def claim_replicate_demand(self, wallet: str, now: float, min_gap: float) -> bool:
        """Rate limit of replicate demands: records this demand only if the previous one is at least
        `min_gap` seconds old (atomic). False if too early or the worker is not registered."""
        async with self.db.write() as conn:
            return await workers.claim_replicate_demand(conn, wallet, now, min_gap)

    async def worker(self, wallet: str) -> WorkerState | None:
        async with self.db.read() as conn:
            return await workers.worker(conn, wallet)

    async def worker_row(self, wallet: str) -> Mapping[str, Any] | None:
        async with self.db.read() as conn:
            return await workers.worker_row(conn, wallet)

    async def worker_tasks(self, wallet: str, *, computing_only: bool = False) -> list[str]:
        async with self.db.read() as conn:
            return await workers.worker_tasks_of(conn, wallet, computing_only=computing_only)

    async def alive_workers(self, alive_after: float) -> list[Mapping[str, Any]]:
        """The wallet and TEE flags of each worker that pinged after `alive_after`."""
        async with self.db.read() as conn:
            return await workers.alive_workers(conn, alive_after)

    async def all_workers(self) -> list[tuple[Mapping[str, Any], list[tuple[str, bool]]]]:
        async with self.db.read() as conn:
            return await workers.all_workers(conn)

    # ----- notifications --------------------------------------------------------------------------
    async def notifications_after(self, wallet: str, after: int, limit: int = 100) -> list[Mapping[str, Any]]:
        async with self.db.read() as conn:
            return await notifications.notifications_after(conn, wallet, after, limit)

    async def add_notifications(self, rows: Sequence[NotificationRow], now: float) -> None:
        async with self.db.write() as conn:
            await notifications.insert_notifications(conn, rows, to_datetime(now))

    # ----- views ----------------------------------------------------------------------------------
    async def task_details(self, task_id: str) -> TaskDetails | None:
        async with self.db.read() as conn:
            return await views.task_details(conn, task_id)

    async def deal_tasks(self, deal_id: str) -> list[Mapping[str, Any]]:
        async with self.db.read() as conn:
            return await views.deal_tasks(conn, deal_id)

    async def task_logs(self, task_id: str) -> list[Mapping[str, Any]]:
        async with self.db.read() as conn:
            return await views.task_logs_of(conn, task_id)

    # ----- event stream and metrics ---------------------------------------------------------------
    async def status_events_after(
        self,
        task_cursor: int,
        replicate_cursor: int,
        *,
        task_id: str | None = None,
        deal_id: str | None = None,
        limit: int = 500,
    ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
        """Task status changes with id > task_cursor and replicate status updates with id >
        replicate_cursor, of one task, one deal, or all, in id order (the ids are the stream's cursor)."""
        async with self.db.read() as conn:
            return await views.status_events_after(
                conn, task_cursor, replicate_cursor, task_id=task_id, deal_id=deal_id, limit=limit
            )

    async def status_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """How many tasks, and how many replicates, are in each status now."""
        async with self.db.read() as conn:
            return await views.status_counts(conn)

    async def completed_latencies(self) -> list[float]:
        """Seconds from RECEIVED (deal seen) to COMPLETED, for every completed task."""
        async with self.db.read() as conn:
            return await views.completed_latencies(conn)

    async def deals_overview(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest deals (by deal block) with their task counts by status."""
        async with self.db.read() as conn:
            return await views.deals_overview(conn, limit)
