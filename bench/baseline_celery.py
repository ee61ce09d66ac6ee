"""baseline-celery: the same N sandboxed runs through Celery + Redis with W worker processes.

python bench/baseline_celery.py [--tasks 200] [--workers 4] [--slots 2]
Runs pocopool's throughput batch and the Celery batch in the same run (same app, same sandbox,
same concurrency W × slots) and reports ours / Celery's tasks per second.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH, emit  # noqa: E402
from throughput import run_devnet_batch  # noqa: E402


def celery_batch(tasks: int, concurrency: int) -> float:
    from celery_app import app, run_noop

    app.control.purge()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--concurrency", str(concurrency),
         "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=BENCH, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(BENCH)},
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Celery worker did not start: {worker.stderr.read().decode() if worker.stderr else ''}")
        run_noop.delay(-1).get(timeout=60)  # warm-up: every pool process imported and ready
        started = time.perf_counter()
        results = [run_noop.delay(i) for i in range(tasks)]
        for result in results:
            result.get(timeout=600)
        return tasks / (time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--slots", type=int, default=2)
    args = parser.parse_args()
    ours = run_devnet_batch(args.tasks, args.workers, args.slots)
    ours_rate = ours["completed"] / ours["seconds"]
    celery_rate = celery_batch(args.tasks, args.workers * args.slots)
    emit("baseline-celery", tasks=args.tasks, concurrency=args.workers * args.slots,
         oursTasksPerSecond=round(ours_rate, 2), celeryTasksPerSecond=round(celery_rate, 2),
         oursOverCelery=round(ours_rate / celery_rate, 3), oursCpuMsPerTask=ours["cpuMsPerTask"],
         target={"oursOverCelery": 0.5})


if __name__ == "__main__":
    main()
