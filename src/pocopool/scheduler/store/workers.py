"""Workers: registration, pings, the replicate-demand rate limit, and the tasks each one holds
(worker_tasks: one row per task the worker participates in, `computing` while it holds a slot)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from ...protocol.models import WorkerModel
from ...service.database import StoreConnection
from ..state import WorkerState
from .records import to_datetime
from .tables import worker_tasks, workers


async def register_worker(
    conn: StoreConnection, wallet: str, model: WorkerModel, max_nb_tasks: int, now: float
) -> None:
    """Creates or updates the worker (keeping its task lists) with its slot count, and marks it alive."""
    when = to_datetime(now)
    values = {
        "name": model.name,
        "os": model.os,
        "cpu": model.cpu,
        "cpu_nb": model.cpuNb,
        "memory_size": model.memorySize,
        "max_nb_tasks": max_nb_tasks,
        "gpu_enabled": model.gpuEnabled,
        "tee_enabled": model.teeEnabled,
        "tdx_enabled": model.tdxEnabled,
        "last_alive": when,
        "updated_at": when,
    }
    done = await conn.execute(update(workers).where(workers.c.wallet == wallet).values(**values))
    if done.rowcount == 0:
        await conn.execute(insert(workers).values(wallet=wallet, registered_at=when, **values))


async def touch_alive(conn: StoreConnection, wallet: str, now: float) -> bool:
    """Records a ping. False if the worker never registered."""
    done = await conn.execute(update(workers).where(workers.c.wallet == wallet).values(last_alive=to_datetime(now)))
    return done.rowcount == 1


async def claim_replicate_demand(conn: StoreConnection, wallet: str, now: float, min_gap: float) -> bool:
    """Records this demand only if the previous one is at least `min_gap` seconds old (one atomic
    UPDATE). False if too early or the worker is not registered."""
    threshold = to_datetime(now - min_gap)
    done = await conn.execute(
        update(workers)
        .where(
            workers.c.wallet == wallet,
            (workers.c.last_replicate_demand.is_(None)) | (workers.c.last_replicate_demand <= threshold),
        )
        .values(last_replicate_demand=to_datetime(now))
    )
    return done.rowcount == 1


async def worker(conn: StoreConnection, wallet: str) -> WorkerState | None:
    row = (await conn.execute(select(workers).where(workers.c.wallet == wallet))).mappings().first()
    if row is None:
        return None
    memberships = (
        await conn.execute(
            select(worker_tasks.c.task_id, worker_tasks.c.computing)
            .where(worker_tasks.c.wallet == wallet)
            .order_by(worker_tasks.c.created_at)
        )
    ).all()
    return WorkerState(
        wallet=wallet,
        max_nb_tasks=row["max_nb_tasks"],
        computing=sum(1 for m in memberships if m.computing),
        gpu_enabled=row["gpu_enabled"],
        tee_enabled=row["tee_enabled"],
        tdx_enabled=row["tdx_enabled"],
        participating=tuple(m.task_id for m in memberships),
    )


async def worker_row(conn: StoreConnection, wallet: str) -> Mapping[str, Any] | None:
    return (await conn.execute(select(workers).where(workers.c.wallet == wallet))).mappings().first()


async def worker_tasks_of(conn: StoreConnection, wallet: str, *, computing_only: bool) -> list[str]:
    """The tasks the worker participates in (or holds a computing slot of), oldest first."""
    query = select(worker_tasks.c.task_id).where(worker_tasks.c.wallet == wallet)
    if computing_only:
        query = query.where(worker_tasks.c.computing.is_(True))
    return list((await conn.scalars(query.order_by(worker_tasks.c.created_at))).all())


ALIVE_WORKERS = select(workers.c.wallet, workers.c.tee_enabled, workers.c.tdx_enabled).where(
    workers.c.last_alive > bindparam("b_after")
)


async def alive_workers(conn: StoreConnection, alive_after: float) -> list[Mapping[str, Any]]:
    """(wallet, tee_enabled, tdx_enabled) of the workers that pinged after `alive_after` (indexed)."""
    return list((await conn.execute(ALIVE_WORKERS, {"b_after": to_datetime(alive_after)})).mappings().all())


async def all_workers(conn: StoreConnection) -> list[tuple[Mapping[str, Any], list[tuple[str, bool]]]]:
    """Every worker row, by registration, with its (task id, computing) memberships."""
    rows = (await conn.execute(select(workers).order_by(workers.c.registered_at))).mappings().all()
    memberships = (
        await conn.execute(
            select(worker_tasks.c.wallet, worker_tasks.c.task_id, worker_tasks.c.computing).order_by(
                worker_tasks.c.created_at
            )
        )
    ).all()
    by_wallet: dict[str, list[tuple[str, bool]]] = {}
    for m in memberships:
        by_wallet.setdefault(m.wallet, []).append((m.task_id, m.computing))
    return [(row, by_wallet.get(row["wallet"], [])) for row in rows]
