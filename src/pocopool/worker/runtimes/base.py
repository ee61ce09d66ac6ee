"""What every runtime offers: run one app with its inputs, outputs and limits, and say how it ended.

Two implementations: `sandbox` (bubblewrap namespaces) and `process` (a plain subprocess, the
fallback where namespaces are not available). Both start the app in its own process group and kill
the whole group at the time limit or when the replicate is aborted or the worker stops; both put
the run in its own cgroup where the host allows (cgroups.py) and watch its limits (guard.py).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ...protocol.applogs import RESULT_LOG_BYTES, RESULT_SETTING, WORKER_SETTING, keep_end

PIPE_DRAIN_SECONDS = 2.0


@dataclass(frozen=True)
class Limits:
    """What one app run may use. With a cgroup, memory and processes bound the WHOLE run; without
    one they fall back to per-process rlimits (RLIMIT_AS; RLIMIT_NPROC, per uid and not for root)."""

    time_limit: float  # seconds of wall-clock time
    memory_bytes: int  # the run's memory (cgroup), or each process's address space (RLIMIT_AS)
    processes: int  # the run's processes (cgroup pids.max), or RLIMIT_NPROC
    cpu_seconds: int | None = None  # CPU time of each process (RLIMIT_CPU)
    output_bytes: int | None = None  # what the run may write into IEXEC_OUT (and each file's size)
    tmp_bytes: int = 256 * 2**20  # the run's /tmp
    log_bytes: int = RESULT_LOG_BYTES  # what is reported of each of stdout and stderr (--app-log-kb)


class LimitKind(str, Enum):
    """Which limit ended a run (each has its own cause: compute.py)."""

    MEMORY = "memory"
    PROCESSES = "processes"
    OUTPUT = "output"
    TMP = "tmp"
    CPU_TIME = "cpu-time"


@dataclass(frozen=True)
class LimitExceeded:
    kind: LimitKind
    detail: str  # what was seen, e.g. "IEXEC_OUT holds 100.0 MiB"


@dataclass(frozen=True)
class Bind:
    """A further host folder the program sees at `target` (the sandbox binds it; the process runtime
    has the host's file system, so the program sees `host` itself: see Runtime.visible)."""

    host: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class AppRun:
    """One app run. `argv` and `env` are as the app sees them (see Runtime.app_paths)."""

    argv: tuple[str, ...]
    env: dict[str, str]
    bundle_dir: Path  # working directory, read-only
    input_dir: Path  # read-only unless writable_input (the TEE pre-compute enclave fills it)
    output_dir: Path  # iexec_out, writable
    limits: Limits
    network: bool = False
    binds: tuple[Bind, ...] = ()
    tmp_dir: Path | None = None  # the run's /tmp on the host, watched; None: a tmpfs of limits.tmp_bytes
    pass_fds: tuple[int, ...] = ()  # descriptors the program inherits (the TEE enclaves' SMS socket, key)
    writable_input: bool = False


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None  # the app's exit status (128+N for a signal); None if it never ran or timed out
    timed_out: bool = False
    stdout: str = ""  # as reported: the end, cut to Limits.log_bytes with its marker (protocol/applogs.py)
    stderr: str = ""
    platform_error: str | None = None  # the runtime itself failed: the app never ran
    duration: float = 0.0
    limit_exceeded: LimitExceeded | None = None  # the run reached one of its limits (and was stopped)
    # stdout and stderr as the result's files keep them (RESULT_LOG_BYTES, the same on every worker);
    # None: `stdout` and `stderr` themselves
    result_logs: tuple[str, str] | None = None

    @property
    def succeeded(self) -> bool:
        return (
            self.exit_code == 0 and not self.timed_out and self.platform_error is None and self.limit_exceeded is None
        )


class Runtime(abc.ABC):
    name: str

    @abc.abstractmethod
    def app_paths(self, input_dir: Path, output_dir: Path) -> tuple[str, str]:
        """IEXEC_IN and IEXEC_OUT as the app sees them."""

    @abc.abstractmethod
    def visible(self, bind: Bind) -> str:
        """Where the program finds a bound folder."""

    @abc.abstractmethod
    async def run(self, app: AppRun) -> RunResult:
        """Run to completion, the time limit, or cancellation (which kills the app and re-raises)."""


class TailBuffer:
    """Keeps the last `capacity` bytes of a stream, and counts the bytes and line ends it dropped."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.dropped_bytes = 0
        self.dropped_lines = 0
        self._chunks = bytearray()

    def feed(self, data: bytes) -> None:
        self._chunks += data
        if len(self._chunks) > 2 * self.capacity:  # trimmed now and then, not at each chunk
            extra = len(self._chunks) - self.capacity
            self.dropped_bytes += extra
            self.dropped_lines += self._chunks.count(b"\n", 0, extra)
            del self._chunks[:extra]

    def text(self, limit: int, setting: str) -> str:
        """The stream's end kept to `limit` bytes (at most `capacity` - 1), with its cut marker."""
        return keep_end(
            bytes(self._chunks),
            limit,
            setting,
            earlier_bytes=self.dropped_bytes,
            earlier_lines=self.dropped_lines,
        )


@dataclass
class Execution:
    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str
    duration: float
    spawn_error: str | None = None
    stopped: bool = False  # the monitor stopped the run (a limit was reached)
    result_logs: tuple[str, str] | None = None  # see RunResult.result_logs


def rlimits(limits: Limits, in_cgroup: bool) -> dict[int, tuple[int, int]]:
    """The rlimits of each process of a run. In a cgroup, memory and processes are the cgroup's job:
    RLIMIT_AS would count address space rather than memory, and RLIMIT_NPROC counts every process
    of the sandbox uid on the host, so that one run's fork bomb would starve the others."""
    found = {resource.RLIMIT_CORE: (0, 0)}
    if not in_cgroup:
        found[resource.RLIMIT_AS] = (limits.memory_bytes, limits.memory_bytes)
        found[resource.RLIMIT_NPROC] = (limits.processes, limits.processes)
    if limits.cpu_seconds:
        # SIGXCPU at the soft limit (an exit the worker recognizes), SIGKILL a second later.
        found[resource.RLIMIT_CPU] = (limits.cpu_seconds, limits.cpu_seconds + 1)
    if limits.output_bytes:
        largest = max(limits.output_bytes, limits.tmp_bytes)
        found[resource.RLIMIT_FSIZE] = (largest, largest)  # no single file beyond a folder's limit
    return found


_PRLIMIT_NAMES = {
    resource.RLIMIT_CORE: "core",
    resource.RLIMIT_AS: "as",
    resource.RLIMIT_NPROC: "nproc",
    resource.RLIMIT_CPU: "cpu",
    resource.RLIMIT_FSIZE: "fsize",
}


def limit_prefix(limits: Limits, in_cgroup: bool = False) -> tuple[list[str], Callable[[], None] | None]:
    """prlimit(1) in front of the command, or a preexec hook where prlimit is missing."""
    wanted = rlimits(limits, in_cgroup)
    prlimit = shutil.which("prlimit")
    if prlimit:
        return [prlimit, *(f"--{_PRLIMIT_NAMES[k]}={soft}:{hard}" for k, (soft, hard) in wanted.items()), "--"], None

    def apply() -> None:  # pragma: no cover - only where util-linux is absent
        for key, value in wanted.items():
            resource.setrlimit(key, value)

    return [], apply


def _kill_group(pid: int, on_kill: Callable[[], None] | None = None) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if on_kill is not None:
        on_kill()


async def _exit(process: asyncio.subprocess.Process) -> None:
    """The program's own exit: process.wait() would also wait for whoever still holds its pipes."""
    while process.returncode is None:
        await asyncio.sleep(0.02)


async def _pump(stream: asyncio.StreamReader | None, sink: TailBuffer) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        sink.feed(chunk)


async def _awaited(awaitable: Awaitable[object]) -> object:
    return await awaitable


async def execute(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    cwd: Path | str,
    time_limit: float,
    pass_fds: Sequence[int] = (),
    preexec: Callable[[], None] | None = None,
    on_spawn: Callable[[], None] | None = None,
    monitor: Callable[[], Awaitable[object]] | None = None,
    on_kill: Callable[[], None] | None = None,
    log_bytes: int = RESULT_LOG_BYTES,
) -> Execution:
    """Run `argv` in a new session; kill its process group at `time_limit` or on cancellation.

    `on_spawn` runs once the child exists (e.g. to close the parent's copy of a passed fd).
    `monitor`, if given, runs beside the program: when it returns, the program is killed
    (`stopped`): it returns when a limit of the run is reached. `on_kill` kills what the process
    group does not hold (the run's cgroup): it runs with every kill, and once the program ended.
    stdout and stderr are kept to `log_bytes` each, and to RESULT_LOG_BYTES for the result's files.
    """
    started = time.monotonic()
    # One byte more than the largest cut: the byte before a cut tells whether it starts a line.
    capacity = max(log_bytes, RESULT_LOG_BYTES) + 1
    out, err = TailBuffer(capacity), TailBuffer(capacity)
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=str(cwd),
            start_new_session=True,
            pass_fds=tuple(pass_fds),
            preexec_fn=preexec,
        )
    except OSError as error:
        return Execution(None, False, "", "", 0.0, spawn_error=f"{type(error).__name__}: {error}")
    finally:
        if on_spawn is not None:
            on_spawn()
    timed_out = stopped = False
    try:
        async with asyncio.TaskGroup() as group:
            pumps = [group.create_task(_pump(process.stdout, out)), group.create_task(_pump(process.stderr, err))]
            watch = group.create_task(_awaited(monitor())) if monitor is not None else None
            try:
                async with asyncio.timeout(time_limit):
                    ended = group.create_task(_exit(process))
                    await asyncio.wait((ended, watch) if watch else (ended,), return_when=asyncio.FIRST_COMPLETED)
                    if not ended.done():
                        stopped = True
                        _kill_group(process.pid, on_kill)
                        await ended
            except TimeoutError:
                timed_out = True
                _kill_group(process.pid, on_kill)
                await _exit(process)
            finally:
                if watch is not None:
                    watch.cancel()
            _kill_group(process.pid, on_kill)  # stragglers left in the group (or, with on_kill, anywhere)
            # A descendant that left the group may still hold the pipes: do not wait for it forever.
            _, pending = await asyncio.wait(pumps, timeout=PIPE_DRAIN_SECONDS)
            for pump in pending:
                pump.cancel()
    finally:
        if process.returncode is None:  # cancelled (abort or worker stop): the app must not outlive us
            _kill_group(process.pid, on_kill)
            with contextlib.suppress(BaseException):
                await asyncio.shield(_exit(process))
    return Execution(
        process.returncode,
        timed_out,
        out.text(log_bytes, WORKER_SETTING),
        err.text(log_bytes, WORKER_SETTING),
        time.monotonic() - started,
        stopped=stopped,
        result_logs=(out.text(RESULT_LOG_BYTES, RESULT_SETTING), err.text(RESULT_LOG_BYTES, RESULT_SETTING)),
    )


def exit_status(returncode: int) -> int:
    """Shell convention: a death by signal N reads as 128+N."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass
class StatusPipe:
    """bubblewrap's --json-status-fd: tells whether the app was started and how it exited."""

    read_fd: int = -1
    write_fd: int = -1
    documents: list[dict] = field(default_factory=list)

    def __enter__(self) -> StatusPipe:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        return self

    def close_writer(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def collect(self) -> list[dict]:
        raw = b""
        with contextlib.suppress(BlockingIOError, OSError):
            while chunk := os.read(self.read_fd, 65536):
                raw += chunk
        decoder = json.JSONDecoder()
        text, index = raw.decode(errors="replace"), 0
        while index < len(text):
            while index < len(text) and text[index].isspace():
                index += 1
            if index >= len(text):
                break
            try:
                document, index = decoder.raw_decode(text, index)
            except json.JSONDecodeError:
                break
            if isinstance(document, dict):
                self.documents.append(document)
        return self.documents

    def __exit__(self, *exc: object) -> None:
        self.close_writer()
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1
