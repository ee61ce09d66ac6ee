"""What every runtime offers: run one app with its inputs, outputs and limits, and say how it ended.

Two implementations: `sandbox` (bubblewrap namespaces) and `process` (a plain subprocess, the
fallback where namespaces are not available). Both start the app in its own process group and kill
the whole group at the time limit or when the replicate is aborted or the worker stops.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...protocol.models import MAX_LOG_LENGTH

PIPE_DRAIN_SECONDS = 2.0


@dataclass(frozen=True)
class Limits:
    time_limit: float  # seconds of wall-clock time
    memory_bytes: int  # address space (RLIMIT_AS)
    processes: int  # RLIMIT_NPROC (counted per uid by the kernel; not enforced for root)


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
    pass_fds: tuple[int, ...] = ()  # descriptors the program inherits (the TEE enclaves' SMS socket, key)
    writable_input: bool = False


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None  # the app's exit status (128+N for a signal); None if it never ran or timed out
    timed_out: bool = False
    stdout: str = ""  # last 100 000 characters
    stderr: str = ""
    platform_error: str | None = None  # the runtime itself failed: the app never ran
    duration: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and self.platform_error is None


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
    """Keeps the last bytes of a stream; `text()` is the last MAX_LOG_LENGTH characters."""

    def __init__(self, max_chars: int = MAX_LOG_LENGTH) -> None:
        self.max_chars = max_chars
        self._max_bytes = 4 * max_chars  # UTF-8: at most 4 bytes a character
        self._chunks = bytearray()

    def feed(self, data: bytes) -> None:
        self._chunks += data
        if len(self._chunks) > 2 * self._max_bytes:
            del self._chunks[: len(self._chunks) - self._max_bytes]

    def text(self) -> str:
        return bytes(self._chunks[-self._max_bytes:]).decode("utf-8", errors="replace")[-self.max_chars:]


@dataclass
class Execution:
    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str
    duration: float
    spawn_error: str | None = None


def limit_prefix(limits: Limits) -> tuple[list[str], Callable[[], None] | None]:
    """prlimit(1) in front of the command, or a preexec hook where prlimit is missing."""
    prlimit = shutil.which("prlimit")
    if prlimit:
        return [prlimit, f"--as={limits.memory_bytes}", f"--nproc={limits.processes}", "--core=0", "--"], None

    def apply() -> None:  # pragma: no cover - only where util-linux is absent
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return [], apply


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _pump(stream: asyncio.StreamReader | None, sink: TailBuffer) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        sink.feed(chunk)


async def execute(
    argv: Sequence[str], *, env: dict[str, str], cwd: Path | str, time_limit: float,
    pass_fds: Sequence[int] = (), preexec: Callable[[], None] | None = None,
    on_spawn: Callable[[], None] | None = None,
) -> Execution:
    """Run `argv` in a new session; kill its process group at `time_limit` or on cancellation.

    `on_spawn` runs once the child exists (e.g. to close the parent's copy of a passed fd).
    """
    started = time.monotonic()
    out, err = TailBuffer(), TailBuffer()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, cwd=str(cwd), start_new_session=True,
            pass_fds=tuple(pass_fds), preexec_fn=preexec,
        )
    except OSError as error:
        return Execution(None, False, "", "", 0.0, spawn_error=f"{type(error).__name__}: {error}")
    finally:
        if on_spawn is not None:
            on_spawn()
    timed_out = False
    try:
        async with asyncio.TaskGroup() as group:
            pumps = [group.create_task(_pump(process.stdout, out)), group.create_task(_pump(process.stderr, err))]
            try:
                async with asyncio.timeout(time_limit):
                    await process.wait()
            except TimeoutError:
                timed_out = True
                _kill_group(process.pid)
                await process.wait()
            _kill_group(process.pid)  # stragglers left in the group
            # A descendant that left the group may still hold the pipes: do not wait for it forever.
            _, pending = await asyncio.wait(pumps, timeout=PIPE_DRAIN_SECONDS)
            for pump in pending:
                pump.cancel()
    finally:
        if process.returncode is None:  # cancelled (abort or worker stop): the app must not outlive us
            _kill_group(process.pid)
            with contextlib.suppress(BaseException):
                await asyncio.shield(process.wait())
    return Execution(process.returncode, timed_out, out.text(), err.text(), time.monotonic() - started)


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
