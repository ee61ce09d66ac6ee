"""Database engine of the scheduler store: SQLite (aiosqlite) or PostgreSQL (asyncpg).

SQLite runs in WAL mode with a busy timeout; write transactions start with BEGIN IMMEDIATE so two
writers queue on the lock instead of failing when a reader upgrades to a writer. The schema is
created and upgraded by the Alembic migrations shipped in the package, run at startup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

PACKAGE_DIR = Path(__file__).resolve().parent.parent
ALEMBIC_INI = PACKAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
_WRITE = "pocopool_write"


class StoreConfigError(ValueError):
    """The database URL is not one the scheduler can use."""


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite+aiosqlite://"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql+asyncpg://"):
        return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    raise StoreConfigError(
        f"unsupported database URL {url!r}: use sqlite+aiosqlite:////abs/path.db or "
        "postgresql+asyncpg://user@host:port/db"
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    async with engine.connect() as connection:
        await connection.execution_options(**{_WRITE: True})
        async with connection.begin():
            yield connection


@asynccontextmanager
async def read_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A consistent read (one snapshot) without taking the write lock."""
    async with engine.connect() as connection, connection.begin():
        yield connection


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Create or upgrade the schema to the latest revision (idempotent)."""

    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "head")

    async with write_transaction(engine) as connection:
        await connection.run_sync(upgrade)
