"""The process runtime: the app as a plain subprocess, for hosts where bubblewrap cannot run.

No isolation beyond a clean environment, its own process group, the time limit and the rlimits:
the app sees the host file system with the worker's own rights, and IEXEC_IN / IEXEC_OUT are host
paths. Use it only for trusted apps (development, CI without user namespaces).
"""

from __future__ import annotations

from pathlib import Path

from .base import AppRun, Bind, RunResult, Runtime, execute, exit_status, limit_prefix


class ProcessRuntime(Runtime):
    name = "process"

    def app_paths(self, input_dir: Path, output_dir: Path) -> tuple[str, str]:
        return str(input_dir), str(output_dir)

    def visible(self, bind: Bind) -> str:
        return str(bind.host)

    async def run(self, app: AppRun) -> RunResult:
        prefix, preexec = limit_prefix(app.limits)
        execution = await execute(
            prefix + list(app.argv), env=app.env, cwd=app.bundle_dir, time_limit=app.limits.time_limit,
            preexec=preexec, pass_fds=app.pass_fds,
        )
        if execution.spawn_error:
            if prefix:  # prlimit itself could not start: the platform's problem
                return RunResult(None, platform_error=f"cannot start the app: {execution.spawn_error}")
            # Without prlimit the entrypoint itself failed to execute: the app's problem.
            return RunResult(127, stderr=f"cannot execute {app.argv[0]!r}: {execution.spawn_error}")
        if execution.timed_out:
            return RunResult(None, True, execution.stdout, execution.stderr, duration=execution.duration)
        assert execution.returncode is not None
        return RunResult(
            exit_status(execution.returncode), False, execution.stdout, execution.stderr,
            duration=execution.duration,
        )
