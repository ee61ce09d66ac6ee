"""`python -m pocopool.scheduler` as a real process: refuses a wrong key in one line, serves, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pocopool.devnet.processes import free_port
from scheduler_harness import SCHEDULER_KEY, WORKER_KEYS


def command(tmp_path: Path, ledger, key: str, port: int) -> list[str]:
    key_file = tmp_path / "scheduler.key"
    key_file.write_text(key + "\n")
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
        str(port),
        "--results-url",
        "http://results.test",
        "--poll-interval",
        "0.1",
        "--detector-period",
        "0.5",
    ]


def test_a_key_that_does_not_own_the_workerpool_is_refused_in_one_line(tmp_path, ledger):
    done = subprocess.run(
        command(tmp_path, ledger, WORKER_KEYS[0], free_port()), capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not the owner of workerpool" in lines[0], done.stderr


def test_the_scheduler_process_serves_then_stops_cleanly_on_sigterm(tmp_path, ledger):
    port = free_port()
    process = subprocess.Popen(
        command(tmp_path, ledger, SCHEDULER_KEY, port), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the scheduler did not start"
                time.sleep(0.1)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        [task_id] = ledger.task_ids(ledger.new_deal(trust=1))
        while httpx.get(f"http://127.0.0.1:{port}/tasks/{task_id}").json().get("currentStatus") != "INITIALIZED":
            assert time.monotonic() < deadline, "the task was not initialized"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        stderr = process.stderr.read() if process.stderr else ""
        assert "scheduler.stopped" in stderr
        assert f"task.status task={task_id} status=INITIALIZED" in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
