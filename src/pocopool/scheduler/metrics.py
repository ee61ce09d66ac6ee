"""`GET /metrics` (http/metrics.py): the scheduler's numbers in the Prometheus text format (version 0.0.4).

Gauges (tasks and replicates by status, workers alive) and the task latency histogram are read from
the database at each scrape, so they survive restarts and agree with `GET /tasks`; the status write
counter and the chain call histogram are counted in this process since it started.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable
from typing import Any

from ..protocol.statuses import ReplicateStatus, TaskStatus
from .registry import WorkerRegistry
from .store import Store

LATENCY_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
CHAIN_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Histogram:
    """Cumulative buckets, a sum and a count, as Prometheus expects."""

    def __init__(self, buckets: Iterable[float]) -> None:
        self.buckets = tuple(sorted(buckets))
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str, labels: str = "") -> list[str]:
        sep = "," if labels else ""
        out, running = [], 0
        for bound, count in zip(self.buckets, self.counts):
            running += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {running}')
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}')
        suffix = f"{{{labels}}}" if labels else ""
        out.append(f"{name}_sum{suffix} {self.sum:.6f}")
        out.append(f"{name}_count{suffix} {self.count}")
        return out


class ChainTimings:
    """One latency histogram per chain method."""

    def __init__(self) -> None:
        self.by_method: dict[str, Histogram] = {}

    def observe(self, method: str, seconds: float) -> None:
        histogram = self.by_method.get(method)
        if histogram is None:
            histogram = self.by_method[method] = Histogram(CHAIN_BUCKETS)
        histogram.observe(seconds)


class TimedChain:
    """The chain, with the duration of every method call recorded (reads and transactions alike)."""

    def __init__(self, chain: Any, timings: ChainTimings) -> None:
        self._chain = chain
        self._timings = timings

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._chain, name)
        if not callable(target) or name.startswith("_"):
            return target

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                self._timings.observe(name, time.perf_counter() - started)
        return timed


def _gauge(name: str, help_text: str, values: list[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f"{name}{labels} {value:g}" for labels, value in values]
    return lines


class StatusWrites:
    """Counts the task status changes and replicate status updates written since start."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, count: int) -> None:
        self.count += count


async def render(store: Store, registry: WorkerRegistry, writes: StatusWrites, timings: ChainTimings) -> str:
    """The Prometheus text of one scrape (served at `GET /metrics` by http/metrics.py)."""
    task_counts, replicate_counts = await store.status_counts()
    alive = await registry.alive_count()
    lines: list[str] = []
    lines += _gauge("pocopool_tasks", "Tasks by current status.",
                    [(f'{{status="{status.value}"}}', task_counts.get(status.value, 0)) for status in TaskStatus])
    lines += _gauge("pocopool_replicates", "Replicates by current status.",
                    [(f'{{status="{status.value}"}}', replicate_counts.get(status.value, 0))
                     for status in ReplicateStatus])
    lines += _gauge("pocopool_workers_alive", "Workers that pinged within the alive window.", [("", alive)])
    lines += ["# HELP pocopool_status_updates_total Task and replicate status changes written (rate() gives per second).",
              "# TYPE pocopool_status_updates_total counter",
              f"pocopool_status_updates_total {writes.count}"]
    latency = Histogram(LATENCY_BUCKETS)
    for seconds in await store.completed_latencies():
        latency.observe(seconds)
    lines += ["# HELP pocopool_task_latency_seconds Time from the deal seen (RECEIVED) to COMPLETED.",
              "# TYPE pocopool_task_latency_seconds histogram", *latency.lines("pocopool_task_latency_seconds")]
    lines += ["# HELP pocopool_chain_call_seconds Duration of the scheduler's chain calls, by method.",
              "# TYPE pocopool_chain_call_seconds histogram"]
    for method, histogram in sorted(timings.by_method.items()):
        lines += histogram.lines("pocopool_chain_call_seconds", f'method="{method}"')
    return "\n".join(lines) + "\n"
