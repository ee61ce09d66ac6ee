"""The database URL rules every service reads (pocopool.service.database): which URLs open which
database, and the one-line refusal of any other."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from pocopool.backup import BackupError, backup
from pocopool.scheduler.store.tables import schema as scheduler_schema
from pocopool.service.database import (
    DatabaseUrlError,
    PostgresDatabase,
    SqliteDatabase,
    open_database,
    parse_database_url,
    sqlite_path,
)
from pocopool.sms.tables import schema as sms_schema

ACCEPTED = "use sqlite:////abs/path.db or postgresql://user@host:port/db"


@pytest.mark.parametrize(
    "url", ["sqlite:////srv/pool/s.db", "sqlite+pysqlite:////srv/pool/s.db", "sqlite+aiosqlite:////srv/pool/s.db"]
)
def test_every_sqlite_spelling_opens_the_file_with_the_in_loop_driver(url: str) -> None:
    parsed = parse_database_url(url)
    assert parsed.drivername == "sqlite+pysqlite"
    assert sqlite_path(parsed) == Path("/srv/pool/s.db")


@pytest.mark.parametrize(
    "url", ["postgresql://pool:pw@db.example:5433/pool", "postgresql+asyncpg://pool:pw@db.example:5433/pool"]
)
def test_both_postgresql_spellings_open_the_same_database_with_asyncpg(url: str) -> None:
    parsed = parse_database_url(url)
    assert parsed.render_as_string(hide_password=False) == "postgresql+asyncpg://pool:pw@db.example:5433/pool"
    assert sqlite_path(parsed) is None


@pytest.mark.parametrize("schema", [scheduler_schema, sms_schema], ids=["scheduler", "sms"])
@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("sqlite:////srv/pool/s.db", SqliteDatabase),
        ("sqlite+aiosqlite:////srv/pool/s.db", SqliteDatabase),
        ("postgresql://pool@db.example/pool", PostgresDatabase),
        ("postgresql+asyncpg://pool@db.example/pool", PostgresDatabase),
    ],
)
async def test_the_scheduler_and_the_sms_open_the_same_urls(schema, url: str, kind: type) -> None:
    database = open_database(url, schema)  # nothing connects before the first transaction
    try:
        assert isinstance(database, kind)
        assert database.dialect == ("sqlite" if kind is SqliteDatabase else "postgresql")
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://pool@db.example/pool", f"unsupported database URL 'mysql://pool@db.example/pool': {ACCEPTED}"),
        (
            "postgresql+psycopg2://pool:secret@db.example/pool",
            f"unsupported database URL 'postgresql+psycopg2://pool:***@db.example/pool': {ACCEPTED}",
        ),
        ("postgres://pool@db.example/pool", f"unsupported database URL 'postgres://pool@db.example/pool': {ACCEPTED}"),
        ("/srv/pool/s.db", f"'/srv/pool/s.db' is not a database URL: {ACCEPTED}"),
        ("", f"'' is not a database URL: {ACCEPTED}"),
    ],
)
def test_any_other_url_is_refused_in_one_line_naming_the_accepted_forms(url: str, message: str) -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        open_database(url, scheduler_schema)
    assert str(refused.value) == message
    assert isinstance(refused.value, ValueError)


def test_an_in_memory_sqlite_database_has_no_file() -> None:
    assert sqlite_path(make_url("sqlite://")) is None
    assert sqlite_path(make_url("sqlite:///:memory:")) is None


def test_a_backup_reads_urls_by_the_same_rules(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=f"unsupported database URL 'mysql://pool@db.example/pool': {ACCEPTED}"):
        backup("mysql://pool@db.example/pool", tmp_path / "copy.db")
    with pytest.raises(BackupError, match="there is no database at /nowhere/s.db"):
        backup("sqlite+aiosqlite:////nowhere/s.db", tmp_path / "copy.db")
