"""`pocopool db backup|restore`: copy a running service's database, and make a new one from a copy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..client.errors import BadInput
from . import render
from .common import HomeOption, JsonOption, emit, handled

if TYPE_CHECKING:  # pocopool.backup loads SQLAlchemy and Alembic: only the two commands need them
    from ..backup import Copied

db_app = typer.Typer(
    help="Back up and restore a database (the scheduler's, the SMS's, a LocalChain ledger).", no_args_is_help=True
)
DbOption = typer.Option(
    None,
    "--db",
    envvar="POCOPOOL_DATABASE_URL",
    help="sqlite:////abs/path.db, postgresql://user@host:port/db or local:/abs/chain.db "
    "(default: the devnet's scheduler database).",
)


def _database(url: str | None, home: Path | None) -> str:
    if url:
        return url
    from ..devnet import manager

    if home is None:
        raise BadInput("say which database: --db URL, or --home DIR for the devnet's scheduler database")
    state = manager.load_state(home.resolve())
    if not state.database:
        raise BadInput(f"the devnet in {home} names no scheduler database: give --db URL")
    return state.database


def _copied(copied: Copied) -> dict[str, Any]:
    return {"source": copied.source, "target": copied.target, "bytes": copied.bytes}


@db_app.command("backup")
@handled
def backup_command(
    out: Path = typer.Argument(..., dir_okay=False, help="The backup file to create (never overwritten)."),
    db: str | None = DbOption,
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Copy a database while its service runs: SQLite's online backup, or pg_dump for PostgreSQL."""
    from ..backup import BackupError, backup

    try:
        copied = backup(_database(db, home), out.resolve())
    except BackupError as error:
        raise BadInput(str(error)) from None
    emit(
        _copied(copied),
        as_json,
        lambda d: render.console.print(f"backed up {d['source']} to {d['target']} ({d['bytes']} bytes)"),
    )


@db_app.command("restore")
@handled
def restore_command(
    backup_file: Path = typer.Argument(..., exists=False, dir_okay=False, help="A file made by `db backup`."),
    db: str | None = DbOption,
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Make a new database from a backup; the target must not exist (SQLite) or be empty (PostgreSQL)."""
    from ..backup import BackupError, restore

    try:
        copied = restore(backup_file.resolve(), _database(db, home))
    except BackupError as error:
        raise BadInput(str(error)) from None
    emit(_copied(copied), as_json, lambda d: render.console.print(f"restored {d['target']} from {d['source']}"))
