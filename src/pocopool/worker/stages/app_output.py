"""What the standard and the TEE compute share about the app's run: the output and tmp folders it
starts with, its stdout/stderr kept in the result, and how its exit and its limits read."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from ...protocol.statuses import ReplicateStatusCause as Cause
from ..config import LIMIT_OPTIONS, WorkerConfig
from ..runtimes.base import LimitExceeded, LimitKind, RunResult
from ..workspace import TaskPaths

TIMEOUT_EXIT_CODE = -1  # as the reference reports a killed container
LIMIT_CAUSES = {
    LimitKind.MEMORY: Cause.APP_MEMORY_LIMIT_EXCEEDED,
    LimitKind.PROCESSES: Cause.APP_PROCESS_LIMIT_EXCEEDED,
    LimitKind.OUTPUT: Cause.APP_OUTPUT_LIMIT_EXCEEDED,
    LimitKind.TMP: Cause.APP_TMP_LIMIT_EXCEEDED,
    LimitKind.CPU_TIME: Cause.APP_CPU_TIME_LIMIT_EXCEEDED,
}


def describe_limit(exceeded: LimitExceeded, config: WorkerConfig) -> str:
    """The errorMessage of a run stopped at a limit: what was seen, the limit, the option to change."""
    value = {
        LimitKind.MEMORY: f"{config.app_memory_mb} MiB",
        LimitKind.PROCESSES: f"{config.app_max_processes} processes",
        LimitKind.OUTPUT: f"{config.app_output_mb} MiB",
        LimitKind.TMP: f"{config.app_tmp_mb} MiB",
        LimitKind.CPU_TIME: f"{config.app_cpu_seconds} s",
    }[exceeded.kind]
    return (
        f"app stopped at the worker's {exceeded.kind.value} limit of {value} per app run: {exceeded.detail} "
        f"(worker option {LIMIT_OPTIONS[exceeded.kind]})"
    )


def describe_exit(code: int) -> str:
    if code > 128:
        try:
            return f"app killed by signal {signal.Signals(code - 128).name} (exit {code})"
        except ValueError:
            pass
    return f"app exited with code {code}"


def prepare_output(paths: TaskPaths) -> None:
    """An empty iexec_out (a previous attempt's files must not leak into this result)."""
    shutil.rmtree(paths.output, ignore_errors=True)
    paths.iexec_out.mkdir(parents=True)
    paths.iexec_out.chmod(0o755)
    paths.input.mkdir(parents=True, exist_ok=True)
    paths.input.chmod(0o755)


def prepare_tmp(paths: TaskPaths) -> Path:
    """An empty /tmp for the run, on the host so that the worker can measure it (removed after)."""
    tmp = paths.root / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tmp.chmod(0o1777)
    return tmp


def remove_tmp(paths: TaskPaths) -> None:
    shutil.rmtree(paths.root / "tmp", ignore_errors=True)


def write_app_logs(paths: TaskPaths, result: RunResult) -> None:
    """After a successful run, non-empty stdout/stderr become part of the result (as the reference),
    each kept to the protocol's RESULT_LOG_BYTES (never the worker's own log setting: every worker
    must write the same files for the same output)."""
    stdout, stderr = result.result_logs or (result.stdout, result.stderr)
    for name, text in (("stdout.txt", stdout), ("stderr.txt", stderr)):
        if text:
            target = paths.iexec_out / name
            # The app owns iexec_out: whatever it left under that name (a link to a host file, a
            # folder, a FIFO) is removed, and the file is created without following links.
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
