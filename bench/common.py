"""What every benchmark shares: the machine's description, percentiles, and one JSON line out."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results.jsonl"
NOOP = BENCH / "apps" / "noop"


def machine() -> dict[str, Any]:
    memory = 0
    try:
        with open("/proc/meminfo") as info:
            memory = int(info.readline().split()[1]) // (1024 * 1024)
    except OSError:
        pass
    model = ""
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpuModel": model, "memoryGiB": memory, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def cpu_split(pid: int) -> tuple[float, float]:
    """User + system CPU seconds of a process itself, and of its reaped children, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children, from /proc."""
    return sum(cpu_split(pid))


class CpuMeter:
    """CPU per task of each named process over a batch: `start()` before, `per_task(n)` after.

    A process's own CPU and its reaped children's (a worker's app runs) are kept apart, as
    `<name>` and `<name>.apps`; several processes of one role (the workers) are summed."""

    def __init__(self, roles: dict[str, list[int]]) -> None:
        self.roles = roles
        self._before: dict[str, tuple[float, float]] = {}

    def _read(self) -> dict[str, tuple[float, float]]:
        read = {}
        for role, pids in self.roles.items():
            splits = [cpu_split(pid) for pid in pids]
            read[role] = (sum(own for own, _ in splits), sum(apps for _, apps in splits))
        read["bench"] = (time.process_time(), 0.0)
        return read

    def start(self) -> None:
        self._before = self._read()

    def per_task(self, tasks: int) -> dict[str, float]:
        """Milliseconds of CPU per task since `start()`, by role, and their total."""
        after, figures = self._read(), {}
        for role, (own, apps) in after.items():
            own_before, apps_before = self._before[role]
            figures[role] = round((own - own_before) * 1000 / tasks, 2)
            if apps - apps_before > 0:
                figures[f"{role}.apps"] = round((apps - apps_before) * 1000 / tasks, 2)
        figures["total"] = round(sum(figures.values()), 2)
        return figures


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def emit(name: str, **figures: Any) -> dict[str, Any]:
    """Prints one JSON line and appends it to bench/results.jsonl."""
    line = {"benchmark": name, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]), "machine": machine(), **figures}
    text = json.dumps(line, sort_keys=False)
    print(text, flush=True)
    with open(RESULTS, "a") as sink:
        sink.write(text + "\n")
    return line


def scratch(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"pocopool-bench-{prefix}-"))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


async def sandbox_floor(tasks: int, concurrency: int, work: Path) -> dict[str, float]:
    """The noop app run `tasks` times straight in the sandbox, `concurrency` at a time: the floor."""
    sys.path.insert(0, str(REPO / "src"))
    from pocopool.worker.runtimes.base import AppRun, Limits
    from pocopool.worker.runtimes.sandbox import SandboxRuntime

    runtime = SandboxRuntime.for_host()
    if runtime is None:
        raise SystemExit("bubblewrap is missing: run `make system-deps`")
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with semaphore:
            base = work / f"floor-{index}"
            (base / "in").mkdir(parents=True)
            (base / "out").mkdir()
            iexec_in, iexec_out = runtime.app_paths(base / "in", base / "out")
            result = await runtime.run(AppRun(
                argv=("python3", "app.py"), env={"IEXEC_IN": iexec_in, "IEXEC_OUT": iexec_out},
                bundle_dir=NOOP, input_dir=base / "in", output_dir=base / "out",
                limits=Limits(time_limit=60, memory_bytes=2 << 30, processes=64)))
            if not result.succeeded:
                raise RuntimeError(f"floor run {index} failed: {result}")

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(tasks)))
    elapsed = time.perf_counter() - started
    return {"tasksPerSecond": tasks / elapsed, "seconds": elapsed}
