"""A real devnet (real processes, real HTTP, real SQLite files) driven through the `pocopool` command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from proving import assert_reported, replicate_reports

REPO = Path(__file__).resolve().parents[2]
FINAL = ("COMPLETED", "FAILED")
# A trust-1 standard task that completes: its statuses, and its one replicate's, in order.
HAPPY_PATH = [
    "RECEIVED",
    "INITIALIZING",
    "INITIALIZED",
    "RUNNING",
    "CONSENSUS_REACHED",
    "AT_LEAST_ONE_REVEALED",
    "RESULT_UPLOADING",
    "RESULT_UPLOADED",
    "FINALIZING",
    "FINALIZED",
    "COMPLETED",
]
WORKER_PATH = [
    "CREATED",
    "STARTING",
    "STARTED",
    "APP_DOWNLOADING",
    "APP_DOWNLOADED",
    "DATA_DOWNLOADING",
    "DATA_DOWNLOADED",
    "COMPUTING",
    "COMPUTED",
    "CONTRIBUTING",
    "CONTRIBUTED",
    "REVEALING",
    "REVEALED",
    "RESULT_UPLOAD_REQUESTED",
    "RESULT_UPLOADING",
    "RESULT_UPLOADED",
    "COMPLETING",
    "COMPLETED",
]


def is_final(view: dict[str, Any]) -> bool:
    """A scheduler task view (`Devnet.task_view`) of a task that has ended."""
    return view["currentStatus"] in FINAL


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, home: Path | None = None, timeout: float = 180.0, check: bool = True) -> CliResult:
    argv = [sys.executable, "-m", "pocopool.cli", *args]
    if home is not None:
        argv += ["--home", str(home)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    result = CliResult(done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        pytest.fail(f"pocopool {' '.join(args)} exited {done.returncode}:\n{done.stderr}\n{done.stdout}")
    return result


@dataclass
class Devnet:
    home: Path
    status: dict[str, Any]

    def cli(self, *args: str, check: bool = True, timeout: float = 180.0) -> CliResult:
        return run_cli(*args, home=self.home, check=check, timeout=timeout)

    def deploy_app(self, path: Path) -> str:
        return self.cli("app", "deploy", str(path), "--json").json()["app"]

    def task_view(self, task: str) -> dict[str, Any] | None:
        """The scheduler's view of the task (`GET /tasks/{id}`), None until it has seen its deal.
        Cheap enough to poll, where a `pocopool` process costs a second of CPU each time."""
        answer = httpx.get(f"{self.status['scheduler'].rstrip('/')}/tasks/{task}", timeout=10)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return dict(answer.json())

    def debug_when(
        self,
        task: str,
        ready: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float = 150.0,
        *,
        logs: bool = False,
    ) -> dict[str, Any]:
        """`pocopool task debug --json` (with `--logs`), once the scheduler's view of the task
        satisfies `ready`; the test fails with the devnet's logs if it does not within `timeout`."""

        def seen() -> bool:
            view = self.task_view(task)
            return view is not None and ready(view)

        until(seen, timeout, f"task {task}: {what}", self)
        return dict(self.cli("task", "debug", task, "--json", *(("--logs",) if logs else ())).json())

    def logs(self) -> str:
        parts = []
        for log in sorted((self.home / "logs").glob("*.log")):
            parts.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        return "\n".join(parts)


@contextmanager
def started_devnet(home: Path, *options: str, timeout: float = 150.0) -> Iterator[Devnet]:
    """A devnet started in `home` with `devnet start` OPTIONS, stopped on leaving, whatever happened."""
    status = run_cli("devnet", "start", *options, "--json", home=home, timeout=timeout).json()
    try:
        yield Devnet(home, status)
    finally:
        run_cli("devnet", "stop", home=home, check=False)


def until(predicate: Callable[[], Any], timeout: float, what: str, net: Devnet) -> Any:
    """The first true value of `predicate`, asked again until `timeout`; the test fails (with the
    devnet's logs) if none comes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"{what} not seen within {timeout:.0f} s\n{net.logs()}")


def assert_provoked(
    net: Devnet, task: str, *, status: str, cause: str, error: str, component: str, fix: str
) -> dict[str, Any]:
    """`proving.assert_reported` on a replicate of `task` of a devnet, and the task's `task debug --json`
    view returned."""
    debug = dict(net.cli("task", "debug", task, "--json").json())
    assert_reported(replicate_reports(debug), status=status, cause=cause, error=error, component=component, fix=fix)
    return debug
