"""The deal watcher's cursors: the last block whose events were processed, by name."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from ...service.database import StoreConnection
from .records import to_datetime
from .tables import chain_cursors


async def cursor(conn: StoreConnection, name: str) -> int:
    """The last block processed under `name`; -1 before the first one."""
    value = await conn.scalar(select(chain_cursors.c.last_block).where(chain_cursors.c.name == name))
    return -1 if value is None else int(value)


async def set_cursor(conn: StoreConnection, name: str, block: int, now: float) -> None:
    done = await conn.execute(
        update(chain_cursors).where(chain_cursors.c.name == name).values(last_block=block, updated_at=to_datetime(now))
    )
    if done.rowcount == 0:
        await conn.execute(insert(chain_cursors).values(name=name, last_block=block, updated_at=to_datetime(now)))
