"""The limits of one app run, applied and watched, the same way for every runtime.

`Guard` puts the run in its cgroup (when the worker has cgroups), prepares the rlimits, watches the
run while it runs and says afterwards which limit ended it, if any:
- memory and processes: the run's cgroup counts every process it forks; the first OOM kill or
  refused fork stops the whole run (memory.oom_control / memory.events, pids.events);
- IEXEC_OUT and /tmp: host folders whose size (blocks really used) and number of entries are
  measured ten times a second; the run is stopped once a folder reaches its limit, and RLIMIT_FSIZE
  keeps any single file within it, so a fast writer overshoots by at most what it writes between
  two looks at other files;
- CPU time: RLIMIT_CPU of each process; a process at the limit gets SIGXCPU (exit 152).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import replace
from pathlib import Path

from .base import AppRun, Execution, LimitExceeded, LimitKind, Limits, RunResult
from .cgroups import CgroupHost, RunCgroup

WATCH_PERIOD = 0.1  # s between two looks at a running app
MAX_ENTRIES = 100_000  # files and folders a watched folder may hold (each costs an inode and a look)
SIGXCPU_EXIT = 128 + signal.SIGXCPU


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def folder_usage(root: Path) -> tuple[int, int]:
    """(bytes on disk, entries) under `root`, links not followed."""
    size = entries = 0
    stack = [root]
    while stack and entries <= MAX_ENTRIES:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as listing:
            for entry in listing:
                entries += 1
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    size += info.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
    return size, entries


class Guard:
    def __init__(self, app: AppRun, cgroups: CgroupHost | None) -> None:
        self.limits: Limits = app.limits
        self.cgroup: RunCgroup | None = None
        self.cgroups = cgroups
        self.folders: list[tuple[LimitKind, str, Path, int]] = []
        if app.limits.output_bytes:
            self.folders.append((LimitKind.OUTPUT, "IEXEC_OUT", app.output_dir, app.limits.output_bytes))
        if app.tmp_dir is not None:
            self.folders.append((LimitKind.TMP, "/tmp", app.tmp_dir, app.limits.tmp_bytes))
        self.exceeded: LimitExceeded | None = None

    async def __aenter__(self) -> Guard:
        if self.cgroups is not None:
            self.cgroup = await asyncio.to_thread(self.cgroups.create, self.limits.memory_bytes, self.limits.processes)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.cgroup is not None:
            await self.cgroup.remove()

    def kill(self) -> None:
        """Kill every process of the run, wherever it went (no-op without a cgroup)."""
        if self.cgroup is not None:
            self.cgroup.kill()

    @property
    def prefix(self) -> list[str]:
        """What goes in front of the runtime's command: join the run's cgroup."""
        return self.cgroup.join_prefix() if self.cgroup is not None else []

    def _look(self, final: bool) -> LimitExceeded | None:
        if self.cgroup is not None:
            usage = self.cgroup.usage()
            if usage.memory_limit_hit:
                return LimitExceeded(
                    LimitKind.MEMORY,
                    f"a process of the run was killed at the run's memory limit of {mib(self.limits.memory_bytes)}",
                )
            if usage.process_limit_hit:
                return LimitExceeded(
                    LimitKind.PROCESSES, f"a fork was refused at the run's limit of {self.limits.processes} processes"
                )
        for kind, name, folder, limit in self.folders:
            size, entries = folder_usage(folder)
            if size >= limit or entries > MAX_ENTRIES:
                seen = (
                    f"{entries} entries (at most {MAX_ENTRIES})"
                    if entries > MAX_ENTRIES
                    else f"{mib(size)} (limit {mib(limit)})"
                )
                return LimitExceeded(kind, f"{name} {'held' if final else 'reached'} {seen}")
        return None

    async def watch(self) -> LimitExceeded:
        """Returns (and kills the cgroup's processes) once a limit is reached; runs until cancelled else."""
        while True:
            await asyncio.sleep(WATCH_PERIOD)
            found = await asyncio.to_thread(self._look, False)
            if found is not None:
                self.exceeded = found
                if self.cgroup is not None:
                    self.cgroup.kill()
                return found

    async def verdict(self, execution: Execution, exit_code: int | None) -> LimitExceeded | None:
        """After the run: the limit that ended it, if any (a limit found while it ran comes first)."""
        if self.exceeded is not None:
            return self.exceeded
        found = await asyncio.to_thread(self._look, True)
        if found is not None:
            return found
        if self.limits.cpu_seconds and exit_code == SIGXCPU_EXIT:
            return LimitExceeded(LimitKind.CPU_TIME, f"a process used its {self.limits.cpu_seconds} s of CPU time")
        return None

    async def judged(self, execution: Execution, result: RunResult) -> RunResult:
        """The run's result, told as the limit that ended it when one did (a limit reached explains
        a broken sandbox or a killed app too); unchanged when the run never started."""
        if execution.spawn_error:
            return result
        exceeded = await self.verdict(execution, result.exit_code)
        if exceeded is None:
            return result
        return replace(result, limit_exceeded=exceeded, timed_out=False, platform_error=None)
