"""`GET /metrics` (http/metrics.py): the scheduler's numbers in the Prometheus text format (version 0.0.4).

Gauges (tasks and replicates by status, workers alive) and the task latency histogram are read from
the database at each scrape, so they survive restarts and agree with `GET /tasks`; the status write
counter and the chain call histogram are counted in this process since it started.

Every metric lives in the scheduler's own `CollectorRegistry` (`SchedulerMetrics.registry`), never in
prometheus-client's global one: several schedulers may run in one process (the tests do).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from ..protocol.statuses import ReplicateStatus, TaskStatus
from .registry import WorkerRegistry
from .store import Store

LATENCY_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
CHAIN_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


class _WithoutCreated(Collector):
    """A counter or histogram without its `_created` samples.

    The text format 0.0.4 has no place for them (prometheus-client would add a `<name>_created` gauge
    next to each), and `/metrics` has never had them; `disable_created_metrics()` would do the same for
    every registry of the process."""

    def __init__(self, metric: Counter | Histogram) -> None:
        self._metric = metric

    def collect(self) -> Iterator[Metric]:
        for family in self._metric.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family


class _Stored(Collector):
    """Families read from the database by the last `SchedulerMetrics.scrape()` (collect() cannot await)."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


class SchedulerMetrics:
    """The metrics of one scheduler. `status_updates` and `chain_calls` are counted by the service;
    the rest is read from the store and the worker registry by `scrape()`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.status_updates = Counter(
            "pocopool_status_updates",
            "Task and replicate status changes written (rate() gives per second).",
            registry=None,
        )
        self.chain_calls = Histogram(
            "pocopool_chain_call_seconds",
            "Duration of the scheduler's chain calls, by method.",
            ["method"],
            buckets=CHAIN_BUCKETS,
            registry=None,
        )
        self._state = _Stored()  # tasks, replicates, workers alive
        self._latency = _Stored()  # task latency
        # registration order is the order of the page
        for collector in (
            self._state,
            _WithoutCreated(self.status_updates),
            self._latency,
            _WithoutCreated(self.chain_calls),
        ):
            self.registry.register(collector)

    async def scrape(self, store: Store, workers: WorkerRegistry) -> bytes:
        """The Prometheus text of one scrape (served at `GET /metrics` by http/metrics.py)."""
        task_counts, replicate_counts = await store.status_counts()
        alive = await workers.alive_count()
        latencies = await store.completed_latencies()
        tasks = GaugeMetricFamily("pocopool_tasks", "Tasks by current status.", labels=["status"])
        for task_status in TaskStatus:
            tasks.add_metric([task_status.value], task_counts.get(task_status.value, 0))
        replicates = GaugeMetricFamily("pocopool_replicates", "Replicates by current status.", labels=["status"])
        for replicate_status in ReplicateStatus:
            replicates.add_metric([replicate_status.value], replicate_counts.get(replicate_status.value, 0))
        self._state.families = [
            tasks,
            replicates,
            GaugeMetricFamily("pocopool_workers_alive", "Workers that pinged within the alive window.", value=alive),
        ]
        self._latency.families = [
            _histogram(
                "pocopool_task_latency_seconds",
                "Time from the deal seen (RECEIVED) to COMPLETED.",
                LATENCY_BUCKETS,
                latencies,
            )
        ]
        # no await since the families were set: a concurrent scrape cannot swap them under this one
        return generate_latest(self.registry)


def _histogram(name: str, help_text: str, buckets: Iterable[float], values: list[float]) -> HistogramMetricFamily:
    """A histogram of values read at once (a `Histogram` counts as it goes, and keeps them for good)."""
    ordered = sorted(values)
    counts = [(floatToGoString(bound), bisect.bisect_right(ordered, bound)) for bound in buckets]  # le: v <= bound
    return HistogramMetricFamily(
        name, help_text, buckets=[*counts, ("+Inf", len(values))], sum_value=float(sum(values))
    )


class TimedChain:
    """The chain, with the duration of every method call recorded (reads and transactions alike)."""

    def __init__(self, chain: Any, timings: Histogram) -> None:
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
                self._timings.labels(method=name).observe(time.perf_counter() - started)

        return timed
