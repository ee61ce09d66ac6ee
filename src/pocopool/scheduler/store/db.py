"""Database of the scheduler store: SQLite (in the event loop's thread) or PostgreSQL (asyncpg).

`Database.write()` and `Database.read()` each give one transaction. The store only calls
`execute`, `scalar`, `scalars` and `run_sync` on the connection they yield, so both kinds of
database offer that same small surface.

SQLite runs in WAL mode with a busy timeout, and write transactions start with BEGIN IMMEDIATE.
Its statements run straight in the event loop's thread (pysqlite): a statement on the scheduler's
own file takes microseconds, while handing each one to a driver thread and back (aiosqlite) cost
more than the statement itself — most of a status update's time (bench/RESULTS.md). Write
transactions of this process are queued on an asyncio lock, so one never waits on the file lock
of another one of this process while blocking the loop. PostgreSQL keeps the asyncpg driver and a
connection pool. The schema is created and upgraded by the Alembic migrations shipped in the
package, run at startup.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ...integrity import check_schema_after_upgrade, check_schema_before_upgrade, check_sqlite_file
from .tables import metadata

PACKAGE_DIR = Path(__file__).resolve().parent.parent
ALEMBIC_INI = PACKAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
POSTGRES_POOL_SIZE = 10
POSTGRES_MAX_OVERFLOW = 10
_WRITE = "pocopool_write"
T = TypeVar("T")


class StoreConfigError(ValueError):
    """The database URL is not one the scheduler can use."""


class Stale(Exception):
    """Raised inside a write transaction when a record changed since it was read: the transaction
    rolls back, and the store answers False."""


class StoreConnection(Protocol):
    """What the store calls on the connection of one transaction."""

    @property
    def dialect(self) -> Dialect: ...
    async def execute(self, statement: Any, parameters: Any = None) -> Any: ...
    async def scalar(self, statement: Any, parameters: Any = None) -> Any: ...
    async def scalars(self, statement: Any, parameters: Any = None) -> Any: ...
    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T: ...


class Database(Protocol):
    url: URL

    @property
    def dialect(self) -> str: ...
    def write(self) -> Any: ...  # async context manager yielding a StoreConnection
    def read(self) -> Any: ...
    async def migrate(self) -> None: ...
    async def dispose(self) -> None: ...


def open_database(url: str) -> Database:
    """The database named by `url`: sqlite:////abs/path.db (sqlite+aiosqlite:// is read the same) or
    postgresql+asyncpg://user@host:port/db."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreConfigError(f"not a database URL: {url!r} ({error})") from None
    if parsed.drivername in ("sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"):
        return SqliteDatabase(parsed.set(drivername="sqlite+pysqlite"))
    if parsed.drivername == "postgresql+asyncpg":
        return PostgresDatabase(parsed)
    raise StoreConfigError(
        f"unsupported database URL {url!r}: use sqlite:////abs/path.db or postgresql+asyncpg://user@host:port/db"
    )


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, location: str) -> None:
    """Upgrades to the latest revision, refusing a database that lost its schema version or a table."""
    check_schema_before_upgrade(connection, location, metadata)
    command.upgrade(alembic_config(connection), "head")
    check_schema_after_upgrade(connection, location, metadata)


def sqlite_path(url: URL) -> Path | None:
    """The file of an SQLite URL (None for an in-memory database)."""
    database = url.database or ""
    return Path(database) if database and database != ":memory:" and not database.startswith("file:") else None


# ----- SQLite ------------------------------------------------------------------------------------
class _InLoopConnection:
    """A sync SQLite connection behind the awaitable surface of StoreConnection: each call runs at
    once, in the caller's thread."""

    __slots__ = ("sync",)

    def __init__(self, sync: Connection) -> None:
        self.sync = sync

    @property
    def dialect(self) -> Dialect:
        return self.sync.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self.sync.execute(statement, parameters)

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        return self.sync.scalar(statement, parameters)

    async def scalars(self, statement: Any, parameters: Any = None) -> Any:
        return self.sync.scalars(statement, parameters)

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(self.sync, *args)


class SqliteDatabase:
    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine: Engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        self._writer = asyncio.Lock()
        _configure_sqlite(self.engine)

    @property
    def dialect(self) -> str:
        return "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[_InLoopConnection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        async with self._writer:
            with self.engine.connect() as connection:
                connection = connection.execution_options(**{_WRITE: True})
                with connection.begin():
                    yield _InLoopConnection(connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[_InLoopConnection]:
        """A consistent read (one snapshot) without taking the write lock."""
        with self.engine.connect() as connection, connection.begin():
            yield _InLoopConnection(connection)

    async def migrate(self) -> None:
        """Create or upgrade the schema to the latest revision (idempotent). An existing file is
        checked first, without writing to it: DamagedFile if it is not a sound scheduler database."""
        path = sqlite_path(self.url)
        if path is not None and path.exists():
            check_sqlite_file(path)
        async with self.write() as connection:
            await connection.run_sync(_upgrade, str(path or self.url))

    async def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# ----- PostgreSQL --------------------------------------------------------------------------------
class PostgresDatabase:
    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=POSTGRES_POOL_SIZE, max_overflow=POSTGRES_MAX_OVERFLOW, pool_pre_ping=True
        )

    @property
    def dialect(self) -> str:
        return "postgresql"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        async with self.engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Any]:
        async with self.engine.connect() as connection, connection.begin():
            yield connection

    async def migrate(self) -> None:
        async with self.write() as connection:
            await connection.run_sync(_upgrade, self.url.render_as_string(hide_password=True))

    async def dispose(self) -> None:
        await self.engine.dispose()
