"""Tasks: ingestion from deals, reads, the scans of the updater and the supply, and the write of one
engine transition.

A transition's write is optimistic: an UPDATE filtered on the status the caller read. When another
writer changed the task (or one of the replicates it writes) meanwhile, `write_transition` raises
`Stale` and the transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, delete, exists, insert, select, update

from ...protocol.statuses import TaskStatus as TS
from ...protocol.transitions import is_valid_task_path
from ...service.database import StoreConnection
from ..engine import Transition
from ..state import ReplicateRecord, TaskState
from . import replicates as replicate_queries
from .notifications import insert_notifications
from .records import NewTask, NotificationRow, Stale, task_state, to_datetime
from .tables import replicates, task_status_changes, tasks, worker_tasks

# Task fields the engine may set (TaskState attribute = column name).
ENGINE_FIELDS = frozenset(
    {
        "consensus",
        "consensus_block",
        "reveal_deadline",
        "uploading_wallet",
        "result_link",
        "callback_data",
        "initialization_block",
        "enclave_challenge",
    }
)

# Built once, like the statements of the status-update path (replicates.py).
TASK_BY_ID = select(tasks).where(tasks.c.chain_task_id == bindparam("b_task"))
# The columns an UPDATE sets are the keys of its parameters (SQLAlchemy: an update() without values()).
_UPDATE_IF_STATUS = update(tasks).where(
    tasks.c.chain_task_id == bindparam("b_task"), tasks.c.status == bindparam("b_status")
)
_APPEND_STATUS = insert(task_status_changes)
_LEAVE_ENDED_TASK = delete(worker_tasks).where(worker_tasks.c.task_id == bindparam("b_task"))


class InvalidTaskTransition(RuntimeError):
    """The engine asked for a status path the task transition table forbids: a bug, never written."""


async def add_tasks(conn: StoreConnection, new_tasks: Sequence[NewTask], now: float) -> list[str]:
    """Stores RECEIVED the tasks not known yet (by deal and index); the ids of those created."""
    created: list[str] = []
    for new in new_tasks:
        known = await conn.scalar(
            select(tasks.c.chain_task_id).where(tasks.c.deal_id == new.deal_id, tasks.c.task_index == new.task_index)
        )
        if known is not None:
            continue
        when = to_datetime(now)
        await conn.execute(
            insert(tasks).values(
                chain_task_id=new.chain_task_id,
                deal_id=new.deal_id,
                task_index=new.task_index,
                deal_block=new.deal_block,
                status=TS.RECEIVED.value,
                status_date=when,
                trust=new.trust,
                tag=new.tag,
                category=new.category,
                max_execution_time=new.max_execution_time,
                app_address=new.app_address,
                app_multiaddr=new.app_multiaddr,
                command_line=new.command_line,
                requester=new.requester,
                beneficiary=new.beneficiary,
                callback=new.callback,
                contribution_deadline=to_datetime(new.contribution_deadline),
                final_deadline=to_datetime(new.final_deadline),
                created_at=when,
                updated_at=when,
            )
        )
        await conn.execute(
            insert(task_status_changes).values(
                task_id=new.chain_task_id,
                status=TS.RECEIVED.value,
                date=when,
                message=f"deal {new.deal_id} seen at block {new.deal_block}",
            )
        )
        created.append(new.chain_task_id)
    return created


async def task(conn: StoreConnection, task_id: str) -> TaskState | None:
    row = (await conn.execute(TASK_BY_ID, {"b_task": task_id})).mappings().first()
    return task_state(row) if row else None


async def load(conn: StoreConnection, task_id: str) -> tuple[TaskState, list[ReplicateRecord]] | None:
    """The task and its replicates with their histories (one snapshot if `conn` reads one)."""
    row = (await conn.execute(TASK_BY_ID, {"b_task": task_id})).mappings().first()
    if row is None:
        return None
    return task_state(row), await replicate_queries.replicates_of_task(conn, task_id)


async def task_ids(
    conn: StoreConnection,
    statuses: Iterable[TS],
    *,
    contribution_deadline_after: float | None,
    contribution_deadline_until: float | None,
    final_deadline_after: float | None,
    final_deadline_until: float | None,
    reveal_deadline_until: float | None,
    limit: int,
) -> list[str]:
    """Ids of tasks in some statuses, optionally bounded by deadlines (indexed: status, deadline)."""
    conditions: list[ColumnElement[bool]] = [tasks.c.status.in_([s.value for s in statuses])]
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
    return list((await conn.scalars(query)).all())


async def supply_candidates(
    conn: StoreConnection, wallet: str, now: float, *, limit: int, offset: int
) -> list[TaskState]:
    """Tasks accepting contributions that the worker holds no replicate of: RUNNING first, then
    the earliest contribution deadline (indexed by status and contribution deadline)."""
    statuses = [TS.INITIALIZED.value, TS.RUNNING.value]
    held = exists().where(replicates.c.task_id == tasks.c.chain_task_id, replicates.c.wallet == wallet)
    query = (
        select(tasks)
        .where(tasks.c.status.in_(statuses), tasks.c.contribution_deadline > to_datetime(now), ~held)
        .order_by(
            case((tasks.c.status == TS.RUNNING.value, 0), else_=1), tasks.c.contribution_deadline, tasks.c.chain_task_id
        )
        .limit(limit)
        .offset(offset)
    )
    return [task_state(row) for row in (await conn.execute(query)).mappings().all()]


def transition_values(task: TaskState, transition: Transition, now: float) -> dict[str, Any]:
    """The task columns `transition` sets. Raises InvalidTaskTransition, before any transaction
    starts, for a path the transition table forbids or a field the engine may not set."""
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
    return values


async def write_transition(
    conn: StoreConnection,
    task: TaskState,
    transition: Transition,
    values: dict[str, Any],
    rows: Sequence[NotificationRow],
    now: float,
) -> None:
    """Writes one engine transition (`values` from `transition_values`), guarded by the status `task`
    was read with: appends the statuses, sets the fields, writes the scheduler's replicate statuses
    (each guarded by the status it expects), stores the notifications, and purges the workers' task lists
    when the task ends. Raises `Stale` if the task or a replicate changed meanwhile."""
    when = to_datetime(now)
    done = await conn.execute(
        _UPDATE_IF_STATUS, {"b_task": task.chain_task_id, "b_status": task.status.value, **values}
    )
    if done.rowcount != 1:
        raise Stale
    for change in transition.statuses:
        await conn.execute(
            _APPEND_STATUS,
            {
                "task_id": task.chain_task_id,
                "status": change.status.value,
                "date": when,
                "cause": change.cause.value if change.cause else None,
                "message": change.message,
                "block_number": change.block_number,
                "tx_hash": change.tx_hash,
            },
        )
    for replicate in transition.replicates:
        if not await replicate_queries.append_status(
            conn, task.chain_task_id, replicate.wallet, replicate.expected, replicate.accepted
        ):
            raise Stale
    await insert_notifications(conn, rows, when)
    if transition.statuses and transition.statuses[-1].status.is_final:
        await conn.execute(_LEAVE_ENDED_TASK, {"b_task": task.chain_task_id})
