"""Background processes on this host: ports, start in a session of their own, wait until ready, stop.

Every process the devnet starts leads its own session (`start_new_session`), so that a stop reaches
its children too (a worker's sandboxed apps) through its process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from .state import DevnetError

READY_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port of 127.0.0.1 that no one listens on now (the caller binds it soon after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_free(port: int) -> bool:
    """Whether `port` of 127.0.0.1 can be bound now, as an HTTP server binds it (SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def is_alive(pid: int | None) -> bool:
    """Whether process `pid` runs (a zombie child of ours counts as dead)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Starts `argv` in a new session, its output appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as sink:
        return subprocess.Popen(
            argv,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def tail(log: Path, lines: int = 15) -> str:
    """The last lines of a log, for an error message."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    """Returns once `url` answers 200; DevnetError if the process exits or READY_TIMEOUT passes first."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevnetError(
                f"the {what} exited with code {process.returncode} at start; its log {log} ends with:\n{tail(log)}"
            )
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise DevnetError(f"the {what} did not answer {url} within {READY_TIMEOUT:.0f} s; see {log}:\n{tail(log)}")


def reap(pid: int, timeout: float = 5.0) -> None:
    """Waits (up to `timeout`) until a killed process is gone, collecting it if it is our child."""
    deadline = time.monotonic() + timeout
    while is_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)


def terminate(pid: int | None, timeout: float = 10.0) -> None:
    """SIGTERM to the process group of `pid`, SIGKILL if it still runs after `timeout`."""
    if not is_alive(pid):
        return
    assert pid is not None
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_alive(pid) and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    if is_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill(pid: int | None) -> None:
    """SIGKILL to the process group of `pid` if it runs (tests and demos of a crash), then reap it."""
    if is_alive(pid):
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)
        reap(pid)
