"""What the standard and the TEE compute share about the app's run: the output folder it starts
with, its stdout/stderr kept in the result, and how its exit reads."""

from __future__ import annotations

import os
import shutil
import signal

from ..runtimes.base import RunResult
from ..workspace import TaskPaths

TIMEOUT_EXIT_CODE = -1  # as the reference reports a killed container


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


def write_app_logs(paths: TaskPaths, result: RunResult) -> None:
    """After a successful run, non-empty stdout/stderr become part of the result (as the reference)."""
    for name, text in (("stdout.txt", result.stdout), ("stderr.txt", result.stderr)):
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
