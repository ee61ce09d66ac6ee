"""The Celery side of baseline-celery: one task that runs the noop app in the same sandbox."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

from celery import Celery

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from pocopool.worker.runtimes.base import AppRun, Limits  # noqa: E402
from pocopool.worker.runtimes.sandbox import SandboxRuntime  # noqa: E402

NOOP = Path(__file__).resolve().parent / "apps" / "noop"
BROKER = os.environ.get("POCOPOOL_BENCH_REDIS", "redis://127.0.0.1:6379/7")
app = Celery("pocopool_bench", broker=BROKER, backend=BROKER)
app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1, result_expires=600)
_runtime = SandboxRuntime.for_host()


@app.task(name="pocopool_bench.run_noop")
def run_noop(index: int) -> int:
    base = Path(tempfile.mkdtemp(prefix=f"celery-noop-{index}-"))
    try:
        (base / "in").mkdir()
        (base / "out").mkdir()
        assert _runtime is not None
        iexec_in, iexec_out = _runtime.app_paths(base / "in", base / "out")
        result = asyncio.run(_runtime.run(AppRun(
            argv=("python3", "app.py"), env={"IEXEC_IN": iexec_in, "IEXEC_OUT": iexec_out},
            bundle_dir=NOOP, input_dir=base / "in", output_dir=base / "out",
            limits=Limits(time_limit=60, memory_bytes=2 << 30, processes=64))))
        if not result.succeeded:
            raise RuntimeError(str(result))
        return index
    finally:
        shutil.rmtree(base, ignore_errors=True)
