"""The scheduler's /metrics text (prometheus-client, a registry per scheduler) and the dashboard's
templates (Jinja2, autoescape), with plain values: no database, no server."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from pocopool.protocol.views import WorkerView
from pocopool.scheduler.metrics import SchedulerMetrics, TimedChain
from pocopool.scheduler.ui import PAGES, timeline_chart


class Store:
    async def status_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        return {"RUNNING": 2}, {"COMPUTED": 1}

    async def completed_latencies(self) -> list[float]:
        return [1.0, 7.5, 4000.0]


class Workers:
    async def alive_count(self) -> int:
        return 3


class Chain:
    def view_task(self, task_id: str) -> str:
        return task_id


def scrape(metrics: SchedulerMetrics) -> dict[tuple[str, tuple], float]:
    text = asyncio.run(metrics.scrape(Store(), Workers())).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_each_scheduler_counts_its_own_status_writes_and_chain_calls():
    first, second = SchedulerMetrics(), SchedulerMetrics()
    first.status_updates.inc(5)
    TimedChain(Chain(), first.chain_calls).view_task("0x01")
    one, other = scrape(first), scrape(second)
    assert one["pocopool_status_updates_total", ()] == 5 and other["pocopool_status_updates_total", ()] == 0
    assert one["pocopool_chain_call_seconds_count", (("method", "view_task"),)] == 1
    assert not any(name.startswith("pocopool_chain_call_seconds") for name, _ in other)


def test_a_scrape_reads_the_gauges_and_the_task_latency_from_the_store():
    samples = scrape(SchedulerMetrics())
    assert samples["pocopool_tasks", (("status", "RUNNING"),)] == 2
    assert samples["pocopool_tasks", (("status", "COMPLETED"),)] == 0  # every status, even at zero
    assert samples["pocopool_replicates", (("status", "COMPUTED"),)] == 1
    assert samples["pocopool_workers_alive", ()] == 3
    assert samples["pocopool_task_latency_seconds_bucket", (("le", "1.0"),)] == 1  # a bound is inclusive
    assert samples["pocopool_task_latency_seconds_bucket", (("le", "10.0"),)] == 2
    assert samples["pocopool_task_latency_seconds_bucket", (("le", "+Inf"),)] == 3
    assert samples["pocopool_task_latency_seconds_sum", ()] == 4008.5
    assert not any(name.endswith("_created") for name, _ in samples)


def test_the_pages_escape_what_workers_and_urls_say():
    worker = WorkerView.model_validate(
        {
            "walletAddress": "0x" + "ab" * 20,
            "name": '<script>alert("x")</script>',
            "alive": True,
            "maxNbTasks": 2,
            "computingChainTaskIds": [],
            "participatingChainTaskIds": [],
        }
    )
    page = PAGES.get_template("home.html").render(title="Workerpool", refresh=10, workers=[worker], deals=[])
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    message = PAGES.get_template("message.html").render(
        title="Not a task id", refresh=None, text="<b> is not 0x + 64 hex digits.", code=None, after=""
    )
    assert "<p>&lt;b&gt; is not 0x + 64 hex digits.</p>" in message


def test_the_timeline_chart_marks_failed_stages_and_spans_the_task():
    data = {
        "duration": 10.0,
        "task": [
            {"status": "RUNNING", "at": "t0", "start": 0.0, "end": 10.0, "failure": False, "phase": "contributions"}
        ],
        "replicates": [
            {
                "worker": "0x" + "cd" * 20,
                "stages": [
                    {
                        "status": "COMPUTE_FAILED",
                        "at": "t1",
                        "start": 5.0,
                        "end": 5.0,
                        "failure": True,
                        "phase": "failure",
                        "cause": "APP_COMPUTE_FAILED",
                    }
                ],
            }
        ],
    }
    chart = timeline_chart(data)
    svg = PAGES.get_template("timeline.svg").render(chart=chart)
    assert 'id="timeline-chart"' in svg and svg.count("<rect") == 2 and svg.count('data-failure="true"') == 1
    assert "failure: COMPUTE_FAILED at t1 (+5.0s) cause APP_COMPUTE_FAILED" in svg
    assert '<text class="phase"' in svg and ">contributions</text>" in svg  # the long bar is labelled
    assert "+10.0s" in svg  # the last tick is the task's duration
    assert PAGES.get_template("timeline.svg").render(chart=timeline_chart(None)).strip() == "<p>No history yet.</p>"
