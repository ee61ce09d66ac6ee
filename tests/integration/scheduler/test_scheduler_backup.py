"""`pocopool db backup` copies a running scheduler's database; `pocopool db restore` makes a new one a
scheduler starts on with every task of the copy (README: Backups). SQLite through its online backup
API, PostgreSQL through pg_dump and psql: the PostgreSQL run needs the server at 127.0.0.1:5432 and
fails without it."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pocopool.devnet.processes import free_port
from scheduler_harness import SCHEDULER_KEY, Ledger

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


async def _pg(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(database="postgres", timeout=3, host="127.0.0.1", port=5432, user="postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The running scheduler's database and the empty one the backup is restored into."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scheduler.db'}", f"sqlite:///{tmp_path / 'restored' / 'scheduler.db'}"
        return
    names = [f"pocopool_backup_{secrets.token_hex(4)}" for _ in range(2)]
    for name in names:
        asyncio.run(_pg(f'CREATE DATABASE "{name}"'))  # no server: the test fails here, it is not skipped
    try:
        yield f"{PG}/{names[0]}", f"{PG}/{names[1]}"
    finally:
        for name in names:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class SchedulerProcess:
    def __init__(self, tmp_path: Path, ledger: Ledger, db_url: str) -> None:
        key_file = tmp_path / "scheduler.key"
        key_file.write_text(SCHEDULER_KEY + "\n")
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = (tmp_path / f"scheduler-{self.url.rsplit(':', 1)[1]}.log").open("w")
        self.process = subprocess.Popen(
            [
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
                db_url,
                "--port",
                self.url.rsplit(":", 1)[1],
                "--poll-interval",
                "0.1",
                "--detector-period",
                "0.5",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.wait_until(lambda: self.get("/health").status_code == 200, "the scheduler did not start")

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=5)

    def status(self, task_id: str) -> str | None:
        response = self.get(f"/tasks/{task_id}")
        return response.json().get("currentStatus") if response.status_code == 200 else None

    def wait_until(self, condition, what: str, timeout: float = 60) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, Path(self.log.name).read_text()
            try:
                if condition():
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, what
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(timeout=20) == 0, Path(self.log.name).read_text()
        self.log.close()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pocopool.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_running_schedulers_database_is_backed_up_and_restored_with_its_tasks(tmp_path, ledger, databases):
    source, target = databases
    Path(tmp_path / "restored").mkdir()
    running = SchedulerProcess(tmp_path, ledger, source)
    try:
        tasks = ledger.task_ids(ledger.new_deal(volume=3))
        running.wait_until(lambda: all(running.status(t) == "INITIALIZED" for t in tasks), "tasks not initialized")
        busy = ledger.task_ids(ledger.new_deal(volume=3))  # the scheduler is writing these while the copy is made
        backup_file = tmp_path / "backup" / "scheduler.backup"
        backup_file.parent.mkdir()
        done = cli("db", "backup", str(backup_file), "--db", source, "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["bytes"] == backup_file.stat().st_size > 0
        running.wait_until(
            lambda: all(running.status(t) == "INITIALIZED" for t in busy), "the scheduler stopped serving"
        )

        done = cli("db", "restore", str(backup_file), "--db", target, "--json")
        assert done.returncode == 0, done.stderr
        again = cli("db", "restore", str(backup_file), "--db", target)
        assert again.returncode != 0 and len(again.stderr.strip().splitlines()) == 1, again.stderr
        assert "never overwrites" in again.stderr and "Traceback" not in again.stderr
    finally:
        running.stop()

    restored = SchedulerProcess(tmp_path, ledger, target)
    try:
        assert [restored.status(t) for t in tasks] == ["INITIALIZED"] * 3
        history = restored.get(f"/tasks/{tasks[0]}").json()
        assert [change["status"] for change in history["dateStatusList"]][:3] == [
            "RECEIVED",
            "INITIALIZING",
            "INITIALIZED",
        ]
    finally:
        restored.stop()


def test_a_backup_refuses_to_overwrite_a_file_and_to_copy_a_damaged_database(tmp_path):
    damaged = tmp_path / "scheduler.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    done = cli("db", "backup", str(tmp_path / "out.backup"), "--db", f"sqlite:///{damaged}")
    assert done.returncode != 0 and "is damaged" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.backup").exists()
    existing = tmp_path / "existing.backup"
    existing.write_text("keep me")
    done = cli("db", "backup", str(existing), "--db", f"sqlite:///{damaged}")
    assert done.returncode != 0 and "never overwrites" in done.stderr
    assert existing.read_text() == "keep me"
