"""The sandbox runtime: each app runs in its own bubblewrap namespaces (DESIGN §6).

What the app sees:
- `/usr` read-only, and `/bin`, `/lib`, `/lib64`, `/sbin` as on the host (symlinks into /usr on
  Debian); from `/etc` only the few files programs need (alternatives, ssl, ld.so cache, …);
- `/app` = the bundle, read-only, the working directory; `/iexec_in` read-only; `/iexec_out` writable;
- its own `/tmp` (the run's tmp folder on the host, watched like `/iexec_out`, or a fresh tmpfs),
  its own `/proc` and a minimal `/dev`;
- no network (its own empty network namespace) unless the deal asks for it with
  `"pocopool_network": true`;
- no other host path: not /root, /home, /work, the worker's work directory or key file.
It gets a clean environment (PATH and the IEXEC_* variables), dies with the worker, runs in a new
session and in its own cgroup (guard.py: the run's memory and processes), and is killed with its
whole pid namespace at the time limit or at the first limit it reaches.

Where the worker has no cgroups, RLIMIT_AS and RLIMIT_NPROC of each process are all that bounds
memory and processes. When the worker runs as root, RLIMIT_NPROC would not apply (the kernel exempts root), so the app runs
as an unprivileged uid (nobody by default): bubblewrap sets up the mounts as root without a user
namespace, keeps only CAP_SETUID/SETGID/SETPCAP, and setpriv(1) drops to that uid with no
capabilities and no_new_privs before the app starts. As a normal user, bubblewrap runs unprivileged
with `--unshare-all` and the app keeps the worker's uid.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .base import (
    AppRun,
    Bind,
    Execution,
    Limits,
    RunResult,
    Runtime,
    StatusPipe,
    execute,
    exit_status,
    limit_prefix,
)
from .cgroups import CgroupHost
from .guard import Guard

SANDBOX_IN = "/iexec_in"
SANDBOX_OUT = "/iexec_out"
SANDBOX_APP = "/app"
_TOP_LEVEL_LINKS = ("bin", "lib", "lib32", "lib64", "libx32", "sbin")
_ETC = (
    "/etc/alternatives",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
)
_ETC_NETWORK = ("/etc/resolv.conf", "/etc/hosts", "/etc/gai.conf", "/etc/host.conf", "/etc/services", "/etc/protocols")


class SandboxRuntime(Runtime):
    name = "sandbox"

    def __init__(
        self,
        bwrap: str,
        *,
        drop_to: tuple[int, int] | None = None,
        setpriv: str | None = None,
        cgroups: CgroupHost | None = None,
    ) -> None:
        self.bwrap = bwrap
        self.drop_to = drop_to if setpriv else None
        self.setpriv = setpriv
        self.cgroups = cgroups  # None: no cgroup per run (per-process rlimits only)

    @classmethod
    def for_host(cls, uid: int = 65534, gid: int = 65534, cgroups: CgroupHost | None = None) -> SandboxRuntime | None:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            return None
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            return cls(bwrap, drop_to=(uid, gid) if setpriv else None, setpriv=setpriv, cgroups=cgroups)
        return cls(bwrap, cgroups=cgroups)

    def app_paths(self, input_dir: Path, output_dir: Path) -> tuple[str, str]:
        return SANDBOX_IN, SANDBOX_OUT

    def visible(self, bind: Bind) -> str:
        return bind.target

    def command(self, app: AppRun, status_fd: int) -> list[str]:
        args = [self.bwrap]
        if self.drop_to is not None:
            args += ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
            if not app.network:
                args.append("--unshare-net")
            args += ["--cap-drop", "ALL"]
            for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"):
                args += ["--cap-add", cap]
        else:
            args.append("--unshare-all")
            if app.network:
                args.append("--share-net")
        args += ["--die-with-parent", "--new-session", "--clearenv"]
        for key, value in app.env.items():
            args += ["--setenv", key, value]
        args += ["--ro-bind", "/usr", "/usr"]
        for name in _TOP_LEVEL_LINKS:
            host = Path("/") / name
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                args += ["--ro-bind", str(host), str(host)]
        for path in _ETC + (_ETC_NETWORK if app.network else ()):
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        args += ["--proc", "/proc", "--dev", "/dev"]
        if app.tmp_dir is not None:
            args += ["--bind", str(app.tmp_dir), "/tmp"]
        else:
            args += [
                "--perms",
                "1777",
                "--size",
                str(min(app.limits.tmp_bytes, app.limits.memory_bytes)),
                "--tmpfs",
                "/tmp",
            ]
        args += ["--ro-bind", str(app.bundle_dir), SANDBOX_APP]
        args += ["--bind" if app.writable_input else "--ro-bind", str(app.input_dir), SANDBOX_IN]
        args += ["--bind", str(app.output_dir), SANDBOX_OUT]
        made: set[Path] = {Path("/"), Path("/usr"), Path("/tmp"), Path("/proc"), Path("/dev")}
        for bind in app.binds:
            # bubblewrap makes missing parents 0700: a program run as nobody could not reach the bind.
            for parent in reversed(Path(bind.target).parents):
                if parent not in made:
                    made.add(parent)
                    args += ["--perms", "0755", "--dir", str(parent)]
            args += ["--bind" if bind.writable else "--ro-bind", str(bind.host), bind.target]
            made.add(Path(bind.target))
        args += ["--chdir", SANDBOX_APP, "--json-status-fd", str(status_fd)]
        if self.drop_to is not None and self.setpriv is not None:
            uid, gid = self.drop_to
            args += [
                self.setpriv,
                f"--reuid={uid}",
                f"--regid={gid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]
        return args + list(app.argv)

    async def run(self, app: AppRun) -> RunResult:
        if app.argv and app.argv[0].startswith("-"):
            return RunResult(exit_code=127, stderr=f"invalid entrypoint {app.argv[0]!r}")
        if self.drop_to is not None:
            for folder in (
                app.output_dir,
                *(b.host for b in app.binds if b.writable),
                *((app.input_dir,) if app.writable_input else ()),
                *filter(None, (app.tmp_dir,)),
            ):
                os.chown(folder, *self.drop_to)
        try:
            async with Guard(app, self.cgroups) as guard:
                prefix, preexec = limit_prefix(app.limits, in_cgroup=guard.cgroup is not None)
                with StatusPipe() as status:
                    command = guard.prefix + prefix + self.command(app, status.write_fd)
                    execution = await execute(
                        command,
                        env={"PATH": "/usr/bin:/bin"},
                        cwd="/",
                        time_limit=app.limits.time_limit,
                        pass_fds=(status.write_fd, *app.pass_fds),
                        preexec=preexec,
                        on_spawn=status.close_writer,
                        monitor=guard.watch,
                        on_kill=guard.kill,
                        log_bytes=app.limits.log_bytes,
                    )
                    documents = status.collect()
                result = await guard.judged(execution, self._result(execution, documents))
        except OSError as error:  # the run's cgroup could not be made
            return RunResult(None, platform_error=f"cannot set the run's limits: {type(error).__name__}: {error}")
        return result

    def _result(self, execution: Execution, documents: list[dict]) -> RunResult:
        if execution.spawn_error:
            return RunResult(None, platform_error=f"cannot start bubblewrap: {execution.spawn_error}")
        if execution.timed_out or execution.stopped:
            return RunResult(
                None,
                execution.timed_out,
                execution.stdout,
                execution.stderr,
                duration=execution.duration,
                result_logs=execution.result_logs,
            )
        exit_codes = [doc["exit-code"] for doc in documents if isinstance(doc.get("exit-code"), int)]
        started = any("child-pid" in doc for doc in documents)
        if exit_codes:
            return RunResult(
                exit_codes[-1],
                False,
                execution.stdout,
                execution.stderr,
                duration=execution.duration,
                result_logs=execution.result_logs,
            )
        if started and "bwrap: execvp" in execution.stderr:
            # The sandbox was fine; the bundle's entrypoint could not be executed: the app's error.
            return RunResult(
                127,
                False,
                execution.stdout,
                execution.stderr,
                duration=execution.duration,
                result_logs=execution.result_logs,
            )
        code = exit_status(execution.returncode) if execution.returncode is not None else None
        detail = execution.stderr.strip().splitlines()[-3:]
        return RunResult(
            None,
            False,
            execution.stdout,
            execution.stderr,
            platform_error=f"bubblewrap failed (exit {code}): {' | '.join(detail) or 'no message'}",
            duration=execution.duration,
            result_logs=execution.result_logs,
        )

    async def probe(self) -> str | None:
        """None if an app can run here; else why not (no user namespaces, no bwrap, …)."""
        with tempfile.TemporaryDirectory(prefix="pocopool-sandbox-probe-") as scratch:
            root = Path(scratch)
            for name in ("app", "in", "out"):
                (root / name).mkdir()
                (root / name).chmod(0o755)
            try:
                result = await self.run(
                    AppRun(
                        argv=("/bin/sh", "-c", "test -d /iexec_in && touch /iexec_out/ok"),
                        env={"PATH": "/usr/bin:/bin"},
                        bundle_dir=root / "app",
                        input_dir=root / "in",
                        output_dir=root / "out",
                        limits=Limits(time_limit=20, memory_bytes=512 * 2**20, processes=64),
                    )
                )
            except OSError as error:
                return f"{type(error).__name__}: {error}"
            if result.platform_error:
                return result.platform_error
            if result.exit_code != 0 or not (root / "out" / "ok").exists():
                return f"probe app failed (exit {result.exit_code}): {result.stderr.strip()[-300:]}"
        return None
