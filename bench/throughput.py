"""throughput: N no-op tasks (trust 1) through a whole devnet with W workers, against the sandbox floor.

python bench/throughput.py [--tasks 200] [--workers 4] [--slots 2]
Prints tasks/s end to end, p50/p99 task latency (deal seen → COMPLETED), the CPU per task of each
process over the batch (read from /proc; a worker's app runs apart, as workers.apps), the same app run
N times directly in the sandbox with the same concurrency (the physical floor), and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from common import NOOP, CpuMeter, emit, percentile, remove, sandbox_floor, scratch  # noqa: E402

from pocopool.client.sdk import DirectoryPublisher, Requester  # noqa: E402
from pocopool.client.run_request import RunRequest  # noqa: E402
from pocopool.devnet import manager  # noqa: E402

# How often the benchmark reads the deal's task statuses: each read costs the scheduler the statuses of
# every task of the batch, so a 50 ms watch was 6.6 % of its CPU; 250 ms is 1.5 % of a 16 s batch.
WATCH_PERIOD = 0.25


def run_devnet_batch(tasks: int, workers: int, slots: int, *, trust: int = 1, database: str | None = None,
                     ask_period_ms: int = 50) -> dict[str, Any]:
    home = scratch("devnet")
    state = manager.start(home, manager.Options(workers=workers, slots=slots, database_url=database,
                                                ask_period_ms=ask_period_ms, poll_interval=0.05))
    try:
        from eth_account import Account

        chain = manager.open_chain(state)
        requester = Requester(chain, Account.from_key(manager.read_key(Path(state.keys.requester))),
                              str(state.scheduler), DirectoryPublisher(home / "files", str(state.files)))
        app = requester.deploy_app(NOOP).address
        first_block = chain.latest_block().number
        cpu = CpuMeter({**{name: [entry.pid] for name, entry in state.processes.items() if entry.pid},
                        "workers": [worker.pid for worker in state.workers if worker.pid]})
        cpu.start()
        started = time.perf_counter()
        run = requester.run(RunRequest(app, trust=trust, tasks=tasks), state.workerpool)
        client = httpx.Client(timeout=30)
        deadline = time.monotonic() + 600
        while True:
            deal = client.get(f"{state.scheduler}/deals/{run.deal_id}")
            statuses = [t["currentStatus"] for t in deal.json()["tasks"]] if deal.status_code == 200 else []
            if len(statuses) == tasks and all(s in ("COMPLETED", "FAILED") for s in statuses):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"batch not done after 600 s: {statuses}")
            time.sleep(WATCH_PERIOD)
        elapsed = time.perf_counter() - started
        cpu_ms = cpu.per_task(tasks)
        latencies = []
        for task_id in run.task_ids:
            model = client.get(f"{state.scheduler}/tasks/{task_id}").json()
            dates = {c["status"]: datetime.fromisoformat(c["date"].replace("Z", "+00:00")) for c in model["dateStatusList"]}
            if "COMPLETED" in dates:
                latencies.append((dates["COMPLETED"] - dates["RECEIVED"]).total_seconds())
        blocks = chain.latest_block().number - first_block
        chain.close()
        return {"seconds": elapsed, "completed": statuses.count("COMPLETED"), "latencies": latencies,
                "chainTransactions": blocks, "cpuMsPerTask": cpu_ms}
    finally:
        manager.stop(home)
        remove(home)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--slots", type=int, default=2)
    args = parser.parse_args()
    batch = run_devnet_batch(args.tasks, args.workers, args.slots)
    work = scratch("floor")
    try:
        floor = asyncio.run(sandbox_floor(args.tasks, args.workers * args.slots, work))
    finally:
        remove(work)
    ours = batch["completed"] / batch["seconds"]
    emit("throughput", tasks=args.tasks, workers=args.workers, slots=args.slots, completed=batch["completed"],
         seconds=round(batch["seconds"], 2), tasksPerSecond=round(ours, 2),
         latencyP50=round(percentile(batch["latencies"], 0.5), 3), latencyP99=round(percentile(batch["latencies"], 0.99), 3),
         floorTasksPerSecond=round(floor["tasksPerSecond"], 2), ratioToFloor=round(ours / floor["tasksPerSecond"], 3),
         cpuMsPerTask=batch["cpuMsPerTask"],
         target={"tasksPerSecond": 50})


if __name__ == "__main__":
    main()
