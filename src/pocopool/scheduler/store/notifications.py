"""The notifications waiting for each worker, read by cursor (the notification id)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from ...service.database import StoreConnection
from .records import NotificationRow
from .tables import notifications


async def notifications_after(conn: StoreConnection, wallet: str, after: int, limit: int) -> list[Mapping[str, Any]]:
    query = (
        select(notifications)
        .where(notifications.c.wallet == wallet, notifications.c.id > after)
        .order_by(notifications.c.id)
        .limit(limit)
    )
    return list((await conn.execute(query)).mappings().all())


_INSERT = insert(notifications)


async def insert_notifications(conn: StoreConnection, rows: Sequence[NotificationRow], when: datetime) -> None:
    for row in rows:
        await conn.execute(
            _INSERT,
            {
                "wallet": row.wallet,
                "task_id": row.task_id,
                "type": row.type,
                "extra": dict(row.extra),
                "created_at": when,
            },
        )
