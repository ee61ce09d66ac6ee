"""Where apps run: `sandbox` (bubblewrap) or `process` (plain subprocess fallback)."""

from __future__ import annotations

from ..logs import EventLogger
from .base import AppRun, Bind, Limits, RunResult, Runtime
from .process import ProcessRuntime
from .sandbox import SandboxRuntime

__all__ = ["AppRun", "Bind", "Limits", "ProcessRuntime", "RunResult", "Runtime", "SandboxRuntime", "select_runtime"]


async def select_runtime(wanted: str, log: EventLogger, uid: int = 65534, gid: int = 65534) -> Runtime:
    """The runtime asked for; `sandbox` falls back to `process` with ONE warning if it cannot work here."""
    if wanted == "process":
        log.info("runtime-selected", runtime="process")
        return ProcessRuntime()
    sandbox = SandboxRuntime.for_host(uid, gid)
    problem = "bubblewrap (bwrap) is not installed" if sandbox is None else await sandbox.probe()
    if sandbox is None or problem is not None:
        log.warning(
            "sandbox-unavailable-using-process-runtime", reason=problem,
            consequence="apps run as plain processes without namespace isolation",
        )
        return ProcessRuntime()
    log.info(
        "runtime-selected", runtime="sandbox", bwrap=sandbox.bwrap,
        app_uid=sandbox.drop_to[0] if sandbox.drop_to else "worker's own",
    )
    return sandbox
