"""A service's database, opened one way: the URL rules, the SQLite and PostgreSQL engines, the
transactions and the Alembic migrations, for every store (scheduler, SMS).

URLs: `sqlite:////abs/path.db` (`sqlite+pysqlite://` and `sqlite+aiosqlite://` are read the same) or
`postgresql://user@host:port/db` (`postgresql+asyncpg://` is read the same). Anything else is a
`DatabaseUrlError` naming the accepted forms.

`Database.write()` and `Database.read()` each give one transaction; `run(fn, *args)` runs the plain
function `fn(connection, *args)` in one write transaction. The connection they yield offers
`execute`, `scalar`, `scalars` and `run_sync` (`StoreConnection`), the same on both databases.

SQLite runs in WAL mode with a busy timeout, foreign keys on and `synchronous=NORMAL`; write
transactions start with BEGIN IMMEDIATE. Its statements run straight in the event loop's thread
(pysqlite): a statement on the service's own file takes microseconds, while handing each one to a
driver thread and back (aiosqlite) cost more than the statement itself — most of a scheduler status
update's time (bench/RESULTS.md). Write transactions of this process are queued on an asyncio lock,
so one never waits on the file lock of another one of this process while blocking the loop.
PostgreSQL uses the asyncpg driver and a connection pool.

`migrate()` creates or upgrades the store's schema with the Alembic migrations shipped beside it
(its `Schema`), after checking that an existing database is sound (`pocopool.integrity`).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

# Alembic is imported with this module, so before a service configures its logging: on its first
# import it logs its plugin set-up at INFO, which would break a one-line refusal at start.
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import URL, Connection, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ..integrity import check_schema_after_upgrade, check_schema_before_upgrade, check_sqlite_file

ACCEPTED = "sqlite:////abs/path.db or postgresql://user@host:port/db"
SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite", "sqlite+aiosqlite")
POSTGRES_DRIVERS = ("postgresql", "postgresql+asyncpg")
SQLITE_BUSY_TIMEOUT_MS = 15_000
POSTGRES_POOL_SIZE = 10
POSTGRES_MAX_OVERFLOW = 10
_WRITE = "pocopool_write"  # execution option marking a write transaction (BEGIN IMMEDIATE)
T = TypeVar("T")


class DatabaseUrlError(ValueError):
    """The database URL is not one a pocopool service can use; its text is one line naming the
    accepted forms."""


@dataclass(frozen=True)
class Schema:
    """A store's schema as its migrations build it: the tables, and the Alembic files shipped
    beside them."""

    metadata: MetaData
    alembic_ini: Path
    migrations_dir: Path


def parse_database_url(url: str) -> URL:
    """The URL with the driver the service uses: `sqlite+pysqlite` or `postgresql+asyncpg`."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(f"{url!r} is not a database URL: use {ACCEPTED}") from None
    if parsed.drivername in SQLITE_DRIVERS:
        return parsed.set(drivername="sqlite+pysqlite")
    if parsed.drivername in POSTGRES_DRIVERS:
        return parsed.set(drivername="postgresql+asyncpg")
    shown = parsed.render_as_string(hide_password=True)
    raise DatabaseUrlError(f"unsupported database URL {shown!r}: use {ACCEPTED}")


def sqlite_path(url: URL) -> Path | None:
    """The file of an SQLite URL; None for a PostgreSQL or an in-memory database."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    return Path(database) if database and database != ":memory:" and not database.startswith("file:") else None


def open_database(url: str, schema: Schema) -> Database:
    """The database named by `url` (see the module's URL rules), holding `schema`. Nothing is
    connected before the first transaction; `migrate()` builds or upgrades the schema."""
    parsed = parse_database_url(url)
    if parsed.drivername == "sqlite+pysqlite":
        return SqliteDatabase(parsed, schema)
    return PostgresDatabase(parsed, schema)


class StoreConnection(Protocol):
    """What a store calls on the connection of one transaction."""

    @property
    def dialect(self) -> Dialect: ...
    async def execute(self, statement: Any, parameters: Any = None) -> Any: ...
    async def scalar(self, statement: Any, parameters: Any = None) -> Any: ...
    async def scalars(self, statement: Any, parameters: Any = None) -> Any: ...
    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T: ...


class Database(ABC):
    """One store's database: transactions, migrations, and the connections to release at the end."""

    dialect: str  # "sqlite" or "postgresql"

    def __init__(self, url: URL, schema: Schema) -> None:
        self.url = url
        self.schema = schema

    @abstractmethod
    def write(self) -> AbstractAsyncContextManager[StoreConnection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[StoreConnection]:
        """One consistent read (one snapshot)."""

    @abstractmethod
    async def dispose(self) -> None:
        """Closes every connection."""

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` in one write transaction, with a plain SQLAlchemy `Connection`."""
        async with self.write() as connection:
            return await connection.run_sync(fn, *args)

    @property
    def location(self) -> str:
        """The database as messages name it: its file, or its URL without the password."""
        path = sqlite_path(self.url)
        return str(path) if path is not None else self.url.render_as_string(hide_password=True)

    async def migrate(self) -> None:
        """Creates or upgrades the schema to the latest revision (idempotent). An existing SQLite file
        is checked first, without writing to it; DamagedFile if it is not a sound database of the
        store, or if the database lost its schema version or a table."""
        path = sqlite_path(self.url)
        if path is not None and path.exists():
            check_sqlite_file(path)
        async with self.write() as connection:
            await connection.run_sync(_upgrade, self.schema, self.location)


def _upgrade(connection: Connection, schema: Schema, location: str) -> None:
    check_schema_before_upgrade(connection, location, schema.metadata)
    config = Config(str(schema.alembic_ini))
    config.set_main_option("script_location", str(schema.migrations_dir))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    check_schema_after_upgrade(connection, location, schema.metadata)


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


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, url: URL, schema: Schema) -> None:
        super().__init__(url, schema)
        self.engine: Engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        self._writer = asyncio.Lock()
        _configure_sqlite(self.engine)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[StoreConnection]:
        async with self._writer:
            with self.engine.connect() as connection:
                connection = connection.execution_options(**{_WRITE: True})
                with connection.begin():
                    yield _InLoopConnection(connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[StoreConnection]:
        """Without taking the write lock: WAL lets a read run beside a write."""
        with self.engine.connect() as connection, connection.begin():
            yield _InLoopConnection(connection)

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
class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: URL, schema: Schema) -> None:
        super().__init__(url, schema)
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=POSTGRES_POOL_SIZE, max_overflow=POSTGRES_MAX_OVERFLOW, pool_pre_ping=True
        )

    @asynccontextmanager
    async def write(self) -> AsyncIterator[StoreConnection]:
        async with self.engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[StoreConnection]:
        async with self.engine.connect() as connection, connection.begin():
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()
