"""The database every service opens (pocopool.service.database), on a real SQLite file and on the
real PostgreSQL at 127.0.0.1:5432: the SQLite pragmas and transactions, the migrations of both
stores, both PostgreSQL spellings, and the one-line refusal of any other URL by both processes.

The PostgreSQL tests use the session's database with a clean schema per test (../conftest.py).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from eth_account import Account

from pocopool.chain import LocalChain
from pocopool.devnet.tee import pinned_programs
from pocopool.scheduler.store import Store
from pocopool.scheduler.store.tables import schema as scheduler_schema
from pocopool.service.database import SQLITE_BUSY_TIMEOUT_MS, open_database
from pocopool.sms import tables as sms_tables
from pocopool.sms.tables import schema as sms_schema

ACCEPTED = "use sqlite:////abs/path.db or postgresql://user@host:port/db"


def _insert_secret(connection: sa.Connection, name: str) -> None:
    row = dict(kind="app", address="0x" + "ab" * 20, name=name, ciphertext=b"x", updated=datetime.now(UTC))
    connection.execute(sms_tables.secrets.insert().values(**row))


def _secret_names(connection: sa.Connection) -> list[str]:
    return list(connection.scalars(sa.select(sms_tables.secrets.c.name).order_by(sms_tables.secrets.c.name)))


# ----- SQLite ------------------------------------------------------------------------------------
@pytest.mark.parametrize("schema", [scheduler_schema, sms_schema], ids=["scheduler", "sms"])
async def test_every_sqlite_connection_runs_in_wal_with_a_busy_timeout_foreign_keys_and_normal_sync(
    tmp_path: Path, schema
) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'store.db'}", schema)
    try:
        await database.migrate()
        async with database.read() as connection:
            pragmas = {
                name: await connection.scalar(sa.text(f"PRAGMA {name}"))
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
    finally:
        await database.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
        "foreign_keys": 1,
        "synchronous": 1,
    }


async def test_a_write_transaction_holds_the_write_lock_from_its_start_and_a_read_does_not(tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    database = open_database(f"sqlite:///{path}", sms_schema)
    await database.migrate()
    other = sqlite3.connect(path, timeout=0, isolation_level=None)  # another process, which never waits

    def other_can_write() -> bool:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return False
        other.execute("ROLLBACK")
        return True

    try:
        async with database.write():  # no statement yet: BEGIN IMMEDIATE alone takes the lock
            assert not other_can_write()
        async with database.read() as connection:
            await connection.scalar(sa.select(sa.func.count()).select_from(sms_tables.secrets))
            assert other_can_write()
        assert other_can_write()
    finally:
        other.close()
        await database.dispose()


async def test_run_commits_when_the_function_returns_and_rolls_back_when_it_raises(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'sms.db'}", sms_schema)

    def insert_then_fail(connection: sa.Connection, name: str) -> None:
        _insert_secret(connection, name)
        raise RuntimeError("after the insert")

    try:
        await database.migrate()
        await database.run(_insert_secret, "kept")
        with pytest.raises(RuntimeError):
            await database.run(insert_then_fail, "dropped")
        assert await database.run(_secret_names) == ["kept"]
    finally:
        await database.dispose()


async def test_migrations_are_idempotent_and_keep_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sms.db'}"
    first = open_database(url, sms_schema)
    await first.migrate()
    await first.run(_insert_secret, "a")
    await first.dispose()
    again = open_database(url, sms_schema)
    try:
        await again.migrate()
        assert await again.run(_secret_names) == ["a"]
    finally:
        await again.dispose()


# ----- PostgreSQL --------------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.parametrize("driver", ["postgresql", "postgresql+asyncpg"])
async def test_the_sms_database_opens_with_either_postgresql_spelling(clean_pg_database: str, driver: str) -> None:
    database = open_database(f"{driver}://postgres@127.0.0.1:5432/{clean_pg_database}", sms_schema)
    try:
        await database.migrate()
        await database.migrate()
        await database.run(_insert_secret, "a")
        assert database.dialect == "postgresql"
        assert await database.run(_secret_names) == ["a"]
    finally:
        await database.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("driver", ["postgresql", "postgresql+asyncpg"])
async def test_the_scheduler_store_opens_with_either_postgresql_spelling(clean_pg_database: str, driver: str) -> None:
    store = Store(f"{driver}://postgres@127.0.0.1:5432/{clean_pg_database}")
    try:
        await store.open()
        assert store.dialect == "postgresql"
        assert await store.cursor() == -1
        async with store.db.read() as connection:
            tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert set(scheduler_schema.metadata.tables) <= set(tables)
    finally:
        await store.close()


# ----- the processes -----------------------------------------------------------------------------
def _refusal(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_the_scheduler_and_the_sms_refuse_another_database_url_in_the_same_words(tmp_path: Path) -> None:
    owner = Account.create()
    chain = tmp_path / "chain.db"
    LocalChain.create(chain, owner.address).close()
    key_file = tmp_path / "owner.key"
    key_file.write_text(owner.key.hex() + "\n")
    refused = "unsupported database URL 'mysql://pool@db.example/pool': " + ACCEPTED
    scheduler = [sys.executable, "-m", "pocopool.scheduler", "--chain", f"local:{chain}", "--key-file", str(key_file)]
    scheduler += ["--workerpool", owner.address, "--db", "mysql://pool@db.example/pool", "--port", "0"]
    assert _refusal(scheduler) == f"pocopool scheduler: {refused}"
    sms = [sys.executable, "-m", "pocopool.sms", "--chain", f"local:{chain}", "--home", str(tmp_path / "sms")]
    sms += ["--db", "mysql://pool@db.example/pool", "--port", "1", "--result-proxy", "http://results.example"]
    sms += ["--trust-platform", owner.address, *pinned_programs()]
    assert _refusal(sms) == f"pocopool sms: {refused}"
