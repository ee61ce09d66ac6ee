"""One cgroup per app run: the whole run's memory and number of processes, whatever the app forks.

Each run gets a CHILD of the worker's own cgroup (read from /proc/self/cgroup), never a cgroup
elsewhere, so whatever bounds the worker also bounds its apps:
- cgroup v1 (memory and pids hierarchies mounted apart): `<memory mount>/<own memory path>/<run>`
  and `<pids mount>/<own pids path>/<run>`; limits in memory.limit_in_bytes (and memsw where it
  exists) and pids.max; a limit reached shows as `oom_kill N` in memory.oom_control and `max N` in
  pids.events;
- cgroup v2 (one unified hierarchy): `<mount>/<own path>/<run>` with memory.max, memory.swap.max and
  pids.max; reached limits show in memory.events (`oom_kill`) and pids.events (`max`). v2 lets a
  cgroup hand its controllers to children only when it holds no process itself (a delegated
  cgroup, e.g. systemd `Delegate=yes`): where the worker's own cgroup cannot, cgroups are reported
  unavailable rather than the worker moving itself.

The app joins its cgroup before anything of it runs: a tiny `sh` writes its own pid to the run's
cgroup.procs files and then `exec`s the runtime's command, so every process of the run is born
inside. At the end every process left in the cgroup is killed and the cgroup removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path

JOIN_FAILED = "pocopool: cannot join the run's cgroup"
_JOIN = (
    'for f in "$@"; do [ "$f" = -- ] && break; echo $$ >"$f" || { echo "%s: $f" >&2; exit 125; }; shift; done; '
    'shift; exec "$@"'
)
_REMOVE_TIMEOUT = 10.0  # s to wait for the killed processes of a run to leave its cgroup


@dataclass(frozen=True)
class Usage:
    """What a run's cgroup saw: whether a limit was reached, and the peak use where known."""

    memory_limit_hit: bool
    process_limit_hit: bool
    memory_peak: int | None = None
    processes_peak: int | None = None


class RunCgroup:
    """The cgroup(s) of one run: limits set, joined by the run's first process, removed at the end."""

    def __init__(self, version: int, memory_dir: Path, pids_dir: Path) -> None:
        self.version = version
        self.memory_dir = memory_dir
        self.pids_dir = pids_dir

    @property
    def dirs(self) -> tuple[Path, ...]:
        return (self.memory_dir,) if self.memory_dir == self.pids_dir else (self.memory_dir, self.pids_dir)

    def join_prefix(self) -> list[str]:
        """Put in front of a command: the command runs in this cgroup, or exits 125 saying why not."""
        return [
            "/bin/sh",
            "-c",
            _JOIN % JOIN_FAILED,
            "pocopool-join",
            *(str(d / "cgroup.procs") for d in self.dirs),
            "--",
        ]

    def settings(self) -> dict[str, str]:
        """The limits as the kernel holds them (file name → content), to show they are set."""
        names = (
            (("memory.limit_in_bytes", self.memory_dir), ("pids.max", self.pids_dir))
            if self.version == 1
            else (("memory.max", self.memory_dir), ("pids.max", self.pids_dir))
        )
        return {name: (folder / name).read_text().strip() for name, folder in names}

    def usage(self) -> Usage:
        if self.version == 1:
            memory_hit = _field(self.memory_dir / "memory.oom_control", "oom_kill") > 0
            memory_peak = _int(self.memory_dir / "memory.max_usage_in_bytes")
        else:
            memory_hit = _field(self.memory_dir / "memory.events", "oom_kill") > 0
            memory_peak = _int(self.memory_dir / "memory.peak")
        return Usage(
            memory_limit_hit=memory_hit,
            process_limit_hit=_field(self.pids_dir / "pids.events", "max") > 0,
            memory_peak=memory_peak,
            processes_peak=_int(self.pids_dir / "pids.peak"),
        )

    def processes(self) -> list[int]:
        pids: set[int] = set()
        for folder in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
        return sorted(pids)

    def kill(self) -> None:
        """SIGKILL every process of the run (those that left its process group or session too)."""
        if self.version == 2:
            with contextlib.suppress(OSError):
                (self.memory_dir / "cgroup.kill").write_text("1")
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    async def remove(self) -> None:
        """Kill what is left and remove the cgroup; waits until the kernel let its processes go."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _REMOVE_TIMEOUT
        while True:
            self.kill()
            for folder in self.dirs:
                with contextlib.suppress(FileNotFoundError):
                    with contextlib.suppress(OSError):
                        folder.rmdir()
            if not any(folder.exists() for folder in self.dirs) or loop.time() > deadline:
                return
            await asyncio.sleep(0.02)  # the kernel frees the killed processes' cgroup asynchronously


class CgroupHost:
    """Where the worker may create its runs' cgroups. `detect()` says whether it can, or why not."""

    def __init__(self, version: int, memory_parent: Path, pids_parent: Path, label: str = "worker") -> None:
        self.version = version
        self.memory_parent = memory_parent
        self.pids_parent = pids_parent
        self.label = "".join(c if c.isalnum() or c in "-_" else "-" for c in label) or "worker"
        self._runs = itertools.count(1)

    def __repr__(self) -> str:
        return f"CgroupHost(v{self.version}, memory={self.memory_parent}, pids={self.pids_parent})"

    @classmethod
    def detect(
        cls,
        label: str = "worker",
        proc_cgroup: Path = Path("/proc/self/cgroup"),
        mountinfo: Path = Path("/proc/self/mountinfo"),
    ) -> CgroupHost | str:
        """The worker's place in the cgroup tree, or why the memory and pids controllers cannot be used."""
        try:
            own = _own_paths(proc_cgroup.read_text())
            mounts = _mounts(mountinfo.read_text())
        except OSError as error:
            return f"cannot read the worker's cgroup: {error}"
        if "memory" in own and "pids" in own and "memory" in mounts and "pids" in mounts:
            host = cls(1, _under(mounts["memory"], own["memory"]), _under(mounts["pids"], own["pids"]), label)
        elif "" in own and "cgroup2" in mounts:
            parent = _under(mounts["cgroup2"], own[""])
            problem = _delegate_v2(parent)
            if problem:
                return problem
            host = cls(2, parent, parent, label)
        else:
            return "neither the v1 memory and pids controllers nor a cgroup v2 hierarchy are mounted"
        return host.check()

    def check(self) -> CgroupHost | str:
        """Self if a run's cgroup can be created, limited and removed here; else why not."""
        try:
            run = self.create(64 * 2**20, 16)
        except OSError as error:
            return f"cannot create a cgroup under {self.memory_parent}: {error}"
        try:
            run.settings()
        except OSError as error:
            return f"cannot read a run cgroup's limits: {error}"
        finally:
            for folder in run.dirs:
                with contextlib.suppress(OSError):
                    folder.rmdir()
        return self

    def create(self, memory_bytes: int, processes: int) -> RunCgroup:
        name = f"pocopool-{self.label}-{os.getpid()}-{next(self._runs)}-{uuid.uuid4().hex[:6]}"
        run = RunCgroup(self.version, self.memory_parent / name, self.pids_parent / name)
        made: list[Path] = []
        try:
            for folder in run.dirs:
                folder.mkdir()
                made.append(folder)
            if self.version == 1:
                (run.memory_dir / "memory.limit_in_bytes").write_text(str(memory_bytes))
                with contextlib.suppress(OSError):  # only where swap accounting is on
                    (run.memory_dir / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
            else:
                (run.memory_dir / "memory.max").write_text(str(memory_bytes))
                with contextlib.suppress(OSError):
                    (run.memory_dir / "memory.swap.max").write_text("0")
            (run.pids_dir / "pids.max").write_text(str(processes))
        except OSError:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        return run


def _own_paths(text: str) -> dict[str, str]:
    """controller → the worker's path in its hierarchy ("" for the v2 unified hierarchy)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                found[controller] = parts[2]
    return found


def _mounts(text: str) -> dict[str, tuple[str, str]]:
    """controller (or "cgroup2") → (mount point, root of the hierarchy seen there)."""
    found: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, point = fields[3], fields[4].replace("\\040", " ")
        if tail[0] == "cgroup2":
            found.setdefault("cgroup2", (point, root))
        elif tail[0] == "cgroup":
            for option in tail[2].split(","):
                if option in ("memory", "pids"):
                    found.setdefault(option, (point, root))
    return found


def _under(mount: tuple[str, str], own: str) -> Path:
    """The worker's own cgroup folder: its path relative to the root the mount shows."""
    point, root = mount
    relative = os.path.relpath(own, root) if own.startswith(root) else own.lstrip("/")
    return Path(point) if relative in (".", "") else Path(point) / relative


def _delegate_v2(parent: Path) -> str | None:
    try:
        available = (parent / "cgroup.controllers").read_text().split()
    except OSError as error:
        return f"cannot read {parent / 'cgroup.controllers'}: {error}"
    missing = [c for c in ("memory", "pids") if c not in available]
    if missing:
        return f"the worker's cgroup {parent} has no {' and '.join(missing)} controller (not delegated to it)"
    try:
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        if not {"memory", "pids"} <= set(enabled):
            (parent / "cgroup.subtree_control").write_text("+memory +pids")
    except OSError as error:
        return (
            f"cannot enable memory and pids for the children of {parent} ({error}); run the worker in a "
            "delegated cgroup of its own with no other process (e.g. systemd Delegate=yes)"
        )
    return None


def _field(path: Path, key: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    return 0


def _int(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip())
    return None
