"""Following a running task live, and reading its logs as the requester, on the real devnet."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devnet_harness import REPO, Devnet
from pocopool.protocol.crypto import new_private_key

pytestmark = pytest.mark.e2e  # starts whole devnets: left out of `make test-fast`


def slow_hello(tmp_path: Path, seconds: int) -> Path:
    """The hello app, computing for a few seconds: long enough to be watched while it runs."""
    bundle = tmp_path / "slow-hello"
    shutil.copytree(REPO / "examples" / "apps" / "hello", bundle)
    (bundle / "app.json").write_text(json.dumps({"name": "slow-hello", "entrypoint": ["python3", "app.py"]}))
    source = (bundle / "app.py").read_text()
    (bundle / "app.py").write_text(
        source.replace(
            "def main(argv: list[str]) -> int:\n",
            f"def main(argv: list[str]) -> int:\n    __import__('time').sleep({seconds})\n",
        )
    )
    return bundle


@contextmanager
def workers_paused(devnet: Devnet) -> Iterator[None]:
    """Every worker of the devnet stopped (SIGSTOP) until the block ends: no task can progress, so a
    watcher started meanwhile sees it before it completes, however busy the host."""
    pids = [w["pid"] for w in devnet.cli("devnet", "status", "--json").json()["workers"] if w["running"]]
    assert pids, "the devnet has no running worker"
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def test_task_show_watch_follows_a_running_task_and_exits_0_when_it_completes(devnet: Devnet, tmp_path: Path) -> None:
    app = devnet.deploy_app(slow_hello(tmp_path, 2))
    with workers_paused(devnet):
        run = devnet.cli("run", app, "--args", "watched", "--json").json()
        [task] = run["taskIds"]
        watcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pocopool.cli",
                "task",
                "show",
                task,
                "--watch",
                "--timeout",
                "120",
                "--home",
                str(devnet.home),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert watcher.stdout is not None
        first = watcher.stdout.readline()  # the watcher has seen the task (no worker can have finished it)
    rest, errors = watcher.communicate(timeout=180)
    assert watcher.returncode == 0, f"{errors}\n{first}{rest}\n{devnet.logs()}"
    changes = [line for line in (first + rest).splitlines() if line[:2].isdigit() and line[2:3] == ":"]
    # one line per change while it ran (it was not final when the watch began), then the final summary
    assert len(changes) >= 2 and "COMPLETED" not in changes[0].split("[")[0], first + rest
    assert " — waiting for: " in changes[0], first  # not a terminal: the line says what it waits for
    assert changes[-1].split()[1] == "COMPLETED", first + rest
    assert "COMPLETED" in rest

    deal = devnet.cli("deal", "show", run["dealId"], "--watch", "--timeout", "60", "--json", check=False)
    assert deal.code == 0 and deal.json()["counts"] == {"COMPLETED": 1}


def test_task_debug_logs_shows_the_requester_each_workers_logs_and_refuses_another_key(
    devnet: Devnet, tmp_path: Path
) -> None:
    app = devnet.deploy_app(REPO / "examples" / "apps" / "hello")
    [task] = devnet.cli("run", app, "--args", "logged", "--json").json()["taskIds"]
    assert devnet.cli("task", "show", task, "--watch", "--timeout", "120", "--json", check=False).code == 0

    debug = devnet.cli("task", "debug", task, "--logs", "--json").json()
    [replicate] = debug["replicates"]
    assert set(replicate["logs"]) == {"stdout", "stderr"}
    assert f"hello: wrote greeting.txt for task {task}: Hello, logged!" in replicate["logs"]["stdout"], replicate[
        "logs"
    ]
    assert debug["timeline"]["task"][-1]["status"] == "COMPLETED"
    assert debug["waitingFor"] is None
    assert debug["consensus"][0]["agrees"] is True and debug["consensus"][0]["revealed"] is True

    text = devnet.cli("task", "debug", task, "--logs").stdout
    assert "stdout" in text and "Timeline" in text

    stranger = tmp_path / "stranger.key"
    stranger.write_text(new_private_key())
    refused = devnet.cli("task", "debug", task, "--logs", "--key", str(stranger), check=False)
    assert refused.code != 0 and "requester" in refused.stderr
    assert "Hello" not in refused.stdout + refused.stderr
