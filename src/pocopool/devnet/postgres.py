"""One PostgreSQL database per devnet home, so devnets sharing a server never mix their stores.

`POCOPOOL_POSTGRES_URL=postgresql+asyncpg://user@host:port` (a server, no database) makes every
devnet keep its scheduler store in PostgreSQL: the database `pocopool_<hash of the home>` is
created on first start and reused when the same home starts again.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

ENV = "POCOPOOL_POSTGRES_URL"


class PostgresError(Exception):
    """The PostgreSQL server refused or did not answer; the message says which and why."""


def database_name(home: Path) -> str:
    return "pocopool_" + hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:16]


def database_for(server_url: str, home: Path) -> str:
    """The URL of the home's own database on `server_url`, created if it does not exist yet."""
    if not server_url.startswith("postgresql+asyncpg://"):
        raise PostgresError(f"{ENV} must look like postgresql+asyncpg://user@host:port, got {server_url!r}")
    server = server_url.rstrip("/")
    if re.search(r"://[^/]+/", server):
        raise PostgresError(f"{ENV} names a server, not a database: drop the /{server.rsplit('/', 1)[1]}")
    name = database_name(home)
    asyncio.run(_create(server.replace("postgresql+asyncpg://", "postgresql://"), name))
    return f"{server}/{name}"


async def _create(raw_server: str, name: str) -> None:
    import asyncpg

    try:
        connection = await asyncpg.connect(raw_server + "/postgres", timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise PostgresError(f"cannot reach PostgreSQL at {raw_server}: {error}") from error
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def drop(server_url: str, home: Path) -> None:
    """Removes the home's database (used by tests that clean up after themselves)."""
    raw = server_url.rstrip("/").replace("postgresql+asyncpg://", "postgresql://")

    async def _drop() -> None:
        import asyncpg

        connection = await asyncpg.connect(raw + "/postgres", timeout=10)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{database_name(home)}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(_drop())
