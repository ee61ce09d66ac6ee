"""Every query of the scheduler, in one place. Methods are coroutines; each write is one transaction.

Status writes are optimistic: an UPDATE filtered on the status the caller read. When another writer
changed it meanwhile, nothing is written and the method answers False (the caller decides again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...protocol.models import WorkerModel
from ...protocol.statuses import (
    IRRELEVANT_STATUSES,
    ReplicateStatus as RS,
    ReplicateStatusCause as Cause,
    ReplicateStatusModifier as Modifier,
    TaskStatus as TS,
)
from ...protocol.transitions import is_valid_task_path
from ..engine import Transition
from ..engine.replicates import Accepted, with_history
from ..state import NewReplicateUpdate, ReplicateEntry, ReplicateState, TaskState, WorkerState
from .db import open_database
from .tables import (
    chain_cursors,
    notifications,
    replicate_status_updates,
    replicates,
    task_logs,
    task_status_changes,
    tasks,
    worker_tasks,
    workers,
)

# Task fields the engine may set (TaskState attribute = column name).
ENGINE_FIELDS = frozenset({
    "consensus", "consensus_block", "reveal_deadline", "uploading_wallet", "result_link", "callback_data",
    "initialization_block", "enclave_challenge",
})


# Statements of the status-update path, built once: building and hashing a statement on every call
# cost more than running it on SQLite (bench/RESULTS.md, profile of status-updates).
_HISTORY_COLUMNS = (
    replicates, replicate_status_updates.c.status.label("u_status"), replicate_status_updates.c.date.label("u_date"),
    replicate_status_updates.c.modifier.label("u_modifier"), replicate_status_updates.c.cause.label("u_cause"),
)
_TASK_BY_ID = select(tasks).where(tasks.c.chain_task_id == bindparam("b_task"))
_HISTORY = (
    select(*_HISTORY_COLUMNS)
    .join(replicate_status_updates, replicate_status_updates.c.replicate_id == replicates.c.id)
    .order_by(replicates.c.id, replicate_status_updates.c.id)
)
_HISTORY_OF_TASK = _HISTORY.where(replicates.c.task_id == bindparam("b_task"))
_HISTORY_OF_ONE = _HISTORY_OF_TASK.where(replicates.c.wallet == bindparam("b_wallet"))
_SET_STATUS = (
    update(replicates)
    .where(replicates.c.id == bindparam("b_id"), replicates.c.status == bindparam("b_expected"))
    .values(status=bindparam("b_status"), last_relevant_status=bindparam("b_relevant"),
            updated_at=bindparam("b_updated", type_=replicates.c.updated_at.type))
)
_APPEND_UPDATE = insert(replicate_status_updates)


class InvalidTaskTransition(RuntimeError):
    """The engine asked for a status path the task transition table forbids: a bug, never written."""


class _Stale(Exception):
    """The record changed since it was read: roll the transaction back."""


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def to_seconds(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


@dataclass(frozen=True)
class NewTask:
    """A task read from a deal, ready to be stored RECEIVED."""

    chain_task_id: str
    deal_id: str
    task_index: int
    deal_block: int
    trust: int
    tag: str
    category: int
    max_execution_time: int
    app_address: str
    app_multiaddr: str
    command_line: str
    requester: str
    beneficiary: str
    callback: str
    contribution_deadline: float
    final_deadline: float


@dataclass(frozen=True)
class NotificationRow:
    wallet: str
    task_id: str
    type: str
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class TaskDetails:
    """Everything the task view shows, as rows."""

    task: Mapping[str, Any]
    changes: list[Mapping[str, Any]]
    replicates: list[Mapping[str, Any]]
    updates: dict[int, list[Mapping[str, Any]]]  # replicate id -> its history
    log_wallets: set[str]


def task_state(row: Mapping[str, Any]) -> TaskState:
    return TaskState(
        chain_task_id=row["chain_task_id"],
        deal_id=row["deal_id"],
        task_index=row["task_index"],
        status=TS(row["status"]),
        status_date=row["status_date"].timestamp(),
        trust=row["trust"],
        tag=row["tag"],
        max_execution_time=row["max_execution_time"],
        contribution_deadline=row["contribution_deadline"].timestamp(),
        final_deadline=row["final_deadline"].timestamp(),
        deal_block=row["deal_block"],
        reveal_deadline=to_seconds(row["reveal_deadline"]),
        initialization_block=row["initialization_block"],
        consensus=row["consensus"],
        consensus_block=row["consensus_block"],
        uploading_wallet=row["uploading_wallet"],
        result_link=row["result_link"],
        callback_data=row["callback_data"],
        has_callback=int(row["callback"], 16) != 0,
        enclave_challenge=row["enclave_challenge"],
    )


def _replicate_states(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[ReplicateState]]:
    """Replicates with their histories, by task id, from rows of `_HISTORY` (one row per entry)."""
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["id"], []).append(row)
    result: dict[str, list[ReplicateState]] = {}
    for entries in grouped.values():
        first = entries[0]
        result.setdefault(first["task_id"], []).append(ReplicateState(
            wallet=first["wallet"],
            history=tuple(
                ReplicateEntry(RS(e["u_status"]), e["u_date"].timestamp(), Modifier(e["u_modifier"]),
                               Cause(e["u_cause"]) if e["u_cause"] else None)
                for e in entries
            ),
            contribution_hash=first["contribution_hash"],
            worker_weight=first["worker_weight"],
            result_link=first["result_link"],
            callback_data=first["callback_data"],
        ))
    return result


def _relevant(new: RS, previous_relevant: str) -> str:
    return previous_relevant if new in IRRELEVANT_STATUSES else new.value


class Store:
    """The scheduler database. `open()` runs the migrations; `close()` releases connections."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.db = open_database(url)
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
            value = await conn.scalar(select(chain_cursors.c.last_block).where(chain_cursors.c.name == name))
        return -1 if value is None else int(value)

    async def _set_cursor(self, conn: Any, name: str, block: int, now: float) -> None:
        done = await conn.execute(
            update(chain_cursors).where(chain_cursors.c.name == name)
            .values(last_block=block, updated_at=to_datetime(now))
        )
        if done.rowcount == 0:
            await conn.execute(insert(chain_cursors).values(name=name, last_block=block, updated_at=to_datetime(now)))

    # ----- tasks ----------------------------------------------------------------------------------
    async def add_tasks(self, new_tasks: Sequence[NewTask], cursor_block: int, now: float, *,
                        cursor: str = "deals") -> list[str]:
        """Stores the tasks not known yet (by deal and index) and moves the cursor, in one transaction.

        Returns the ids of the tasks created.
        """
        created: list[str] = []
        async with self.db.write() as conn:
            for new in new_tasks:
                known = await conn.scalar(select(tasks.c.chain_task_id).where(
                    tasks.c.deal_id == new.deal_id, tasks.c.task_index == new.task_index))
                if known is not None:
                    continue
                when = to_datetime(now)
                await conn.execute(insert(tasks).values(
                    chain_task_id=new.chain_task_id, deal_id=new.deal_id, task_index=new.task_index,
                    deal_block=new.deal_block, status=TS.RECEIVED.value, status_date=when, trust=new.trust,
                    tag=new.tag, category=new.category, max_execution_time=new.max_execution_time,
                    app_address=new.app_address, app_multiaddr=new.app_multiaddr, command_line=new.command_line,
                    requester=new.requester, beneficiary=new.beneficiary, callback=new.callback,
                    contribution_deadline=to_datetime(new.contribution_deadline),
                    final_deadline=to_datetime(new.final_deadline), created_at=when, updated_at=when,
                ))
                await conn.execute(insert(task_status_changes).values(
                    task_id=new.chain_task_id, status=TS.RECEIVED.value, date=when,
                    message=f"deal {new.deal_id} seen at block {new.deal_block}",
                ))
                created.append(new.chain_task_id)
            await self._set_cursor(conn, cursor, cursor_block, now)
        self._written(len(created))
        return created

    async def load(self, task_id: str) -> tuple[TaskState, list[ReplicateState]] | None:
        """The task and its replicates with their histories, read in one snapshot."""
        async with self.db.read() as conn:
            row = (await conn.execute(_TASK_BY_ID, {"b_task": task_id})).mappings().first()
            if row is None:
                return None
            return task_state(row), await self._replicates(conn, task_id)

    async def _replicates(self, conn: Any, task_id: str, wallet: str | None = None) -> list[ReplicateState]:
        if wallet is None:
            result = await conn.execute(_HISTORY_OF_TASK, {"b_task": task_id})
        else:
            result = await conn.execute(_HISTORY_OF_ONE, {"b_task": task_id, "b_wallet": wallet})
        return _replicate_states(result.mappings().all()).get(task_id, [])

    async def replicates_of_tasks(self, task_ids: Sequence[str]) -> dict[str, list[ReplicateState]]:
        """The replicates of several tasks, by task id, read in one query (the supply scan)."""
        if not task_ids:
            return {}
        async with self.db.read() as conn:
            rows = (await conn.execute(_HISTORY.where(replicates.c.task_id.in_(task_ids)))).mappings().all()
        return _replicate_states(rows)

    async def replicate(self, task_id: str, wallet: str) -> ReplicateState | None:
        async with self.db.read() as conn:
            found = await self._replicates(conn, task_id, wallet)
        return found[0] if found else None

    async def task(self, task_id: str) -> TaskState | None:
        async with self.db.read() as conn:
            row = (await conn.execute(_TASK_BY_ID, {"b_task": task_id})).mappings().first()
        return task_state(row) if row else None

    async def task_ids(
        self, statuses: Iterable[TS], *,
        contribution_deadline_after: float | None = None,
        contribution_deadline_until: float | None = None,
        final_deadline_after: float | None = None,
        final_deadline_until: float | None = None,
        reveal_deadline_until: float | None = None,
        limit: int = 1000,
    ) -> list[str]:
        """Ids of tasks in some statuses, optionally bounded by deadlines (indexed: status, deadline)."""
        conditions = [tasks.c.status.in_([s.value for s in statuses])]
        if contribution_deadline_after is not None:
            conditions.append(tasks.c.contribution_deadline > to_datetime(contribution_deadline_after))
        if contribution_deadline_until is not None:
            conditions.append(tasks.c.contribution_deadline <= to_datetime(contribution_deadline_until))
        if final_deadline_after is not None:
            conditions.append(tasks.c.final_deadline > to_datetime(final_deadline_after))
        if final_deadline_until is not None:
            conditions.append(tasks.c.final_deadline <= to_datetime(final_deadline_until))
        if reveal_deadline_until is not None:
            conditions.append(tasks.c.reveal_deadline <= to_datetime(reveal_deadline_until))
        query = select(tasks.c.chain_task_id).where(and_(*conditions)).order_by(tasks.c.final_deadline).limit(limit)
        async with self.db.read() as conn:
            return list((await conn.scalars(query)).all())

    async def apply(self, task: TaskState, transition: Transition, pushes: Sequence[NotificationRow],
                    now: float) -> bool:
        """Writes one engine transition, guarded by the status `task` was read with.

        Appends the statuses, sets the fields, writes the scheduler's replicate statuses (each guarded
        by the status it expects), stores the pushes, and purges the workers' task lists when the
        task ends. False (and nothing written) if the task or a replicate changed meanwhile.
        """
        path = [change.status for change in transition.statuses]
        if path and not is_valid_task_path(task.status, path):
            raise InvalidTaskTransition(f"task {task.chain_task_id}: {task.status} -> {' -> '.join(path)}")
        unknown = set(transition.fields) - ENGINE_FIELDS
        if unknown:
            raise InvalidTaskTransition(f"task {task.chain_task_id}: unknown fields {sorted(unknown)}")
        when = to_datetime(now)
        values: dict[str, Any] = {"updated_at": when, **transition.fields}
        if "reveal_deadline" in values and values["reveal_deadline"] is not None:
            values["reveal_deadline"] = to_datetime(values["reveal_deadline"])
        if path:
            values.update(status=path[-1].value, status_date=when)
        try:
            async with self.db.write() as conn:
                done = await conn.execute(
                    update(tasks)
                    .where(tasks.c.chain_task_id == task.chain_task_id, tasks.c.status == task.status.value)
                    .values(**values)
                )
                if done.rowcount != 1:
                    raise _Stale
                for change in transition.statuses:
                    await conn.execute(insert(task_status_changes).values(
                        task_id=task.chain_task_id, status=change.status.value, date=when, cause=change.cause,
                        message=change.message, block_number=change.block_number, tx_hash=change.tx_hash,
                    ))
                for change in transition.replicates:
                    if not await _append_replicate_status(conn, task.chain_task_id, change.wallet, change.expected,
                                                          change.accepted):
                        raise _Stale
                await self._insert_notifications(conn, pushes, when)
                if path and path[-1].is_final:
                    await conn.execute(delete(worker_tasks).where(worker_tasks.c.task_id == task.chain_task_id))
        except _Stale:
            return False
        self._written(len(transition.statuses) + len(transition.replicates))
        return True

    async def _insert_notifications(self, conn: Any, pushes: Sequence[NotificationRow], when: datetime) -> None:
        for push in pushes:
            await conn.execute(insert(notifications).values(
                wallet=push.wallet, task_id=push.task_id, type=push.type, extra=dict(push.extra), created_at=when,
            ))

    # ----- replicates -----------------------------------------------------------------------------
    async def add_replicate(self, task_id: str, wallet: str, weight: int, max_nb_tasks: int, now: float) -> bool:
        """Gives the worker a replicate CREATED and a computing slot, in one transaction.

        False if the worker has no free slot or already holds a replicate of the task.
        """
        when = to_datetime(now)
        try:
            async with self.db.write() as conn:
                computing = await conn.scalar(select(func.count()).select_from(worker_tasks).where(
                    worker_tasks.c.wallet == wallet, worker_tasks.c.computing.is_(True)))
                if computing >= max_nb_tasks:
                    raise _Stale
                done = await conn.execute(insert(replicates).values(
                    task_id=task_id, wallet=wallet, status=RS.CREATED.value, last_relevant_status=RS.CREATED.value,
                    worker_weight=weight, created_at=when, updated_at=when,
                ))
                await conn.execute(insert(replicate_status_updates).values(
                    replicate_id=done.inserted_primary_key[0], status=RS.CREATED.value,
                    modifier=Modifier.POOL_MANAGER.value, date=when,
                ))
                await conn.execute(insert(worker_tasks).values(wallet=wallet, task_id=task_id, computing=True,
                                                               created_at=when))
        except (_Stale, IntegrityError):
            return False
        self._written(1)
        return True

    @asynccontextmanager
    async def replicate_writer(self, task_id: str, wallet: str) -> AsyncIterator[ReplicateWriter]:
        """One write transaction on one replicate: `writer.replicate` is read in it (None: no such
        replicate) and each `writer.append(accepted)` appends a decided status, guarded by the status
        the decision read. Committed when the block ends; rolled back if it raises (StaleReplicate:
        another writer changed the replicate, decide again)."""
        async with self.db.write() as conn:
            found = await self._replicates(conn, task_id, wallet)
            writer = ReplicateWriter(conn, task_id, wallet, found[0] if found else None)
            yield writer
        self._written(writer.written)

    # ----- supply ---------------------------------------------------------------------------------
    async def supply_candidates(self, wallet: str, now: float, *, limit: int, offset: int) -> list[TaskState]:
        """Tasks accepting contributions that the worker holds no replicate of: RUNNING first, then
        the earliest contribution deadline (indexed by status and contribution deadline)."""
        statuses = [TS.INITIALIZED.value, TS.RUNNING.value]
        held = exists().where(replicates.c.task_id == tasks.c.chain_task_id, replicates.c.wallet == wallet)
        query = (
            select(tasks)
            .where(tasks.c.status.in_(statuses), tasks.c.contribution_deadline > to_datetime(now), ~held)
            .order_by(case((tasks.c.status == TS.RUNNING.value, 0), else_=1), tasks.c.contribution_deadline,
                      tasks.c.chain_task_id)
            .limit(limit).offset(offset)
        )
        async with self.db.read() as conn:
            return [task_state(row) for row in (await conn.execute(query)).mappings().all()]

    async def replicates_in(
        self, task_statuses: Iterable[TS], last_relevant: Iterable[RS], *, limit: int = 1000,
    ) -> list[tuple[str, str]]:
        """(task id, wallet) of replicates whose last relevant status is one of `last_relevant`, in tasks
        in one of `task_statuses` (indexed: replicates by last relevant status, tasks by id)."""
        query = (
            select(replicates.c.task_id, replicates.c.wallet)
            .join(tasks, tasks.c.chain_task_id == replicates.c.task_id)
            .where(replicates.c.last_relevant_status.in_([s.value for s in last_relevant]),
                   tasks.c.status.in_([s.value for s in task_statuses]))
            .order_by(replicates.c.id).limit(limit)
        )
        async with self.db.read() as conn:
            return [(row.task_id, row.wallet) for row in (await conn.execute(query)).all()]

    async def lost_replicates(self, alive_after: float, now: float, *, limit: int = 1000) -> list[tuple[str, str]]:
        """(task id, wallet) of replicates held by workers that did not ping since `alive_after`, in
        tasks whose final deadline is not passed, not yet WORKER_LOST nor final (indexed: workers by
        last ping, worker_tasks by wallet, replicates by wallet and task)."""
        ended = [RS.WORKER_LOST.value, RS.COMPLETED.value, RS.FAILED.value]
        query = (
            select(replicates.c.task_id, replicates.c.wallet)
            .select_from(workers)
            .join(worker_tasks, worker_tasks.c.wallet == workers.c.wallet)
            .join(replicates, (replicates.c.wallet == worker_tasks.c.wallet)
                  & (replicates.c.task_id == worker_tasks.c.task_id))
            .join(tasks, tasks.c.chain_task_id == replicates.c.task_id)
            .where(workers.c.last_alive < to_datetime(alive_after), replicates.c.status.not_in(ended),
                   tasks.c.final_deadline > to_datetime(now))
            .order_by(replicates.c.id).limit(limit)
        )
        async with self.db.read() as conn:
            return [(row.task_id, row.wallet) for row in (await conn.execute(query)).all()]

    async def replicates_of(self, task_id: str) -> list[ReplicateState]:
        async with self.db.read() as conn:
            return await self._replicates(conn, task_id)

    # ----- workers --------------------------------------------------------------------------------
    async def register_worker(self, wallet: str, model: WorkerModel, now: float) -> None:
        """Creates or updates the worker (keeping its task lists) and marks it alive."""
        when = to_datetime(now)
        values = {
            "name": model.name, "os": model.os, "cpu": model.cpu, "cpu_nb": model.cpuNb,
            "memory_size": model.memorySize, "max_nb_tasks": 1 if model.gpuEnabled else model.cpuNb,
            "gpu_enabled": model.gpuEnabled, "tee_enabled": model.teeEnabled, "tdx_enabled": model.tdxEnabled,
            "last_alive": when, "updated_at": when,
        }
        async with self.db.write() as conn:
            done = await conn.execute(update(workers).where(workers.c.wallet == wallet).values(**values))
            if done.rowcount == 0:
                await conn.execute(insert(workers).values(wallet=wallet, registered_at=when, **values))

    async def touch_alive(self, wallet: str, now: float) -> bool:
        """Records a ping. False if the worker never registered."""
        async with self.db.write() as conn:
            done = await conn.execute(update(workers).where(workers.c.wallet == wallet)
                                      .values(last_alive=to_datetime(now)))
        return done.rowcount == 1

    async def claim_replicate_demand(self, wallet: str, now: float, min_gap: float) -> bool:
        """Rate limit of replicate demands: records this demand only if the previous one is at least
        `min_gap` seconds old (atomic). False if too early or the worker is not registered."""
        threshold = to_datetime(now - min_gap)
        async with self.db.write() as conn:
            done = await conn.execute(
                update(workers)
                .where(workers.c.wallet == wallet,
                       (workers.c.last_replicate_demand.is_(None)) | (workers.c.last_replicate_demand <= threshold))
                .values(last_replicate_demand=to_datetime(now))
            )
        return done.rowcount == 1

    async def worker(self, wallet: str) -> WorkerState | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(workers).where(workers.c.wallet == wallet))).mappings().first()
            if row is None:
                return None
            memberships = (await conn.execute(
                select(worker_tasks.c.task_id, worker_tasks.c.computing).where(worker_tasks.c.wallet == wallet)
                .order_by(worker_tasks.c.created_at)
            )).all()
        return WorkerState(
            wallet=wallet, max_nb_tasks=row["max_nb_tasks"],
            computing=sum(1 for m in memberships if m.computing),
            gpu_enabled=row["gpu_enabled"], tee_enabled=row["tee_enabled"], tdx_enabled=row["tdx_enabled"],
            participating=tuple(m.task_id for m in memberships),
        )

    async def worker_row(self, wallet: str) -> Mapping[str, Any] | None:
        async with self.db.read() as conn:
            return (await conn.execute(select(workers).where(workers.c.wallet == wallet))).mappings().first()

    async def worker_tasks(self, wallet: str, *, computing_only: bool = False) -> list[str]:
        query = select(worker_tasks.c.task_id).where(worker_tasks.c.wallet == wallet)
        if computing_only:
            query = query.where(worker_tasks.c.computing.is_(True))
        async with self.db.read() as conn:
            return list((await conn.scalars(query.order_by(worker_tasks.c.created_at))).all())

    async def all_workers(self) -> list[tuple[Mapping[str, Any], list[tuple[str, bool]]]]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(workers).order_by(workers.c.registered_at))).mappings().all()
            memberships = (await conn.execute(
                select(worker_tasks.c.wallet, worker_tasks.c.task_id, worker_tasks.c.computing)
                .order_by(worker_tasks.c.created_at)
            )).all()
        by_wallet: dict[str, list[tuple[str, bool]]] = {}
        for m in memberships:
            by_wallet.setdefault(m.wallet, []).append((m.task_id, m.computing))
        return [(row, by_wallet.get(row["wallet"], [])) for row in rows]

    # ----- notifications --------------------------------------------------------------------------
    async def notifications_after(self, wallet: str, after: int, limit: int = 100) -> list[Mapping[str, Any]]:
        query = (select(notifications).where(notifications.c.wallet == wallet, notifications.c.id > after)
                 .order_by(notifications.c.id).limit(limit))
        async with self.db.read() as conn:
            return list((await conn.execute(query)).mappings().all())

    async def add_notifications(self, pushes: Sequence[NotificationRow], now: float) -> None:
        async with self.db.write() as conn:
            await self._insert_notifications(conn, pushes, to_datetime(now))

    # ----- views ----------------------------------------------------------------------------------
    async def task_details(self, task_id: str) -> TaskDetails | None:
        async with self.db.read() as conn:
            row = (await conn.execute(_TASK_BY_ID, {"b_task": task_id})).mappings().first()
            if row is None:
                return None
            changes = (await conn.execute(
                select(task_status_changes).where(task_status_changes.c.task_id == task_id)
                .order_by(task_status_changes.c.id))).mappings().all()
            reps = (await conn.execute(
                select(replicates).where(replicates.c.task_id == task_id).order_by(replicates.c.id))).mappings().all()
            updates_rows = (await conn.execute(
                select(replicate_status_updates).join(replicates, replicates.c.id == replicate_status_updates.c.replicate_id)
                .where(replicates.c.task_id == task_id).order_by(replicate_status_updates.c.id))).mappings().all()
            log_wallets = set((await conn.scalars(select(task_logs.c.wallet).where(task_logs.c.task_id == task_id))).all())
        updates_by: dict[int, list[Mapping[str, Any]]] = {}
        for u in updates_rows:
            updates_by.setdefault(u["replicate_id"], []).append(u)
        return TaskDetails(row, list(changes), list(reps), updates_by, log_wallets)

    async def deal_tasks(self, deal_id: str) -> list[Mapping[str, Any]]:
        query = (select(tasks.c.chain_task_id, tasks.c.task_index, tasks.c.status)
                 .where(tasks.c.deal_id == deal_id).order_by(tasks.c.task_index))
        async with self.db.read() as conn:
            return list((await conn.execute(query)).mappings().all())

    async def task_logs(self, task_id: str) -> list[Mapping[str, Any]]:
        async with self.db.read() as conn:
            return list((await conn.execute(
                select(task_logs).where(task_logs.c.task_id == task_id).order_by(task_logs.c.id))).mappings().all())

    # ----- event stream and metrics ---------------------------------------------------------------
    async def status_events_after(
        self, task_cursor: int, replicate_cursor: int, *, task_id: str | None = None, deal_id: str | None = None,
        limit: int = 500,
    ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
        """Task status changes with id > task_cursor and replicate status updates with id >
        replicate_cursor, of one task, one deal, or all, in id order (the ids are the stream's cursor)."""
        task_query = (
            select(task_status_changes.c.id, task_status_changes.c.task_id, task_status_changes.c.status,
                   task_status_changes.c.date, task_status_changes.c.cause, task_status_changes.c.message,
                   tasks.c.deal_id)
            .join(tasks, tasks.c.chain_task_id == task_status_changes.c.task_id)
            .where(task_status_changes.c.id > task_cursor).order_by(task_status_changes.c.id).limit(limit)
        )
        replicate_query = (
            select(replicate_status_updates.c.id, replicates.c.task_id, replicates.c.wallet,
                   replicate_status_updates.c.status, replicate_status_updates.c.date,
                   replicate_status_updates.c.cause, tasks.c.deal_id)
            .join(replicates, replicates.c.id == replicate_status_updates.c.replicate_id)
            .join(tasks, tasks.c.chain_task_id == replicates.c.task_id)
            .where(replicate_status_updates.c.id > replicate_cursor).order_by(replicate_status_updates.c.id)
            .limit(limit)
        )
        if task_id is not None:
            task_query = task_query.where(tasks.c.chain_task_id == task_id)
            replicate_query = replicate_query.where(tasks.c.chain_task_id == task_id)
        if deal_id is not None:
            task_query = task_query.where(tasks.c.deal_id == deal_id)
            replicate_query = replicate_query.where(tasks.c.deal_id == deal_id)
        async with self.db.read() as conn:
            task_rows = (await conn.execute(task_query)).mappings().all()
            replicate_rows = (await conn.execute(replicate_query)).mappings().all()
        return list(task_rows), list(replicate_rows)

    async def status_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """How many tasks, and how many replicates, are in each status now."""
        async with self.db.read() as conn:
            task_rows = (await conn.execute(
                select(tasks.c.status, func.count()).group_by(tasks.c.status))).all()
            replicate_rows = (await conn.execute(
                select(replicates.c.status, func.count()).group_by(replicates.c.status))).all()
        return {s: n for s, n in task_rows}, {s: n for s, n in replicate_rows}

    async def completed_latencies(self) -> list[float]:
        """Seconds from RECEIVED (deal seen) to COMPLETED, for every completed task."""
        received = (select(task_status_changes.c.task_id, func.min(task_status_changes.c.date).label("seen"))
                    .where(task_status_changes.c.status == TS.RECEIVED.value)
                    .group_by(task_status_changes.c.task_id).subquery())
        query = (select(received.c.seen, task_status_changes.c.date)
                 .join(received, received.c.task_id == task_status_changes.c.task_id)
                 .where(task_status_changes.c.status == TS.COMPLETED.value))
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        result = []
        for seen, done in rows:
            seen, done = to_seconds(_aware(seen)), to_seconds(_aware(done))
            if seen is not None and done is not None:
                result.append(max(done - seen, 0.0))
        return result

    async def deals_overview(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest deals (by deal block) with their task counts by status."""
        query = (select(tasks.c.deal_id, tasks.c.status, func.count(), func.max(tasks.c.deal_block),
                        func.min(tasks.c.created_at))
                 .group_by(tasks.c.deal_id, tasks.c.status))
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        deals: dict[str, dict[str, Any]] = {}
        for deal_id, status, count, block, created in rows:
            entry = deals.setdefault(deal_id, {"dealId": deal_id, "block": block, "counts": {}, "tasks": 0})
            entry["counts"][status] = count
            entry["tasks"] += count
        return sorted(deals.values(), key=lambda d: -(d["block"] or 0))[:limit]


def _aware(value: Any) -> datetime | None:
    """Aggregates (min/max) bypass the column type on SQLite: parse and mark UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class StaleReplicate(Exception):
    """The replicate changed between the read a decision was made on and its write."""


class ReplicateWriter:
    """The replicate of one worker inside one write transaction (see `Store.replicate_writer`)."""

    def __init__(self, conn: Any, task_id: str, wallet: str, replicate: ReplicateState | None) -> None:
        self._conn = conn
        self.task_id = task_id
        self.wallet = wallet
        self.replicate = replicate
        self.written = 0
        self._known: tuple[int, str] | None = None

    async def append(self, accepted: Accepted) -> None:
        """Appends one decided status; `replicate` then shows it."""
        assert self.replicate is not None, "no replicate to append to"
        known = await _append_replicate_status(self._conn, self.task_id, self.wallet, self.replicate.status,
                                               accepted, known=self._known)
        if known is None:
            raise StaleReplicate(f"replicate {self.task_id}/{self.wallet} changed meanwhile")
        self._known = known
        self.replicate = with_history(self.replicate, accepted)
        self.written += 1


async def _append_replicate_status(
    conn: Any, task_id: str, wallet: str, expected: RS, accepted: Accepted, *,
    known: tuple[int, str] | None = None,
) -> tuple[int, str] | None:
    """The one replicate append: the status (if the replicate is still `expected`), what the decision
    verified (contribution, result link, callback data), the first compute logs of this worker, and
    the worker's task lists. Its (row id, last relevant status) afterwards, which a caller writing
    several in one transaction passes back as `known`; None if the replicate changed."""
    new = accepted.entry
    if known is None:
        row = (await conn.execute(
            select(replicates.c.id, replicates.c.status, replicates.c.last_relevant_status)
            .where(replicates.c.task_id == task_id, replicates.c.wallet == wallet)
        )).first()
        if row is None or row.status != expected.value:
            return None
        known = (row.id, row.last_relevant_status)
    replicate_id, last_relevant = known
    relevant = _relevant(new.status, last_relevant)
    if accepted.contribution is None and accepted.result_link is None and accepted.callback_data is None:
        done = await conn.execute(_SET_STATUS, {
            "b_id": replicate_id, "b_expected": expected.value, "b_status": new.status.value,
            "b_relevant": relevant, "b_updated": to_datetime(new.date)})
    else:
        values: dict[str, Any] = {
            "status": new.status.value, "last_relevant_status": relevant, "updated_at": to_datetime(new.date),
        }
        if accepted.contribution is not None:
            values["contribution_hash"], values["worker_weight"] = accepted.contribution
        if accepted.result_link is not None:
            values["result_link"] = accepted.result_link
        if accepted.callback_data is not None:
            values["callback_data"] = accepted.callback_data
        done = await conn.execute(
            update(replicates).where(replicates.c.id == replicate_id, replicates.c.status == expected.value)
            .values(**values)
        )
    if done.rowcount != 1:
        return None
    await conn.execute(_APPEND_UPDATE, {
        "replicate_id": replicate_id, "status": new.status.value, "modifier": new.modifier.value,
        "date": to_datetime(new.date), "cause": new.cause.value if new.cause else None,
        "error_message": new.error_message, "exit_code": new.exit_code, "block_number": new.block_number,
        "tx_hash": new.tx_hash, "result_link": new.result_link, "tee_session_error": new.tee_session_error,
    })
    if accepted.logs is not None:
        present = await conn.scalar(select(task_logs.c.id).where(
            task_logs.c.task_id == task_id, task_logs.c.wallet == wallet))
        if present is None:
            await conn.execute(insert(task_logs).values(
                task_id=task_id, wallet=wallet, stdout=accepted.logs[0], stderr=accepted.logs[1],
                created_at=to_datetime(new.date)))
    membership = (worker_tasks.c.wallet == wallet) & (worker_tasks.c.task_id == task_id)
    if accepted.leave_task:
        await conn.execute(delete(worker_tasks).where(membership))
    elif accepted.free_computing_slot:
        await conn.execute(update(worker_tasks).where(membership).values(computing=False))
    return replicate_id, relevant
