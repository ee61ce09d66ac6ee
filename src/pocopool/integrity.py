"""Damaged files found at start: the checks every process runs on the state it opens, and the one
error they raise.

A database or state file that is truncated, overwritten or missing a table stops the process that
needs it with one line naming the file and saying what to do (decision 88). These checks only read:
a damaged file is never repaired, migrated or recreated, so it stays byte for byte what the operator
restores over or inspects. A missing file is not damage (a fresh start); an existing one is held to
what its owner wrote.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the worker reads its files through this module without loading SQLAlchemy
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Connection

RESTORE = "restore it from a backup (README: Backups); it was left as it is"
SQLITE_MAGIC = b"SQLite format 3\x00"
SCHEMA_VERSION_TABLE = "alembic_version"
_CHECK_TIMEOUT_S = 15.0


class DamagedFile(ValueError):
    """`location` (a file, or a database URL) cannot be used as it is. Its text is one line:
    what is damaged, how, and what to do. A ValueError: the start-up error handlers that report a
    bad value in one line report this one too."""

    def __init__(self, location: str | Path, problem: str, remedy: str = RESTORE) -> None:
        super().__init__(location, problem, remedy)
        self.location, self.problem, self.remedy = str(location), problem, remedy

    def __str__(self) -> str:
        return f"{self.location} is damaged: {self.problem}; {self.remedy}"


def check_sqlite_file(path: Path, remedy: str = RESTORE) -> list[str]:
    """The table names of the existing SQLite file `path`, read without writing to it.

    DamagedFile if the file is empty, does not start with the SQLite header, or SQLite cannot read
    it or finds it damaged (`PRAGMA quick_check`, which reads every page: milliseconds per MB).
    A file SQLite cannot open for another reason (locked, no permission) raises sqlite3's error.
    """
    with path.open("rb") as file:
        header = file.read(len(SQLITE_MAGIC))
    if not header:
        raise DamagedFile(path, "it is empty (0 bytes)", remedy)
    if header != SQLITE_MAGIC:
        raise DamagedFile(path, "it does not start with the SQLite header (overwritten, or not a database)", remedy)
    try:
        connection = sqlite3.connect(path, timeout=_CHECK_TIMEOUT_S, isolation_level=None)
        try:
            connection.execute("PRAGMA query_only = ON")
            tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            problems = [row[0] for row in connection.execute("PRAGMA quick_check(1)")]
        finally:
            connection.close()
    except sqlite3.OperationalError:
        raise  # locked, busy, no permission: not a property of the file's content
    except sqlite3.DatabaseError as error:
        raise DamagedFile(path, f"SQLite cannot read it ({error})", remedy) from None
    if problems != ["ok"]:
        raise DamagedFile(path, f"SQLite finds it damaged ({one_line(problems[0])})", remedy)
    return tables


def require_tables(
    location: str | Path, present: Iterable[str], expected: Iterable[str], remedy: str = RESTORE
) -> None:
    """DamagedFile naming the tables of `expected` that `present` lacks."""
    missing = sorted(set(expected) - set(present))
    if missing:
        raise DamagedFile(
            location,
            f"its table{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} missing",
            remedy,
        )


def check_schema_before_upgrade(connection: Connection, location: str, metadata: MetaData) -> None:
    """Inside the migration's transaction, before Alembic runs: a database holding some of
    `metadata`'s tables but no schema version table lost it (Alembic would try to create
    everything again over the data)."""
    from sqlalchemy import inspect

    present = set(inspect(connection).get_table_names())
    if present & set(metadata.tables) and SCHEMA_VERSION_TABLE not in present:
        raise DamagedFile(location, f"it holds tables but its {SCHEMA_VERSION_TABLE} table is missing")


def check_schema_after_upgrade(connection: Connection, location: str, metadata: MetaData) -> None:
    """Inside the migration's transaction, after Alembic ran: every table of `metadata` is there (a
    database already at the latest revision is not migrated, so a dropped table is only seen here)."""
    from sqlalchemy import inspect

    require_tables(location, inspect(connection).get_table_names(), metadata.tables)


def one_line(text: str) -> str:
    """`text` on one line (driver errors span several: the statement, a documentation link)."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return " ".join(first.split())
