"""Starting and stopping the worker, as a process and in-process (docs/contracts.md command line).

The scheduler is deliberately absent: the worker must wait for it with back-off, and still stop at
once and cleanly when told to.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_account import Account

from pocopool.chain import LocalChain
from pocopool.protocol.time import SystemClock
from pocopool.worker import Worker, WorkerConfig

KEY = "0x" + "b2" * 32


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def chain_file(tmp_path: Path) -> Path:
    path = tmp_path / "chain.db"
    LocalChain.create(path, Account.from_key("0x" + "01" * 32).address).close()
    return path


def test_the_worker_process_waits_for_the_scheduler_and_stops_on_sigterm(tmp_path: Path, chain_file: Path) -> None:
    key_file = tmp_path / "worker.key"
    key_file.write_text(KEY + "\n")
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pocopool.worker",
            "--scheduler",
            f"http://127.0.0.1:{closed_port()}",
            "--chain",
            f"local:{chain_file}",
            "--key-file",
            str(key_file),
            "--workdir",
            str(tmp_path / "work"),
            "--name",
            "w0",
            "--slots",
            "2",
            "--runtime",
            "process",
        ],
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        _stop_after_first_try(process)
    assert (tmp_path / "work" / "bundles").is_dir()


def _stop_after_first_try(process: subprocess.Popen[str]) -> None:
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "scheduler-unavailable" in line:
            break
    else:
        process.kill()
        pytest.fail("the worker never tried the scheduler:\n" + "".join(lines))
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=10)
    finally:
        process.kill()
    rest = process.stderr.read()
    assert code == 0, "".join(lines) + rest
    assert "worker-stopped" in rest
    assert f"wallet={Account.from_key(KEY).address}" in lines[0]


def test_a_bad_key_file_is_refused_at_once(tmp_path: Path, chain_file: Path) -> None:
    key_file = tmp_path / "worker.key"
    key_file.write_text("not a key")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pocopool.worker",
            "--scheduler",
            "http://127.0.0.1:1",
            "--chain",
            f"local:{chain_file}",
            "--key-file",
            str(key_file),
            "--workdir",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "not a key" not in result.stderr  # never echo what might be a secret


async def test_an_in_process_worker_stops_cleanly_and_owns_its_work_directory(tmp_path: Path, chain_file: Path) -> None:
    chain = LocalChain(chain_file)
    config = WorkerConfig(
        scheduler_url=f"http://127.0.0.1:{closed_port()}", workdir=tmp_path / "work", private_key=KEY, runtime="process"
    )
    worker = Worker(config, chain, SystemClock())
    running = asyncio.create_task(worker.run())
    await asyncio.sleep(0.5)
    assert not running.done()

    with pytest.raises(RuntimeError, match="another worker is using"):
        await Worker(config, chain, SystemClock()).run()

    started = time.monotonic()
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    assert time.monotonic() - started < 2
    assert not worker.ready.is_set()  # it never got as far as registering
    chain.close()
