"""The pushes waiting for each worker, read by cursor (the notification id)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from .db import StoreConnection
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


async def insert_notifications(conn: StoreConnection, pushes: Sequence[NotificationRow], when: datetime) -> None:
    for push in pushes:
        await conn.execute(
            insert(notifications).values(
                wallet=push.wallet,
                task_id=push.task_id,
                type=push.type,
                extra=dict(push.extra),
                created_at=when,
            )
        )
