"""The sandbox runtime with real bubblewrap: what an app can do, and what it cannot (DESIGN §6)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pocopool.worker.logs import get_logger
from pocopool.worker.runtimes import AppRun, Limits, ProcessRuntime, Runtime, SandboxRuntime, select_runtime
from pocopool.worker.runtimes import sandbox as sandbox_module

TASK_A = "0x" + "aa" * 32
TASK_B = "0x" + "bb" * 32

PROBE = r"""
import os, socket, sys
key, other_task, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
for label, path in (("key", key), ("other-task", other_task)):
    try:
        with open(path) as handle:
            print(f"READ {label}: {handle.read()}")
    except OSError as error:
        print(f"REFUSED {label}: {type(error).__name__}: {error}", file=sys.stderr)
try:
    socket.create_connection(("127.0.0.1", port), timeout=3).close()
    print("CONNECTED tcp")
except OSError as error:
    print(f"REFUSED tcp: {type(error).__name__}: {error}", file=sys.stderr)
with open(os.path.join(os.environ["IEXEC_OUT"], "probe.txt"), "w") as handle:
    handle.write("done")
"""

HELLO = r"""
import os, sys
print("hello from", os.getcwd(), "args", sys.argv[1:])
names = sorted(os.listdir(os.environ["IEXEC_IN"]))
with open(os.path.join(os.environ["IEXEC_OUT"], "result.txt"), "w") as handle:
    handle.write("inputs=" + ",".join(names))
print("a warning", file=sys.stderr)
"""


@pytest.fixture(scope="module")
def sandbox() -> SandboxRuntime:
    runtime = SandboxRuntime.for_host()
    if runtime is None:
        pytest.fail("bubblewrap is not installed: run `make system-deps` (scripts/system-deps.sh installs it)")
    return runtime


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A worker work directory with two tasks; task A holds a secret input."""
    root = tmp_path / "workdir"
    for task in (TASK_A, TASK_B):
        (root / task / "input").mkdir(parents=True)
        (root / task / "output" / "iexec_out").mkdir(parents=True)
    (root / TASK_A / "input" / "secret.txt").write_text("task A's private dataset")
    (root / TASK_B / "input" / "data.csv").write_text("1,2,3")
    return root


def bundle(tmp_path: Path, name: str, source: str) -> Path:
    directory = tmp_path / "bundles" / name
    directory.mkdir(parents=True)
    (directory / "main.py").write_text(source)
    directory.chmod(0o755)
    (directory / "main.py").chmod(0o644)
    return directory


def app_run(runtime: Runtime, app_dir: Path, task_dir: Path, *args: str, time_limit: float = 20) -> AppRun:
    iexec_in, iexec_out = runtime.app_paths(task_dir / "input", task_dir / "output" / "iexec_out")
    return AppRun(
        argv=("python3", "main.py", *args),
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "IEXEC_IN": iexec_in, "IEXEC_OUT": iexec_out},
        bundle_dir=app_dir,
        input_dir=task_dir / "input",
        output_dir=task_dir / "output" / "iexec_out",
        limits=Limits(time_limit=time_limit, memory_bytes=1024 * 2**20, processes=64),
    )


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server on the host's 127.0.0.1, accepting anything."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                connection.close()
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


async def test_a_hello_app_reads_its_inputs_and_writes_its_output(
    sandbox: SandboxRuntime, tmp_path: Path, workdir: Path
) -> None:
    result = await sandbox.run(app_run(sandbox, bundle(tmp_path, "hello", HELLO), workdir / TASK_B, "x", "y z"))
    assert result.exit_code == 0, result
    assert result.stdout == "hello from /app args ['x', 'y z']\n"
    assert result.stderr == "a warning\n"
    assert (workdir / TASK_B / "output" / "iexec_out" / "result.txt").read_text() == "inputs=data.csv"


async def test_the_sandbox_refuses_the_key_another_task_and_the_network(
    sandbox: SandboxRuntime, tmp_path: Path, workdir: Path, listener: int
) -> None:
    key = tmp_path / "worker.key"
    key.write_text("0x" + "b2" * 32)
    key.chmod(0o600)
    secret = workdir / TASK_A / "input" / "secret.txt"
    socket.create_connection(("127.0.0.1", listener), timeout=3).close()  # reachable from the host

    result = await sandbox.run(
        app_run(sandbox, bundle(tmp_path, "probe", PROBE), workdir / TASK_B, str(key), str(secret), str(listener))
    )

    assert result.exit_code == 0, result
    assert "READ" not in result.stdout and "CONNECTED" not in result.stdout
    assert f"REFUSED key: FileNotFoundError: [Errno 2] No such file or directory: '{key}'" in result.stderr
    assert f"REFUSED other-task: FileNotFoundError: [Errno 2] No such file or directory: '{secret}'" in result.stderr
    assert "REFUSED tcp: ConnectionRefusedError" in result.stderr or "REFUSED tcp: OSError" in result.stderr
    assert "b2b2" not in result.stdout + result.stderr
    assert (workdir / TASK_B / "output" / "iexec_out" / "probe.txt").read_text() == "done"


async def test_the_time_limit_kills_a_sleeping_app_and_all_its_processes(
    sandbox: SandboxRuntime, tmp_path: Path, workdir: Path
) -> None:
    marker = f"pocopool-sleeper-{os.getpid()}-{time.monotonic_ns()}"
    source = (
        "import subprocess, sys, time\n"
        "subprocess.Popen(['sleep', '301.5'])\n"
        "print('sleeping', flush=True)\n"
        "time.sleep(300)\n"
    )
    started = time.monotonic()
    result = await sandbox.run(
        app_run(sandbox, bundle(tmp_path, "sleeper", source), workdir / TASK_B, marker, time_limit=1)
    )
    assert result.timed_out and result.exit_code is None
    assert result.stdout == "sleeping\n"
    assert time.monotonic() - started < 10
    time.sleep(0.2)
    assert not _processes_with(marker)
    assert not _processes_with("sleep 301.5")


def _processes_with(text: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{pid}: {cmdline}")
    return found


async def test_a_fork_bomb_hits_the_process_limit(sandbox: SandboxRuntime, tmp_path: Path, workdir: Path) -> None:
    if os.geteuid() == 0 and sandbox.drop_to is None:
        pytest.fail("root without setpriv (util-linux): the sandbox cannot drop to an unprivileged uid")
    source = (
        "import os, sys, time\n"
        "children = 0\n"
        "try:\n"
        "    for _ in range(200):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(5); os._exit(0)\n"
        "        children += 1\n"
        "except OSError as error:\n"
        "    print('fork refused after', children, file=sys.stderr)\n"
        "    os._exit(3)\n"
    )
    run = app_run(sandbox, bundle(tmp_path, "bomb", source), workdir / TASK_B, time_limit=10)
    run = AppRun(**{**run.__dict__, "limits": Limits(time_limit=10, memory_bytes=1024 * 2**20, processes=16)})
    result = await sandbox.run(run)
    assert result.exit_code == 3, result
    assert "fork refused after" in result.stderr


async def test_the_process_runtime_runs_the_same_app_with_host_paths(tmp_path: Path, workdir: Path) -> None:
    runtime = ProcessRuntime()
    result = await runtime.run(app_run(runtime, bundle(tmp_path, "hello", HELLO), workdir / TASK_B))
    assert result.exit_code == 0, result
    assert result.stdout.startswith(f"hello from {tmp_path / 'bundles' / 'hello'}")
    assert (workdir / TASK_B / "output" / "iexec_out" / "result.txt").read_text() == "inputs=data.csv"


async def test_the_process_runtime_kills_at_the_time_limit(tmp_path: Path, workdir: Path) -> None:
    runtime = ProcessRuntime()
    result = await runtime.run(
        app_run(
            runtime, bundle(tmp_path, "sleeper", "import time\ntime.sleep(300)\n"), workdir / TASK_B, time_limit=0.5
        )
    )
    assert result.timed_out


async def test_without_bubblewrap_the_worker_warns_once_and_uses_the_process_runtime(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)
    with caplog.at_level("WARNING"):
        runtime = await select_runtime("sandbox", get_logger("test"))
    assert isinstance(runtime, ProcessRuntime)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.getMessage() for r in warnings] == ["sandbox-unavailable-using-process-runtime"]


async def test_with_bubblewrap_the_sandbox_is_selected(sandbox: SandboxRuntime) -> None:
    assert isinstance(await select_runtime("sandbox", get_logger("test")), SandboxRuntime)


async def test_a_further_bind_under_a_private_folder_is_reachable_and_passed_descriptors_are_inherited(
    sandbox: SandboxRuntime, tmp_path: Path
) -> None:
    from pocopool.worker.runtimes import Bind

    private = tmp_path / "private"
    (private / "shared").mkdir(parents=True)
    private.chmod(0o700)  # as /root is: bubblewrap alone would make the parents 0700 inside too
    (private / "shared" / "note.txt").write_text("bound")
    (private / "shared").chmod(0o755)
    (private / "shared" / "note.txt").chmod(0o644)
    for name in ("app", "in", "out"):
        (tmp_path / name).mkdir()
        (tmp_path / name).chmod(0o755)
    read_end, write_end = os.pipe()
    os.write(write_end, b"through the descriptor")
    os.close(write_end)
    target = str(private / "shared")
    script = f"import os; print(open({target + '/note.txt'!r}).read()); print(os.read({read_end}, 100).decode())"
    try:
        result = await sandbox.run(
            AppRun(
                argv=("/usr/bin/python3", "-c", script),
                env={"PATH": "/usr/bin:/bin"},
                bundle_dir=tmp_path / "app",
                input_dir=tmp_path / "in",
                output_dir=tmp_path / "out",
                limits=Limits(time_limit=20, memory_bytes=512 * 2**20, processes=64),
                binds=(Bind(private / "shared", target),),
                pass_fds=(read_end,),
            )
        )
    finally:
        os.close(read_end)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["bound", "through the descriptor"]
    assert sandbox.visible(Bind(private / "shared", "/elsewhere")) == "/elsewhere"
