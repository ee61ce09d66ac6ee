"""Backing up a database while its service runs, and restoring it into a new one (README: Backups).

SQLite uses its online backup API (`sqlite3.Connection.backup`): a consistent copy of the file taken
through a read transaction, so a running scheduler or SMS keeps reading and writing (WAL) while it is
made. PostgreSQL uses `pg_dump` (one consistent snapshot) and `psql` to restore. Works for any
SQLite or PostgreSQL URL pocopool takes: the scheduler's `--db`, the SMS's database, a LocalChain
file (`local:/path`).

A restore never overwrites: the target SQLite file must not exist and the target PostgreSQL
database must have no table, so a damaged database is moved away by its operator, not replaced by
accident. Both directions write to a temporary file first and rename it when complete.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from .integrity import DamagedFile, check_sqlite_file
from .service.database import DatabaseUrlError, parse_database_url, sqlite_path

_BUSY_TIMEOUT_S = 30.0
# One step: the copy is one read transaction. In WAL mode the running service keeps writing meanwhile;
# a copy in several steps would start over each time another connection writes, maybe for ever.
_ALL_PAGES = -1


class BackupError(Exception):
    """A backup or a restore that cannot be done; its text says why in one line."""


@dataclass(frozen=True)
class Copied:
    source: str  # the database or file read (a URL without its password)
    target: str
    bytes: int


def backup(database: str, out: Path) -> Copied:
    """Copies the database `database` (a URL) into the new file `out`."""
    if out.exists():
        raise BackupError(f"{out} already exists: choose another file, a backup never overwrites")
    path = _sqlite_path(database)
    if path is not None:
        if not path.is_file():
            raise BackupError(f"there is no database at {path}")
        _check(path)
        _sqlite_copy(path, out)
    else:
        url = _database_url(database)
        try:
            _run(
                [
                    "pg_dump",
                    "--no-owner",
                    "--no-privileges",
                    "--format=plain",
                    "--file",
                    str(_temporary(out)),
                    _libpq(url),
                ],
                url,
            )
        except BaseException:
            _temporary(out).unlink(missing_ok=True)
            raise
        os.replace(_temporary(out), out)
    return Copied(_shown(database), str(out), out.stat().st_size)


def restore(backup_file: Path, database: str) -> Copied:
    """Creates the database `database` (a URL) from `backup_file`; refuses a target that holds data."""
    if not backup_file.is_file():
        raise BackupError(f"there is no backup at {backup_file}")
    path = _sqlite_path(database)
    if path is not None:
        for existing in (path, Path(f"{path}-wal")):
            if existing.exists():
                raise BackupError(f"{existing} already exists: move it away first (a restore never overwrites)")
        if not _is_sqlite(backup_file):
            raise BackupError(f"{backup_file} is not an SQLite backup (a PostgreSQL dump restores into postgresql://)")
        _check(backup_file)
        _sqlite_copy(backup_file, path)
        return Copied(str(backup_file), str(path), path.stat().st_size)
    url = _database_url(database)
    if _is_sqlite(backup_file):
        raise BackupError(f"{backup_file} is an SQLite backup: restore it into a sqlite:/// URL")
    tables = _run(
        [
            "psql",
            "-X",
            "-q",
            "-t",
            "-A",
            "-c",
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            _libpq(url),
        ],
        url,
    )
    if tables.strip() != "0":
        raise BackupError(
            f"the database {_shown(database)} already holds {tables.strip()} tables: restore into a new, "
            "empty database (a restore never overwrites)"
        )
    _run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", str(backup_file), _libpq(url)], url
    )
    return Copied(str(backup_file), _shown(database), backup_file.stat().st_size)


def _database_url(database: str) -> URL:
    """`database` read by the services' own URL rules (pocopool.service.database)."""
    try:
        return parse_database_url(database)
    except DatabaseUrlError as error:
        raise BackupError(f"{error}, or local:/abs/chain.db") from None


# ----- SQLite ------------------------------------------------------------------------------------
def _sqlite_path(database: str) -> Path | None:
    """The SQLite file `database` names (a LocalChain ledger is one); None for PostgreSQL."""
    if database.startswith("local:"):
        return Path(database[len("local:") :])
    url = _database_url(database)
    if url.get_backend_name() != "sqlite":
        return None
    path = sqlite_path(url)
    if path is None:
        raise BackupError(f"{database!r} names no file: use sqlite:////absolute/path.db")
    return path


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(16) == b"SQLite format 3\x00"


def _check(path: Path) -> None:
    try:
        check_sqlite_file(path)
    except DamagedFile as damage:
        raise BackupError(f"{damage.location} is damaged ({damage.problem}): it cannot be copied") from None


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of `source` in `target`, made by SQLite's online backup API."""
    temporary = _temporary(target)
    temporary.unlink(missing_ok=True)
    reader = sqlite3.connect(source, timeout=_BUSY_TIMEOUT_S)
    try:
        writer = sqlite3.connect(temporary)
        try:
            reader.backup(writer, pages=_ALL_PAGES)
            # A file that stays alone (no -wal beside it) whatever the source's journal mode was.
            writer.execute("PRAGMA journal_mode=DELETE")
            if writer.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise BackupError(f"the copy of {source} does not check as sound; try again")
        finally:
            writer.close()
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        reader.close()
    os.replace(temporary, target)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


# ----- PostgreSQL --------------------------------------------------------------------------------
def _libpq(url: URL) -> str:
    """The URL as pg_dump and psql read it: no driver name, no password (given in the environment)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _shown(database: str) -> str:
    try:
        return make_url(database).render_as_string(hide_password=True)
    except ArgumentError:
        return database


def _run(command: list[str], url: URL) -> str:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed: install the PostgreSQL client programs")
    environment = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if done.returncode != 0:
        reason = " ".join((done.stderr.strip().splitlines() or ["no message"])[0].split())
        raise BackupError(f"{command[0]} failed: {reason}")
    return done.stdout
