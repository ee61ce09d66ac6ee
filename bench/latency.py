"""latency: one no-op task at a time through a quiet devnet, deal seen -> COMPLETED.

python bench/latency.py [--tasks 20] [--workers 1] [--warmup 2]
Each task is bought only once the previous one is final; its latency is read from its own history
(RECEIVED, when the scheduler saw the deal, to COMPLETED). The first `--warmup` tasks (the bundle's
download, the first imports) are run but not counted. Prints p50, p90 and the slowest, and, for the
median task, the time between each status and the next (where the time goes).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from common import NOOP, emit, percentile, remove, scratch  # noqa: E402

from pocopool.client.run_request import RunRequest  # noqa: E402
from pocopool.client.sdk import DirectoryPublisher, Requester  # noqa: E402
from pocopool.devnet import manager  # noqa: E402

FINAL = ("COMPLETED", "FAILED")
TASK_TIMEOUT = 120.0


def _history(model: dict[str, Any]) -> list[tuple[str, float]]:
    return [
        (change["status"], datetime.fromisoformat(change["date"].replace("Z", "+00:00")).timestamp())
        for change in model["dateStatusList"]
    ]


def run_one(requester: Requester, client: httpx.Client, scheduler: str, app: str, workerpool: str) -> list[tuple[str, float]]:
    """Buys one task and returns its history once it is final."""
    [task_id] = requester.run(RunRequest(app, trust=1, tasks=1), workerpool).task_ids
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        answer = client.get(f"{scheduler}/tasks/{task_id}")
        if answer.status_code == 200 and answer.json()["currentStatus"] in FINAL:
            history = _history(answer.json())
            if history[-1][0] != "COMPLETED":
                raise SystemExit(f"task {task_id} ended {history[-1][0]}: {answer.json()}")
            return history
        time.sleep(0.01)
    raise SystemExit(f"task {task_id} not final after {TASK_TIMEOUT:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    home = scratch("latency")
    state = manager.start(home, manager.Options(workers=args.workers, slots=1))
    try:
        from eth_account import Account

        chain = manager.open_chain(state)
        requester = Requester(
            chain,
            Account.from_key(manager.read_key(Path(state.keys.requester))),
            str(state.scheduler),
            DirectoryPublisher(home / "files", str(state.files)),
        )
        app = requester.deploy_app(NOOP).address
        with httpx.Client(timeout=30) as client:
            histories = [
                run_one(requester, client, str(state.scheduler), app, state.workerpool)
                for _ in range(args.warmup + args.tasks)
            ][args.warmup :]
        chain.close()
    finally:
        manager.stop(home)
        remove(home)
    latencies = [dict(h)["COMPLETED"] - dict(h)["RECEIVED"] for h in histories]
    median = histories[sorted(range(len(latencies)), key=latencies.__getitem__)[len(latencies) // 2]]
    steps = {f"{a}->{b}": round((tb - ta) * 1000, 1) for (a, ta), (b, tb) in zip(median, median[1:], strict=False)}
    emit(
        "latency",
        tasks=args.tasks,
        workers=args.workers,
        latencyP50=round(percentile(latencies, 0.5), 3),
        latencyP90=round(percentile(latencies, 0.9), 3),
        latencyMax=round(max(latencies), 3),
        medianTaskStepsMs=steps,
        target={"latencyP50": 0.3},
    )


if __name__ == "__main__":
    main()
