"""The process runtime: the app as a plain subprocess, for hosts where bubblewrap cannot run.

No isolation beyond a clean environment, its own process group, the time limit, the rlimits and,
where the worker has cgroups, the run's own cgroup (memory and processes of the whole run, even as
root where RLIMIT_NPROC does not apply): the app sees the host file system with the worker's own
rights, and IEXEC_IN / IEXEC_OUT are host paths. Use it only for trusted apps (development, CI
without user namespaces).
"""

from __future__ import annotations

from pathlib import Path

from .base import AppRun, Bind, Execution, RunResult, Runtime, execute, exit_status, limit_prefix
from .cgroups import JOIN_FAILED, CgroupHost
from .guard import Guard


class ProcessRuntime(Runtime):
    name = "process"

    def __init__(self, cgroups: CgroupHost | None = None) -> None:
        self.cgroups = cgroups  # None: no cgroup per run (per-process rlimits only)

    def app_paths(self, input_dir: Path, output_dir: Path) -> tuple[str, str]:
        return str(input_dir), str(output_dir)

    def visible(self, bind: Bind) -> str:
        return str(bind.host)

    async def run(self, app: AppRun) -> RunResult:
        env = {**app.env, "TMPDIR": str(app.tmp_dir)} if app.tmp_dir is not None else app.env
        try:
            async with Guard(app, self.cgroups) as guard:
                prefix, preexec = limit_prefix(app.limits, in_cgroup=guard.cgroup is not None)
                execution = await execute(
                    guard.prefix + prefix + list(app.argv),
                    env=env,
                    cwd=app.bundle_dir,
                    time_limit=app.limits.time_limit,
                    preexec=preexec,
                    pass_fds=app.pass_fds,
                    monitor=guard.watch,
                    on_kill=guard.kill,
                    log_bytes=app.limits.log_bytes,
                )
                result = await guard.judged(
                    execution, self._result(execution, app.argv[0], wrapped=bool(guard.prefix or prefix))
                )
        except OSError as error:  # the run's cgroup could not be made
            return RunResult(None, platform_error=f"cannot set the run's limits: {type(error).__name__}: {error}")
        return result

    @staticmethod
    def _result(execution: Execution, entrypoint: str, wrapped: bool) -> RunResult:
        if execution.spawn_error:
            if wrapped:  # sh or prlimit itself could not start: the platform's problem
                return RunResult(None, platform_error=f"cannot start the app: {execution.spawn_error}")
            # Without a wrapper the entrypoint itself failed to execute: the app's problem.
            return RunResult(127, stderr=f"cannot execute {entrypoint!r}: {execution.spawn_error}")
        if execution.timed_out or execution.stopped:
            return RunResult(
                None,
                execution.timed_out,
                execution.stdout,
                execution.stderr,
                duration=execution.duration,
                result_logs=execution.result_logs,
            )
        assert execution.returncode is not None
        code = exit_status(execution.returncode)
        if code == 125 and JOIN_FAILED in execution.stderr:
            return RunResult(None, platform_error=execution.stderr.strip().splitlines()[-1])
        return RunResult(
            code,
            False,
            execution.stdout,
            execution.stderr,
            duration=execution.duration,
            result_logs=execution.result_logs,
        )
