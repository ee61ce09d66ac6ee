"""Starting and stopping EVM nodes on 127.0.0.1: the built-in one (`python -m pocopool.devnet.evmnode`),
a built-in one following another (`--follow`), and Hardhat Network installed from the npm registry into
tools/hardhat (scripts/install-hardhat.sh). Used by the devnet (`--chain evm`), the conformance suite and bench/gas_report.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .processes import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]
HARDHAT_DIR = Path(os.environ.get("POCOPOOL_HARDHAT_DIR") or REPO_ROOT / "tools" / "hardhat")
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "install-hardhat.sh"


class NodeUnavailable(Exception):
    """This kind of node cannot run here (not installed and not installable); the message says why."""


@dataclass
class NodeProcess:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)


def rpc_ready(url: str) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            return "result" in json.loads(answer.read())
    except (OSError, ValueError):
        return False


def _wait(node: NodeProcess, timeout: float, log: Path | None) -> NodeProcess:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise RuntimeError(f"the EVM node exited with {node.process.returncode} (log: {log})")
        if rpc_ready(node.url):
            return node
        time.sleep(0.1)
    node.stop()
    raise RuntimeError(f"the EVM node at {node.url} did not answer within {timeout} s (log: {log})")


def _output(log: Path | None) -> IO[bytes] | int:
    return open(log, "ab") if log is not None else subprocess.DEVNULL


def start_builtin_node(
    port: int | None = None,
    *,
    chain_id: int = 1337,
    genesis_time: int | None = None,
    log: Path | None = None,
    journal: Path | None = None,
    gas_price: int | None = None,
    funds: dict[str, int] | None = None,
    timeout: float = 60.0,
) -> NodeProcess:
    """The built-in node on `port` (a free one by default). With `journal`, its chain is kept in that file
    and replayed from it if it exists (evmnode/__init__.py); `timeout` covers the replay. `gas_price`
    (wei) makes it charge gas, `funds` (address → wei) are given at genesis; both default to the
    journal's, or free gas and nothing funded."""
    port = port or free_port()
    command = [sys.executable, "-m", "pocopool.devnet.evmnode", "--port", str(port), "--chain-id", str(chain_id)]
    if genesis_time is not None:
        command += ["--genesis-time", str(genesis_time)]
    if journal is not None:
        command += ["--journal", str(journal)]
    if gas_price is not None:
        command += ["--gas-price", str(gas_price)]
    for address, wei in (funds or {}).items():
        command += ["--fund", f"{address}={wei}"]
    output = _output(log)
    process = subprocess.Popen(command, stdout=output, stderr=output, start_new_session=True)
    return _wait(NodeProcess(f"http://127.0.0.1:{port}", process), timeout, log)


def start_follower_node(
    leader_url: str, port: int | None = None, *, lag: int = 0, log: Path | None = None, timeout: float = 60.0
) -> NodeProcess:
    """A built-in node on `port` (a free one by default) that follows the node at `leader_url`
    (evmnode/follow.py): the same blocks, synced from the leader, `lag` blocks behind it; `timeout`
    covers its first sync."""
    port = port or free_port()
    command = [sys.executable, "-m", "pocopool.devnet.evmnode", "--port", str(port), "--follow", leader_url]
    if lag:
        command += ["--lag", str(lag)]
    output = _output(log)
    process = subprocess.Popen(command, stdout=output, stderr=output, start_new_session=True)
    return _wait(NodeProcess(f"http://127.0.0.1:{port}", process), timeout, log)


def ensure_hardhat() -> Path:
    """The hardhat executable, installing it from the npm registry first if needed."""
    executable = HARDHAT_DIR / "node_modules" / ".bin" / "hardhat"
    if executable.exists():
        return executable
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise NodeUnavailable("Hardhat needs node and npm, which are not installed")
    project = REPO_ROOT / "tools" / "hardhat"
    HARDHAT_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "hardhat.config.js"):  # a project folder elsewhere gets the repo's files
        if not (HARDHAT_DIR / name).exists():
            shutil.copy(project / name, HARDHAT_DIR / name)
    try:
        subprocess.run(["bash", str(INSTALL_SCRIPT), str(HARDHAT_DIR)], check=True, capture_output=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        detail = getattr(error, "stderr", b"") or b""
        raise NodeUnavailable(f"npm could not install Hardhat into {HARDHAT_DIR}: {detail.decode()[-500:]}") from None
    if not executable.exists():
        raise NodeUnavailable(f"npm ran but {executable} is missing")
    return executable


def start_hardhat_node(
    port: int | None = None,
    *,
    chain_id: int = 31337,
    genesis_time: int | None = None,
    log: Path | None = None,
    timeout: float = 90.0,
) -> NodeProcess:
    executable = ensure_hardhat()
    port = port or free_port()
    env = dict(os.environ, HARDHAT_DISABLE_TELEMETRY_PROMPT="true", POCOPOOL_CHAIN_ID=str(chain_id))
    if genesis_time is not None:
        env["POCOPOOL_GENESIS_TIME"] = str(genesis_time)
    output = _output(log)
    process = subprocess.Popen(
        [str(executable), "node", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=HARDHAT_DIR,
        env=env,
        stdout=output,
        stderr=output,
        start_new_session=True,
    )
    return _wait(NodeProcess(f"http://127.0.0.1:{port}", process), timeout, log)
