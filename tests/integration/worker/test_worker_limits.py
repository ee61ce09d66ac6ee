"""The limits of an app run, on this host's real cgroups and real bubblewrap (no skip: a host without
them fails here, because the e2e attack suite relies on what these tests show).

Every app below is harmless: it goes just past a tiny limit (64 MiB, 16 processes, 8 MiB) and stops
by itself shortly after, so a limit that does not hold shows as a failed assertion, not a loaded host.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import pytest

from pocopool.worker.config import WorkerConfig
from pocopool.worker.logs import get_logger
from pocopool.worker.runtimes import (
    AppRun,
    CgroupHost,
    LimitKind,
    Limits,
    ProcessRuntime,
    Runtime,
    SandboxRuntime,
    select_cgroups,
)
from pocopool.worker.stages.app_output import describe_limit

MiB = 2**20
TINY = Limits(
    time_limit=30, memory_bytes=64 * MiB, processes=16, cpu_seconds=1, output_bytes=8 * MiB, tmp_bytes=8 * MiB
)

MEMORY = "chunks = []\nfor _ in range(12):\n    chunks.append(b'x' * (16 * 2**20))\nprint('survived')\n"
FORKS = (
    "import os, sys, time\n"
    "for n in range(40):\n"
    "    try:\n"
    "        if os.fork() == 0:\n"
    "            time.sleep(20); os._exit(0)\n"
    "    except OSError as error:\n"
    "        print('fork refused after', n, error, file=sys.stderr); time.sleep(20); sys.exit(3)\n"
    "time.sleep(20)\n"
)
OUTPUT = (
    "import os, time\n"
    "with open(os.path.join(os.environ['IEXEC_OUT'], 'big.bin'), 'wb') as sink:\n"
    "    for _ in range(20):\n"
    "        sink.write(b'x' * 2**20); sink.flush()\n"
    "time.sleep(20)\n"
)
OUTPUT_FILES = (
    "import os\n"
    "for n in range(4):\n"
    "    with open(os.path.join(os.environ['IEXEC_OUT'], f'part{n}.bin'), 'wb') as sink:\n"
    "        sink.write(b'x' * 3 * 2**20)\n"
)
TMP = (
    "import os, tempfile, time\n"
    "with open(os.path.join(tempfile.gettempdir(), 'scratch.bin'), 'wb') as sink:\n"
    "    for _ in range(20):\n"
    "        sink.write(b'x' * 2**20); sink.flush()\n"
    "time.sleep(20)\n"
)
CPU = "while True:\n    pass\n"
ESCAPE = (  # a child leaves the app's session and process group, then the app exits at once
    "import os\nif os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '61.2345'])\n"
)


@pytest.fixture(scope="module")
def cgroups() -> CgroupHost:
    found = CgroupHost.detect(f"test-{uuid.uuid4().hex[:6]}")
    assert isinstance(found, CgroupHost), f"cgroups unavailable here: {found}"
    return found


@pytest.fixture(scope="module")
def sandbox(cgroups: CgroupHost) -> SandboxRuntime:
    runtime = SandboxRuntime.for_host(cgroups=cgroups)
    assert runtime is not None, "bubblewrap is not installed"
    return runtime


@pytest.fixture(params=["sandbox", "process"])
def runtime(request: pytest.FixtureRequest, sandbox: SandboxRuntime, cgroups: CgroupHost) -> Runtime:
    return sandbox if request.param == "sandbox" else ProcessRuntime(cgroups)


def run_of(runtime: Runtime, tmp_path: Path, source: str, limits: Limits = TINY, tmp: bool = True) -> AppRun:
    app, task = tmp_path / "app", tmp_path / "task"
    for folder in (app, task / "input", task / "output" / "iexec_out", task / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o1777 if folder.name == "tmp" else 0o755)
    (app / "main.py").write_text(source)
    (app / "main.py").chmod(0o644)
    iexec_in, iexec_out = runtime.app_paths(task / "input", task / "output" / "iexec_out")
    return AppRun(
        argv=("python3", "main.py"),
        env={"PATH": "/usr/bin:/bin", "IEXEC_IN": iexec_in, "IEXEC_OUT": iexec_out},
        bundle_dir=app,
        input_dir=task / "input",
        output_dir=task / "output" / "iexec_out",
        limits=limits,
        tmp_dir=task / "tmp" if tmp else None,
    )


def leftovers(cgroups: CgroupHost) -> list[Path]:
    prefix = f"pocopool-{cgroups.label}-"
    return [
        p
        for parent in {cgroups.memory_parent, cgroups.pids_parent}
        for p in parent.iterdir()
        if p.name.startswith(prefix)
    ]


@pytest.mark.parametrize(
    ("source", "kind", "detail"),
    [
        (MEMORY, LimitKind.MEMORY, "memory limit of 64.0 MiB"),
        (FORKS, LimitKind.PROCESSES, "limit of 16 processes"),
        (OUTPUT, LimitKind.OUTPUT, "IEXEC_OUT"),
        (OUTPUT_FILES, LimitKind.OUTPUT, "IEXEC_OUT"),
        (TMP, LimitKind.TMP, "/tmp"),
        (CPU, LimitKind.CPU_TIME, "1 s of CPU time"),
    ],
    ids=["memory", "processes", "output", "output-in-many-files", "tmp", "cpu-time"],
)
async def test_each_limit_ends_the_run_with_its_own_kind(
    runtime: Runtime, cgroups: CgroupHost, tmp_path: Path, source: str, kind: LimitKind, detail: str
) -> None:
    result = await runtime.run(run_of(runtime, tmp_path, source))
    assert result.limit_exceeded is not None, result
    assert result.limit_exceeded.kind is kind, result.limit_exceeded
    assert detail in result.limit_exceeded.detail
    assert result.platform_error is None and not result.timed_out and not result.succeeded
    assert result.duration < 15, "the run is stopped at the limit, not left to its own end"
    assert "survived" not in result.stdout
    assert leftovers(cgroups) == [], "the run's cgroup is removed after the run"


async def test_a_run_within_its_limits_succeeds(runtime: Runtime, tmp_path: Path) -> None:
    source = "import os\nopen(os.path.join(os.environ['IEXEC_OUT'], 'r.txt'), 'w').write('fine')\nprint('x' * 10)\n"
    result = await runtime.run(run_of(runtime, tmp_path, source))
    assert result.succeeded, result
    assert result.limit_exceeded is None


async def test_the_run_cgroup_holds_the_limits_while_the_app_runs(
    sandbox: SandboxRuntime, cgroups: CgroupHost, tmp_path: Path
) -> None:
    app = run_of(
        sandbox, tmp_path, "import os, time\nwhile not os.path.exists('/iexec_in/stop'):\n    time.sleep(0.05)\n"
    )
    running = asyncio.create_task(sandbox.run(app))
    try:
        async with asyncio.timeout(20):
            while not leftovers(cgroups):
                await asyncio.sleep(0.05)
        found = leftovers(cgroups)
        memory = next(p for p in found if p.parent == cgroups.memory_parent)
        pids = next(p for p in found if p.parent == cgroups.pids_parent)
        assert str(memory).startswith(str(cgroups.memory_parent) + "/pocopool-")  # a child of the worker's own
        assert (memory / "memory.limit_in_bytes").read_text().strip() == str(64 * MiB)
        assert (pids / "pids.max").read_text().strip() == "16"
        async with asyncio.timeout(20):
            while not (pids / "cgroup.procs").read_text().split():
                await asyncio.sleep(0.05)
    finally:
        (app.input_dir / "stop").write_text("")
        result = await running
    assert result.succeeded, result
    assert leftovers(cgroups) == []


async def test_a_process_that_left_the_session_is_killed_with_the_run(cgroups: CgroupHost, tmp_path: Path) -> None:
    runtime = ProcessRuntime(cgroups)
    result = await runtime.run(run_of(runtime, tmp_path, ESCAPE))
    assert result.exit_code == 0, result
    assert leftovers(cgroups) == [], "the escaped sleeper was killed and the cgroup removed"
    assert [pid for pid in os.listdir("/proc") if pid.isdigit() and _cmdline(pid) == "sleep 61.2345"] == []


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


async def test_without_cgroups_the_worker_says_once_what_is_lost(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(CgroupHost, "detect", classmethod(lambda cls, label="worker": "no cgroup here"))
    with caplog.at_level("WARNING"):
        assert select_cgroups(get_logger("test")) is None
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.getMessage() for r in warnings] == ["app-limits-without-cgroups"]
    assert "RLIMIT_NPROC" in str(warnings[0].__dict__) and "no cgroup here" in str(warnings[0].__dict__)


async def test_without_cgroups_the_per_process_rlimits_still_apply(tmp_path: Path) -> None:
    runtime = ProcessRuntime(None)
    result = await runtime.run(
        run_of(runtime, tmp_path, MEMORY, Limits(time_limit=20, memory_bytes=64 * MiB, processes=16))
    )
    assert result.exit_code == 1 and "MemoryError" in result.stderr, result


def test_the_message_names_the_limit_and_the_worker_option(tmp_path: Path) -> None:
    from pocopool.worker.runtimes import LimitExceeded

    config = WorkerConfig(scheduler_url="http://x", workdir=tmp_path, private_key="0x" + "11" * 32, app_memory_mb=256)
    message = describe_limit(LimitExceeded(LimitKind.MEMORY, "a process was killed"), config)
    assert "256 MiB" in message and "--app-memory-mb" in message


def test_the_host_tools_the_limits_need_are_here() -> None:
    assert shutil.which("bwrap") and shutil.which("prlimit") and shutil.which("setpriv")
