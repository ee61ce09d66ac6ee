"""Fixtures of the scheduler integration tests: a LocalChain file, databases (SQLite and PostgreSQL,
the session's database of ../conftest.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pocopool.protocol.time import SystemClock
from scheduler_harness import Ledger, make_ledger


@pytest.fixture
def postgres_url(clean_pg_database: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{clean_pg_database}"


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
