"""The SMS, the result store and the worker on a damaged database, ledger, key or replicate state."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from damaging import SQLITE_DAMAGES, assert_refused_in_one_line, damage, start_and_wait_for_exit
from eth_account import Account

from pocopool.chain import LocalChain
from pocopool.devnet.processes import free_port
from pocopool.devnet.tee import pinned_programs
from pocopool.service.database import open_database
from pocopool.sms.tables import schema
from pocopool.sms.vault import load_or_create_master_key

TASK_ID = "0x" + "7a" * 32
WORKER_KEY = "0x" + "b2" * 32


@pytest.fixture
def chain_file(tmp_path: Path) -> Path:
    path = tmp_path / "chain.db"
    LocalChain.create(path, Account.from_key("0x" + "01" * 32).address).close()
    return path


def sms_command(tmp_path: Path, chain_file: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pocopool.sms",
        "--chain",
        f"local:{chain_file}",
        "--home",
        str(tmp_path / "sms"),
        "--port",
        str(free_port()),
        "--result-proxy",
        "http://results.example:8090",
        "--trust-platform",
        Account.create().address,
        *pinned_programs(),
    ]


def made_sms_home(home: Path) -> Path:
    load_or_create_master_key(home)
    database = open_database(f"sqlite:///{home / 'sms.db'}", schema)

    async def create() -> None:
        await database.migrate()
        await database.dispose()

    asyncio.run(create())
    return home / "sms.db"


def worker_command(tmp_path: Path, chain_file: Path, scheduler_port: int) -> list[str]:
    key_file = tmp_path / "worker.key"
    if not key_file.exists():
        key_file.write_text(WORKER_KEY + "\n")
    return [
        sys.executable,
        "-m",
        "pocopool.worker",
        "--scheduler",
        f"http://127.0.0.1:{scheduler_port}",
        "--chain",
        f"local:{chain_file}",
        "--key-file",
        str(key_file),
        "--workdir",
        str(tmp_path / "work"),
        "--name",
        "w0",
        "--runtime",
        "process",
    ]


@pytest.mark.parametrize("how", SQLITE_DAMAGES)
def test_a_damaged_sms_database_is_refused_in_one_line_and_left_as_it_is(tmp_path, chain_file, how):
    database = made_sms_home(tmp_path / "sms")
    content = damage(database, how, table="task_challenges")
    refusal = start_and_wait_for_exit(sms_command(tmp_path, chain_file))
    assert_refused_in_one_line(refusal, database, content)
    assert refusal.line.startswith("pocopool sms: cannot open the database")


def test_a_cut_sms_master_key_is_refused_in_one_line_and_left_as_it_is(tmp_path, chain_file):
    made_sms_home(tmp_path / "sms")
    key = tmp_path / "sms" / "master.key"
    content = damage(key, "cut-in-half")
    refusal = start_and_wait_for_exit(sms_command(tmp_path, chain_file))
    assert_refused_in_one_line(refusal, key, content)


def test_the_sms_and_the_result_store_refuse_a_damaged_ledger_in_one_line(tmp_path, chain_file):
    content = damage(chain_file, "cut-in-half")
    for command in (
        sms_command(tmp_path, chain_file),
        [
            sys.executable,
            "-m",
            "pocopool.results",
            "--chain",
            f"local:{chain_file}",
            "--data-dir",
            str(tmp_path / "results"),
            "--port",
            str(free_port()),
        ],
    ):
        assert_refused_in_one_line(start_and_wait_for_exit(command), chain_file, content)
    assert not (tmp_path / "sms" / "sms.db").exists()


@pytest.mark.parametrize("how", ["empty", "random-bytes"])
def test_a_damaged_worker_key_file_is_refused_in_one_line(tmp_path, chain_file, how):
    key_file = tmp_path / "worker.key"
    key_file.write_text(WORKER_KEY)
    content = damage(key_file, how)
    refusal = start_and_wait_for_exit(worker_command(tmp_path, chain_file, free_port()))
    assert refusal.returncode == 2
    assert_refused_in_one_line(refusal, key_file, content)


def test_a_worker_refuses_a_damaged_ledger_in_one_line(tmp_path, chain_file):
    content = damage(chain_file, "header-overwritten")
    refusal = start_and_wait_for_exit(worker_command(tmp_path, chain_file, free_port()))
    assert refusal.returncode == 2
    assert_refused_in_one_line(refusal, chain_file, content)


@pytest.mark.parametrize("how", ["empty", "cut-mid-way", "random-bytes"])
def test_a_damaged_replicate_state_is_reported_and_the_worker_keeps_running(tmp_path, chain_file, how):
    state = tmp_path / "work" / TASK_ID / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(
        json.dumps(
            {
                "chain_task_id": TASK_ID,
                "authorization": {"workerWallet": "0x" + "00" * 20},
                "reported": ["STARTING", "STARTED", "COMPUTED"],
            },
            indent=1,
        )
    )
    content = damage(state, how)
    with subprocess.Popen(
        worker_command(tmp_path, chain_file, free_port()), stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while not any("scheduler-unavailable" in line for line in lines):  # it went on to wait for its scheduler
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            lines.append(process.stderr.readline())
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    [report] = [line for line in lines if "replicate-state-damaged" in line]
    assert str(state) in report and "is damaged" in report and "not resumed" in report, report
    assert "Traceback" not in "".join(lines)
    assert state.read_bytes() == content, "the worker changed a damaged state before its scheduler answered"


def with_port(command: list[str], port: int) -> list[str]:
    at = command.index("--port") + 1
    return [*command[:at], str(port), *command[at + 1 :]]


def test_every_service_says_a_taken_port_the_same_way(tmp_path, chain_file):
    """One way to fail at start (service/startup.py): `pocopool <service>: …`, one line, exit 2."""
    results = [
        sys.executable,
        "-m",
        "pocopool.results",
        "--chain",
        f"local:{chain_file}",
        "--data-dir",
        str(tmp_path / "results"),
        "--port",
        "0",
    ]
    fileserver = [sys.executable, "-m", "pocopool.devnet.fileserver", "--dir", str(tmp_path / "files"), "--port", "0"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        for service, command in (
            ("sms", sms_command(tmp_path, chain_file)),
            ("results", results),
            ("fileserver", fileserver),
        ):
            refusal = start_and_wait_for_exit(with_port(command, port))
            assert refusal.returncode == 2, refusal.stderr
            assert refusal.line == f"pocopool {service}: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_a_bad_option_value_is_refused_by_argparse_with_the_same_exit_status(tmp_path, chain_file):
    refusal = start_and_wait_for_exit(with_port(sms_command(tmp_path, chain_file), 70000))
    assert refusal.returncode == 2 and "70000 is not a port (0-65535; 0: any free port)" in refusal.stderr
    assert "Traceback" not in refusal.stderr
