"""Hostile apps on the real sandbox of a devnet worker: each is contained, ends with its own cause and
a clear diagnosis, leaks nothing, and the worker then completes a normal task.

The worker runs with limits far below what each hostile app bounds itself to (ATTACK_BOUNDS vs
LIMITS). SAFETY: the bombs are submitted only after a harmless probe showed, on this host's
cgroups and bubblewrap, that a run's cgroup gets its limits and that a run going just past a tiny
limit is stopped; if the probe fails, every bomb test FAILS and no bomb ever runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from devnet_harness import Devnet, is_final, run_cli, until
from pocopool.worker.runtimes import AppRun, CgroupHost, LimitKind, Limits, SandboxRuntime
from proving import assert_reported, assert_task_reached, replicate_reports

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ATTACK = REPO / "tests" / "e2e" / "apps" / "attack"
MISBEHAVE = REPO / "tests" / "e2e" / "apps" / "misbehave"
MiB = 2**20
# What the devnet's worker allows each app run (devnet --app-limit) ...
LIMITS = {"memory-mb": 256, "max-processes": 64, "output-mb": 100, "tmp-mb": 64, "cpu-seconds": 2}
# ... and where each hostile app stops by itself, far below the machine.
ATTACK_BOUNDS = {"fork-bomb": 2000, "memory-bomb-mb": 4096, "disk-filler-mb": 2048, "loop-seconds": 120}
MAX_TIME = 20  # s, the category's time limit: above the CPU limit, so the loop meets the CPU limit first
CANARY = f"pocopool-canary-{uuid.uuid4().hex}"  # in the worker's environment, never in an app's
OTHER_TASK_SECRET = f"another task's private input {uuid.uuid4().hex}"


def probe_containment() -> list[str]:
    """Harmless runs on this host's cgroups and sandbox: [] if the limits the bombs rely on hold."""
    found = CgroupHost.detect(f"probe-{uuid.uuid4().hex[:6]}")
    if isinstance(found, str):
        return [f"no cgroups: {found}"]
    problems: list[str] = []
    run = found.create(LIMITS["memory-mb"] * MiB, LIMITS["max-processes"])
    try:
        settings = run.settings()
        if settings.get("pids.max") != str(LIMITS["max-processes"]):
            problems.append(f"pids.max not set: {settings}")
        memory = settings.get("memory.limit_in_bytes", settings.get("memory.max"))
        if memory != str(LIMITS["memory-mb"] * MiB):
            problems.append(f"memory limit not set: {settings}")
    finally:
        asyncio.run(run.remove())
    sandbox = SandboxRuntime.for_host(cgroups=found)
    if sandbox is None:
        return [*problems, "bubblewrap is not installed"]
    tiny = Limits(time_limit=20, memory_bytes=32 * MiB, processes=8, cpu_seconds=1, output_bytes=4 * MiB)
    probes = {
        LimitKind.MEMORY: "held = [b'x' * (16 * 2**20) for _ in range(3)]",  # 48 MiB, just above 32
        LimitKind.PROCESSES: (
            "import os, time\nfor _ in range(12):\n    if os.fork() == 0:\n"
            "        time.sleep(5); os._exit(0)\ntime.sleep(5)"
        ),
        LimitKind.OUTPUT: "open('/iexec_out/f', 'wb').write(b'x' * 6 * 2**20)",  # 6 MiB, just above 4
    }
    with tempfile.TemporaryDirectory(prefix="pocopool-attack-probe-") as scratch:
        for kind, source in probes.items():
            root = Path(scratch) / kind.value
            for name in ("app", "in", "out"):
                (root / name).mkdir(parents=True)
                (root / name).chmod(0o755)
            result = asyncio.run(
                sandbox.run(
                    AppRun(
                        argv=("python3", "-c", source),
                        env={"PATH": "/usr/bin:/bin", "IEXEC_OUT": "/iexec_out"},
                        bundle_dir=root / "app",
                        input_dir=root / "in",
                        output_dir=root / "out",
                        limits=tiny,
                    )
                )
            )
            if result.limit_exceeded is None or result.limit_exceeded.kind is not kind:
                problems.append(f"the {kind.value} probe was not stopped at its limit: {result}")
    leftovers = [
        p
        for parent in {found.memory_parent, found.pids_parent}
        for p in parent.iterdir()
        if p.name.startswith(f"pocopool-{found.label}-")
    ]
    if leftovers:
        problems.append(f"run cgroups left behind: {leftovers}")
    return problems


@dataclass
class Attacks:
    net: Devnet | None
    problems: list[str]  # what the containment probe found wrong (no bomb was started then)
    tasks: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def _run(net: Devnet, app: str, category: str, args: str) -> str:
    return net.cli("run", app, "--category", category, "--args", args, "--json").json()["taskIds"][0]


@pytest.fixture(scope="module")
def attacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Attacks]:
    problems = probe_containment()
    if problems:
        yield Attacks(None, problems)
        return
    home = tmp_path_factory.mktemp("attack-devnet")
    limits = [arg for name, value in LIMITS.items() for arg in ("--app-limit", f"{name}={value}")]
    os.environ["POCOPOOL_ATTACK_CANARY"] = CANARY  # inherited by the worker processes
    try:
        status = run_cli(
            "devnet", "start", "--workers", "1", "--slots", "3", *limits, "--json", home=home, timeout=120
        ).json()
    finally:
        del os.environ["POCOPOOL_ATTACK_CANARY"]
    net = Devnet(home, status)
    try:
        worker_log = home / "logs" / f"{status['workers'][0]['name']}.log"
        if "app-limits-with-cgroups" not in worker_log.read_text():
            yield Attacks(net, [f"the devnet worker has no cgroups:\n{worker_log.read_text()[-3000:]}"])
            return
        state = json.loads((home / "devnet.json").read_text())
        key_file = state["workers"][0]["keyFile"]
        workdir = Path(state["workers"][0]["workdir"])
        other = workdir / ("0x" + "ee" * 32) / "input"  # another task's folder on the same worker
        other.mkdir(parents=True)
        (other / "private.txt").write_text(OTHER_TASK_SECRET)
        category = str(
            net.cli("category", "create", "ATTACK", "--max-time", str(MAX_TIME), "--json").json()["category"]
        )
        app = net.deploy_app(ATTACK)
        port = urlparse(status["scheduler"]).port
        scenarios = {
            "read": f"read {key_file} {workdir} {port}",
            "write-outside": "write-outside",
            "symlink": f"symlink {key_file}",
            "fork-bomb": f"fork-bomb {ATTACK_BOUNDS['fork-bomb']}",
            "memory-bomb": f"memory-bomb {ATTACK_BOUNDS['memory-bomb-mb']}",
            "disk-filler": f"disk-filler IEXEC_OUT {ATTACK_BOUNDS['disk-filler-mb']}",
            "tmp-filler": f"disk-filler /tmp {ATTACK_BOUNDS['disk-filler-mb']}",
            "loop": f"loop {ATTACK_BOUNDS['loop-seconds']}",
        }
        attacks = Attacks(
            net,
            [],
            {name: _run(net, app, category, args) for name, args in scenarios.items()},
            {
                "worker key": Path(key_file).read_text().strip(),
                "other task": OTHER_TASK_SECRET,
                "worker environment": CANARY,
            },
        )
        yield attacks
    finally:
        run_cli("devnet", "stop", home=home, check=False)


def _compute_failed(view: dict[str, Any]) -> bool:
    """A scheduler task view where a replicate reported COMPUTE_FAILED."""
    return any(u["status"] == "COMPUTE_FAILED" for r in view["replicates"] for u in r["statusUpdateList"])


def _compute_failure(view: dict[str, Any]) -> tuple[str, str] | None:
    for replicate in view["replicates"]:
        for update in replicate["statusHistory"]:
            if update["status"] == "COMPUTE_FAILED":
                return update.get("cause"), update.get("message") or ""
    return None


def _contained(attacks: Attacks) -> Devnet:
    assert not attacks.problems, "containment NOT proven, bombs not run:\n" + "\n".join(attacks.problems)
    assert attacks.net is not None
    return attacks.net


@pytest.mark.parametrize(
    ("attack", "cause", "limit", "option"),
    [
        ("fork-bomb", "APP_PROCESS_LIMIT_EXCEEDED", "64 processes", "--app-max-processes"),
        ("memory-bomb", "APP_MEMORY_LIMIT_EXCEEDED", "256 MiB", "--app-memory-mb"),
        ("disk-filler", "APP_OUTPUT_LIMIT_EXCEEDED", "100 MiB", "--app-output-mb"),
        ("tmp-filler", "APP_TMP_LIMIT_EXCEEDED", "64 MiB", "--app-tmp-mb"),
        ("loop", "APP_CPU_TIME_LIMIT_EXCEEDED", "2 s", "--app-cpu-seconds"),
    ],
)
def test_a_bomb_is_stopped_at_its_limit_with_its_own_cause(
    attacks: Attacks, attack: str, cause: str, limit: str, option: str
) -> None:
    net = _contained(attacks)
    task = attacks.tasks[attack]
    view = net.debug_when(task, _compute_failed, "COMPUTE_FAILED", 90, logs=True)
    assert _compute_failure(view) is not None
    found_cause, message = _compute_failure(view)  # type: ignore[misc]
    assert found_cause == cause, view
    assert limit in message and option in message, message
    assert_reported(
        replicate_reports(view), status="COMPUTE_FAILED", cause=cause, error=option, component="app", fix=option
    )
    diagnosis = view["diagnosis"]
    assert diagnosis["cause"] == cause and diagnosis["origin"] == "app" and diagnosis["stage"] == "compute"
    assert option in diagnosis["fix"] and diagnosis["explanation"]
    logs = json.dumps(view["replicates"][0].get("logs"))
    assert "survived" not in logs and "ended by itself" not in logs, "the app was stopped before its own bound"
    text = net.cli("task", "debug", task).stdout
    assert cause in text and option in text


def _result_and_logs(net: Devnet, task: str, target: Path) -> tuple[dict[str, Any], str]:
    view = net.debug_when(task, is_final, "the end of the task", 90, logs=True)
    assert view["status"] == "COMPLETED", view
    net.cli("task", "download", task, str(target))
    everything = "".join(p.read_text(errors="replace") for p in target.rglob("*") if p.is_file())
    return json.loads((target / "report.json").read_text()), everything + json.dumps(view)


def test_reading_secrets_and_reaching_the_scheduler_are_refused(attacks: Attacks, tmp_path: Path) -> None:
    net = _contained(attacks)
    report, seen = _result_and_logs(net, attacks.tasks["read"], tmp_path)
    assert set(report) == {"worker-key", "other-tasks", "host-environ", "scheduler"}
    for name in ("worker-key", "other-tasks", "scheduler"):
        assert report[name].startswith("refused"), (name, report[name])
    # /proc/1/environ exists in the sandbox: it is the sandbox's own init, with the app's clean environment.
    for what, secret in attacks.secrets.items():
        assert secret not in seen, f"the {what} reached the result or the logs"


def test_writing_outside_iexec_out_is_refused(attacks: Attacks, tmp_path: Path) -> None:
    net = _contained(attacks)
    report, _ = _result_and_logs(net, attacks.tasks["write-outside"], tmp_path)
    assert len(report) == 7
    for target, outcome in report.items():
        assert outcome.startswith("refused"), (target, outcome)


def test_a_symlink_in_the_result_does_not_carry_the_host_file(attacks: Attacks, tmp_path: Path) -> None:
    net = _contained(attacks)
    _, seen = _result_and_logs(net, attacks.tasks["symlink"], tmp_path)
    for what, secret in attacks.secrets.items():
        assert secret not in seen, f"the {what} reached the result through a link"
    assert (tmp_path / "stolen").read_bytes() == b""  # a link becomes an empty entry


def test_after_every_attack_the_worker_completes_a_normal_task(attacks: Attacks) -> None:
    net = _contained(attacks)
    for task in attacks.tasks.values():  # every attack has ended on the worker
        until(
            lambda task=task: (view := net.task_view(task)) is not None and (_compute_failed(view) or is_final(view)),
            90,
            f"the end of the run of {task}",
            net,
        )
    app = net.deploy_app(MISBEHAVE)
    task = net.cli("run", app, "--args", "ok", "--json").json()["taskIds"][0]
    view = net.debug_when(task, is_final, "the end of the task", 90, logs=True)
    assert view["status"] == "COMPLETED", view
    assert_task_reached(view, "RUNNING", "FINALIZED", "COMPLETED")
    workdir = Path(json.loads((net.home / "devnet.json").read_text())["workers"][0]["workdir"])
    assert not list(workdir.rglob("filler.bin")), "the fillers' files do not outlive their runs"
