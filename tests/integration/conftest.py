"""Fixtures every integration test folder may use: the PostgreSQL database of the test session.

PostgreSQL tests use one fresh database per test session on 127.0.0.1:5432 (user postgres), created
here and dropped at the end, with a clean schema per test (`clean_pg_database`). The set-up runs the
server: when it does not answer, these tests fail with the reason, they never skip.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest

PG_SERVER = dict(host="127.0.0.1", port=5432, user="postgres")


async def _pg(sql: str, database: str = "postgres") -> None:
    import asyncpg

    connection = await asyncpg.connect(database=database, timeout=3, **PG_SERVER)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    name = f"pocopool_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server fails the test
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 does not answer ({type(error).__name__}: {error})")
    try:
        yield name
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def clean_pg_database(pg_database: str) -> str:
    """The session's database, its schema emptied: the name to put in a URL."""
    asyncio.run(_pg("DROP SCHEMA public CASCADE; CREATE SCHEMA public;", database=pg_database))
    return pg_database
