"""The SMS database: SQLite (default, `sqlite:///<home>/sms.db`) or PostgreSQL (asyncpg).

Every store operation is a plain function of one SQLAlchemy `Connection`, run in one transaction by
`Database.run`: SQLite's in a worker thread (a sync engine), PostgreSQL's through the async engine's
`run_sync`. The schema is created and upgraded by the Alembic migrations shipped in the package.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ..integrity import check_schema_after_upgrade, check_schema_before_upgrade, check_sqlite_file
from .tables import metadata

PACKAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = PACKAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
SQLITE_BUSY_TIMEOUT_S = 15
T = TypeVar("T")


class DatabaseConfigError(ValueError):
    """The database URL is not one the SMS can use."""


def _upgrade(connection: Connection, location: str) -> None:
    """Upgrades to the latest revision, refusing a database that lost its schema version or a table."""
    check_schema_before_upgrade(connection, location, metadata)
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    check_schema_after_upgrade(connection, location, metadata)


class Database:
    """One transaction per `run(fn)`: committed when `fn` returns, rolled back if it raises."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise DatabaseConfigError(f"not a database URL: {url!r}") from None
        self.url: URL = parsed
        self._sync: Engine | None
        self._async: AsyncEngine | None
        if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
            self.dialect = "sqlite"
            self._sync = create_engine(
                parsed.set(drivername="sqlite+pysqlite"),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            )
            _wal(self._sync)
            self._async = None
        elif parsed.drivername in ("postgresql", "postgresql+asyncpg"):
            self.dialect = "postgresql"
            self._sync = None
            self._async = create_async_engine(parsed.set(drivername="postgresql+asyncpg"), pool_pre_ping=True)
        else:
            raise DatabaseConfigError(
                f"unsupported database URL {url!r}: use sqlite:////abs/path.db or postgresql://user@host:port/db"
            )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._async is not None:
            async with self._async.begin() as connection:
                return await connection.run_sync(fn, *args)
        assert self._sync is not None

        def in_thread() -> T:
            assert self._sync is not None
            with self._sync.begin() as connection:
                return fn(connection, *args)

        return await asyncio.to_thread(in_thread)

    async def migrate(self) -> None:
        """Create or upgrade the schema to the latest revision (idempotent). An existing SQLite file is
        checked first, without writing to it: DamagedFile if it is not a sound SMS database."""
        path = Path(self.url.database) if self.dialect == "sqlite" and self.url.database else None
        if path is not None and path.exists():
            await asyncio.to_thread(check_sqlite_file, path)
        await self.run(_upgrade, str(path) if path is not None else self.url.render_as_string(hide_password=True))

    async def dispose(self) -> None:
        if self._async is not None:
            await self._async.dispose()
        if self._sync is not None:
            self._sync.dispose()


def _wal(engine: Any) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()
