"""Fixtures of the scheduler integration tests: a LocalChain file, databases (SQLite and PostgreSQL).

PostgreSQL tests use one fresh database per test session on 127.0.0.1:5432 (user postgres), created
here and dropped at the end, with a clean schema per test. The set-up runs the server: when it does
not answer, these tests fail with the reason, they never skip.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pocopool.protocol.time import SystemClock
from scheduler_harness import Ledger, make_ledger

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
def postgres_url(pg_database: str) -> str:
    asyncio.run(_pg("DROP SCHEMA public CASCADE; CREATE SCHEMA public;", database=pg_database))
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_database}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scheduler.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    made = make_ledger(tmp_path / "chain.db", SystemClock())
    yield made
    made.chain.close()
