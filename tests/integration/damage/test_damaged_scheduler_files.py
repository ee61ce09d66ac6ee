"""`python -m pocopool.scheduler` on a damaged database, ledger or key file: one line, exit 2, nothing written."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest
from damaging import SQLITE_DAMAGES, assert_refused_in_one_line, damage, start_and_wait_for_exit

from pocopool.protocol.time import SystemClock
from pocopool.scheduler.store import Store
from scheduler_harness import SCHEDULER_KEY, Ledger, make_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    made = make_ledger(tmp_path / "chain.db", SystemClock())
    made.chain.close()
    return made


def scheduler_command(tmp_path: Path, ledger: Ledger) -> list[str]:
    key_file = tmp_path / "scheduler.key"
    if not key_file.exists():
        key_file.write_text(SCHEDULER_KEY + "\n")
    return [
        sys.executable,
        "-m",
        "pocopool.scheduler",
        "--chain",
        f"local:{tmp_path / 'chain.db'}",
        "--key-file",
        str(key_file),
        "--workerpool",
        ledger.workerpool,
        "--db",
        f"sqlite:///{tmp_path / 'scheduler.db'}",
        "--port",
        "0",
    ]


def made_scheduler_database(path: Path) -> Path:
    async def create() -> None:
        store = Store(f"sqlite:///{path}")
        await store.open()
        await store.close()

    asyncio.run(create())
    return path


@pytest.mark.parametrize("how", SQLITE_DAMAGES + ["schema-version-dropped"])
def test_a_damaged_scheduler_database_is_refused_in_one_line_and_left_as_it_is(tmp_path, ledger, how):
    database = made_scheduler_database(tmp_path / "scheduler.db")
    if how == "schema-version-dropped":
        content = damage(database, "table-dropped", table="alembic_version")
    else:
        content = damage(database, how, table="tasks")
    refusal = start_and_wait_for_exit(scheduler_command(tmp_path, ledger))
    assert refusal.returncode == 2
    assert_refused_in_one_line(refusal, database, content)
    assert refusal.line.startswith("pocopool scheduler: cannot open the database")


@pytest.mark.parametrize("how", SQLITE_DAMAGES)
def test_a_damaged_ledger_is_refused_in_one_line_and_left_as_it_is(tmp_path, ledger, how):
    path = tmp_path / "chain.db"
    content = damage(path, how, table="deals")
    refusal = start_and_wait_for_exit(scheduler_command(tmp_path, ledger))
    assert refusal.returncode == 2
    assert_refused_in_one_line(refusal, path, content)
    assert not (tmp_path / "scheduler.db").exists(), "nothing is created before the ledger is known sound"


@pytest.mark.parametrize("how", ["empty", "random-bytes"])
def test_a_damaged_key_file_is_refused_in_one_line_without_echoing_it(tmp_path, ledger, how):
    key_file = tmp_path / "scheduler.key"
    key_file.write_text(SCHEDULER_KEY[:40])
    content = damage(key_file, how)
    refusal = start_and_wait_for_exit(scheduler_command(tmp_path, ledger))
    assert refusal.returncode == 2
    assert_refused_in_one_line(refusal, key_file, content)
    assert SCHEDULER_KEY[4:20] not in refusal.stderr


def test_a_taken_port_is_refused_in_one_line(tmp_path, ledger):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        command = scheduler_command(tmp_path, ledger)
        command[command.index("--port") + 1] = str(port)
        refusal = start_and_wait_for_exit(command)
    assert refusal.returncode == 2, refusal.stderr
    assert refusal.line == f"pocopool scheduler: cannot listen on 127.0.0.1:{port}: Address already in use"
