"""Following a running task live, and reading its logs as the requester, on the real devnet."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
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
    (bundle / "app.py").write_text(source.replace("def main(argv: list[str]) -> int:\n",
                                                  f"def main(argv: list[str]) -> int:\n    __import__('time').sleep({seconds})\n"))
    return bundle


def test_task_show_watch_follows_a_running_task_and_exits_0_when_it_completes(devnet: Devnet, tmp_path: Path) -> None:
    app = devnet.deploy_app(slow_hello(tmp_path, 6))
    run = devnet.cli("run", app, "--args", "watched", "--json").json()
    [task] = run["taskIds"]
    started = time.monotonic()
    watcher = subprocess.run(
        [sys.executable, "-m", "pocopool.cli", "task", "show", task, "--watch", "--timeout", "120",
         "--home", str(devnet.home)],
        capture_output=True, text=True, timeout=180, cwd=REPO, check=False)
    assert watcher.returncode == 0, f"{watcher.stderr}\n{watcher.stdout}\n{devnet.logs()}"
    changes = [line for line in watcher.stdout.splitlines() if line[:2].isdigit() and line[2:3] == ":"]
    # one line per change while it ran (it was not final when the watch began), then the final summary
    assert len(changes) >= 2 and "COMPLETED" not in changes[0].split("[")[0], watcher.stdout
    assert changes[-1].split()[1] == "COMPLETED"
    assert "COMPLETED" in watcher.stdout
    assert time.monotonic() - started < 120

    deal = devnet.cli("deal", "show", run["dealId"], "--watch", "--timeout", "60", "--json", check=False)
    assert deal.code == 0 and deal.json()["counts"] == {"COMPLETED": 1}


def test_task_debug_logs_shows_the_requester_each_workers_logs_and_refuses_another_key(
        devnet: Devnet, tmp_path: Path) -> None:
    app = devnet.deploy_app(REPO / "examples" / "apps" / "hello")
    [task] = devnet.cli("run", app, "--args", "logged", "--json").json()["taskIds"]
    assert devnet.cli("task", "show", task, "--watch", "--timeout", "120", "--json", check=False).code == 0

    debug = devnet.cli("task", "debug", task, "--logs", "--json").json()
    [replicate] = debug["replicates"]
    assert set(replicate["logs"]) == {"stdout", "stderr"}
    assert "Hello, logged!" in replicate["logs"]["stdout"] or replicate["logs"]["stdout"], replicate["logs"]
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
