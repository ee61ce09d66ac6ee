"""Where apps run: `sandbox` (bubblewrap) or `process` (plain subprocess fallback)."""

from __future__ import annotations

from ..logs import EventLogger
from .base import AppRun, Bind, LimitExceeded, LimitKind, Limits, RunResult, Runtime
from .cgroups import CgroupHost
from .process import ProcessRuntime
from .sandbox import SandboxRuntime

__all__ = [
    "AppRun",
    "Bind",
    "CgroupHost",
    "LimitExceeded",
    "LimitKind",
    "Limits",
    "ProcessRuntime",
    "RunResult",
    "Runtime",
    "SandboxRuntime",
    "select_cgroups",
    "select_runtime",
]

WITHOUT_CGROUPS = (
    "the total memory and the number of processes of an app run are not bounded: each process "
    "only gets RLIMIT_AS, and RLIMIT_NPROC (counted per uid, not applied to root), so a run that "
    "forks can use many times --app-memory-mb and starve the other runs of the host"
)


def select_cgroups(log: EventLogger, label: str = "worker") -> CgroupHost | None:
    """The worker's cgroups for its runs, or None after ONE warning saying what isolation is lost."""
    found = CgroupHost.detect(label)
    if isinstance(found, str):
        log.warning("app-limits-without-cgroups", reason=found, consequence=WITHOUT_CGROUPS)
        return None
    log.info(
        "app-limits-with-cgroups", version=found.version, memory=str(found.memory_parent), pids=str(found.pids_parent)
    )
    return found


async def select_runtime(
    wanted: str, log: EventLogger, uid: int = 65534, gid: int = 65534, cgroups: CgroupHost | None = None
) -> Runtime:
    """The runtime asked for; `sandbox` falls back to `process` with ONE warning if it cannot work here."""
    if wanted == "process":
        log.info("runtime-selected", runtime="process")
        return ProcessRuntime(cgroups)
    sandbox = SandboxRuntime.for_host(uid, gid, cgroups)
    problem = "bubblewrap (bwrap) is not installed" if sandbox is None else await sandbox.probe()
    if sandbox is None or problem is not None:
        log.warning(
            "sandbox-unavailable-using-process-runtime",
            reason=problem,
            consequence="apps run as plain processes without namespace isolation",
        )
        return ProcessRuntime(cgroups)
    log.info(
        "runtime-selected",
        runtime="sandbox",
        bwrap=sandbox.bwrap,
        app_uid=sandbox.drop_to[0] if sandbox.drop_to else "worker's own",
    )
    return sandbox
