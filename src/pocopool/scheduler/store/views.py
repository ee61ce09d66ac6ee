"""Read views: the rows behind the task and deal views, the compute logs, the event stream, the
metrics and the UI's deals overview. Reads only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from ...protocol.statuses import TaskStatus as TS
from ...protocol.time import iso
from ...service.database import StoreConnection
from .records import TaskDetails, aware, to_seconds
from .tables import replicate_status_updates, replicates, task_logs, task_status_changes, tasks
from .tasks import TASK_BY_ID

LOG_HEAD_CHARS = 512  # longer than any cut marker line (protocol/applogs.py)


async def task_details(conn: StoreConnection, task_id: str) -> TaskDetails | None:
    row = (await conn.execute(TASK_BY_ID, {"b_task": task_id})).mappings().first()
    if row is None:
        return None
    changes = (
        (
            await conn.execute(
                select(task_status_changes)
                .where(task_status_changes.c.task_id == task_id)
                .order_by(task_status_changes.c.id)
            )
        )
        .mappings()
        .all()
    )
    reps = (
        (await conn.execute(select(replicates).where(replicates.c.task_id == task_id).order_by(replicates.c.id)))
        .mappings()
        .all()
    )
    updates_rows = (
        (
            await conn.execute(
                select(replicate_status_updates)
                .join(replicates, replicates.c.id == replicate_status_updates.c.replicate_id)
                .where(replicates.c.task_id == task_id)
                .order_by(replicate_status_updates.c.id)
            )
        )
        .mappings()
        .all()
    )
    heads = (
        await conn.execute(
            select(
                task_logs.c.wallet,
                func.substr(task_logs.c.stdout, 1, LOG_HEAD_CHARS),
                func.substr(task_logs.c.stderr, 1, LOG_HEAD_CHARS),
            ).where(task_logs.c.task_id == task_id)
        )
    ).all()
    log_heads = {wallet: (stdout or "", stderr or "") for wallet, stdout, stderr in heads}
    log_wallets = set(log_heads)
    updates_by: dict[int, list[Mapping[str, Any]]] = {}
    for u in updates_rows:
        updates_by.setdefault(u["replicate_id"], []).append(u)
    return TaskDetails(row, list(changes), list(reps), updates_by, log_wallets, log_heads)


async def deal_tasks(conn: StoreConnection, deal_id: str) -> list[Mapping[str, Any]]:
    query = (
        select(tasks.c.chain_task_id, tasks.c.task_index, tasks.c.status)
        .where(tasks.c.deal_id == deal_id)
        .order_by(tasks.c.task_index)
    )
    return list((await conn.execute(query)).mappings().all())


async def task_logs_of(conn: StoreConnection, task_id: str) -> list[Mapping[str, Any]]:
    return list(
        (await conn.execute(select(task_logs).where(task_logs.c.task_id == task_id).order_by(task_logs.c.id)))
        .mappings()
        .all()
    )


async def status_events_after(
    conn: StoreConnection,
    task_cursor: int,
    replicate_cursor: int,
    *,
    task_id: str | None,
    deal_id: str | None,
    limit: int,
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Task status changes with id > task_cursor and replicate status updates with id >
    replicate_cursor, of one task, one deal, or all, in id order (the ids are the stream's cursor)."""
    task_query = (
        select(
            task_status_changes.c.id,
            task_status_changes.c.task_id,
            task_status_changes.c.status,
            task_status_changes.c.date,
            task_status_changes.c.cause,
            task_status_changes.c.message,
            tasks.c.deal_id,
        )
        .join(tasks, tasks.c.chain_task_id == task_status_changes.c.task_id)
        .where(task_status_changes.c.id > task_cursor)
        .order_by(task_status_changes.c.id)
        .limit(limit)
    )
    replicate_query = (
        select(
            replicate_status_updates.c.id,
            replicates.c.task_id,
            replicates.c.wallet,
            replicate_status_updates.c.status,
            replicate_status_updates.c.date,
            replicate_status_updates.c.cause,
            tasks.c.deal_id,
        )
        .join(replicates, replicates.c.id == replicate_status_updates.c.replicate_id)
        .join(tasks, tasks.c.chain_task_id == replicates.c.task_id)
        .where(replicate_status_updates.c.id > replicate_cursor)
        .order_by(replicate_status_updates.c.id)
        .limit(limit)
    )
    if task_id is not None:
        task_query = task_query.where(tasks.c.chain_task_id == task_id)
        replicate_query = replicate_query.where(tasks.c.chain_task_id == task_id)
    if deal_id is not None:
        task_query = task_query.where(tasks.c.deal_id == deal_id)
        replicate_query = replicate_query.where(tasks.c.deal_id == deal_id)
    task_rows = (await conn.execute(task_query)).mappings().all()
    replicate_rows = (await conn.execute(replicate_query)).mappings().all()
    return list(task_rows), list(replicate_rows)


async def status_counts(conn: StoreConnection) -> tuple[dict[str, int], dict[str, int]]:
    """How many tasks, and how many replicates, are in each status now."""
    task_rows = (await conn.execute(select(tasks.c.status, func.count()).group_by(tasks.c.status))).all()
    replicate_rows = (await conn.execute(select(replicates.c.status, func.count()).group_by(replicates.c.status))).all()
    return {s: n for s, n in task_rows}, {s: n for s, n in replicate_rows}


async def completed_latencies(conn: StoreConnection) -> list[float]:
    """Seconds from RECEIVED (deal seen) to COMPLETED, for every completed task."""
    received = (
        select(task_status_changes.c.task_id, func.min(task_status_changes.c.date).label("seen"))
        .where(task_status_changes.c.status == TS.RECEIVED.value)
        .group_by(task_status_changes.c.task_id)
        .subquery()
    )
    query = (
        select(received.c.seen, task_status_changes.c.date)
        .join(received, received.c.task_id == task_status_changes.c.task_id)
        .where(task_status_changes.c.status == TS.COMPLETED.value)
    )
    rows = (await conn.execute(query)).all()
    result = []
    for seen, done in rows:
        seen, done = to_seconds(aware(seen)), to_seconds(aware(done))
        if seen is not None and done is not None:
            result.append(max(done - seen, 0.0))
    return result


async def deals_overview(conn: StoreConnection, limit: int) -> list[dict[str, Any]]:
    """The latest deals (by deal block) with their task counts by status."""
    query = select(
        tasks.c.deal_id,
        tasks.c.status,
        func.count(),
        func.max(tasks.c.deal_block),
        func.min(tasks.c.created_at),
        func.max(tasks.c.app_multiaddr),  # one app and one requester per deal: max() just picks it
        func.max(tasks.c.requester),
    ).group_by(tasks.c.deal_id, tasks.c.status)
    rows = (await conn.execute(query)).all()
    deals: dict[str, dict[str, Any]] = {}
    for deal_id, status, count, block, created, app, requester in rows:
        entry = deals.setdefault(
            deal_id,
            {"dealId": deal_id, "block": block, "counts": {}, "tasks": 0, "app": app, "requester": requester},
        )
        entry["counts"][status] = count
        entry["tasks"] += count
        seen = to_seconds(aware(created))
        if seen is not None and (entry.get("seen") is None or seen < entry["seen"]):
            entry["seen"], entry["seenAt"] = seen, iso(seen)
    for entry in deals.values():
        entry.pop("seen", None)
    return sorted(deals.values(), key=lambda d: -(d["block"] or 0))[:limit]
