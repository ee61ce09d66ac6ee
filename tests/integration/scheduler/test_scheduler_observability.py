"""Logs for the requester only, live status events, metrics and the dashboard pages, over real HTTP,
a real database and a real LocalChain, with simulated workers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from pocopool.protocol import crypto
from pocopool.protocol.time import VirtualClock
from scheduler_harness import (
    REQUESTER,
    WORKER_KEYS,
    SimWorker,
    make_ledger,
    running_scheduler,
    wait_for,
)

REQUESTER_KEY = crypto.key_hex(REQUESTER)
STRANGER_KEY = "0x" + "5e" * 32


async def signed_header(http: httpx.AsyncClient, key: str) -> str:
    address = crypto.address_of(key)
    typed = (await http.get("/tasks/logs/challenge", params={"address": address})).json()
    digest = crypto.typed_data_digest(typed).hex()
    return f"0x{digest}_{crypto.sign_typed_data(key, typed)}_{address}"


async def computed_task(scheduler, ledger) -> tuple[str, SimWorker]:
    deal_id = ledger.new_deal(trust=1)
    [task_id] = ledger.task_ids(deal_id)
    worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0], "w0").join()
    summary = await wait_for(worker.ask)
    assert summary.workerpoolAuthorization.chainTaskId == task_id
    await worker.compute(task_id)
    return task_id, worker


async def test_only_the_requester_reads_the_logs_and_each_challenge_works_once(ledger, db_url):
    async with running_scheduler(ledger, db_url) as scheduler:
        task_id, worker = await computed_task(scheduler, ledger)
        http = worker.http
        try:
            # The requester signs a fresh challenge and reads every worker's logs.
            header = await signed_header(http, REQUESTER_KEY)
            answer = await http.get(f"/tasks/{task_id}/logs", headers={"Authorization": header})
            assert answer.status_code == 200, answer.text
            assert answer.json()["computeLogsList"] == [
                {"walletAddress": worker.wallet, "stdout": "hello from w0\n", "stderr": ""}
            ]

            # The same header again: the challenge was consumed.
            replay = await http.get(f"/tasks/{task_id}/logs", headers={"Authorization": header})
            assert replay.status_code == 401 and "hello" not in replay.text

            # One worker's logs, with a new challenge.
            header = await signed_header(http, REQUESTER_KEY)
            one = await http.get(f"/tasks/{task_id}/replicates/{worker.wallet}/logs", headers={"Authorization": header})
            assert one.status_code == 200 and one.json()["stdout"] == "hello from w0\n"

            # Another key, correctly signed, learns nothing: same answer for a task with and without logs.
            other_task = ledger.task_ids(ledger.new_deal(trust=1))[0]
            await wait_for(lambda: scheduler.store.task(other_task))
            refusals = []
            for target in (task_id, other_task, "0x" + "77" * 32):
                stranger = await signed_header(http, STRANGER_KEY)
                refused = await http.get(f"/tasks/{target}/logs", headers={"Authorization": stranger})
                refusals.append((refused.status_code, refused.json()))
            assert len({json.dumps(r) for r in refusals}) == 1 and refusals[0][0] == 403
            assert "hello" not in json.dumps(refusals)

            # A stranger who puts the requester's address with its own signature is refused too.
            typed = (await http.get("/tasks/logs/challenge", params={"address": REQUESTER.address})).json()
            forged = (
                f"0x{crypto.typed_data_digest(typed).hex()}_{crypto.sign_typed_data(STRANGER_KEY, typed)}"
                f"_{REQUESTER.address}"
            )
            assert (await http.get(f"/tasks/{task_id}/logs", headers={"Authorization": forged})).status_code == 401

            # A malformed header is 401; an expired challenge is refused.
            assert (await http.get(f"/tasks/{task_id}/logs", headers={"Authorization": "nonsense"})).status_code == 401
            header = await signed_header(http, REQUESTER_KEY)
            real_now = scheduler.logs_challenges.now
            scheduler.logs_challenges.now = lambda: real_now() + 61
            try:
                expired = await http.get(f"/tasks/{task_id}/logs", headers={"Authorization": header})
            finally:
                scheduler.logs_challenges.now = real_now
            assert expired.status_code == 401 and "expired" in expired.json()["error"]
        finally:
            await worker.aclose()


def parse_sse(text: str) -> list[dict]:
    events = []
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        if "data" in fields:
            events.append({"id": fields.get("id"), "event": fields.get("event"), "data": json.loads(fields["data"])})
    return events


async def read_events(
    url: str, params: dict, headers: dict | None = None, count: int = 1, timeout: float = 10
) -> list[dict]:
    """Reads the stream until `count` events arrived, then closes it."""
    buffer = ""
    async with (
        httpx.AsyncClient(timeout=timeout) as client,
        client.stream("GET", f"{url}/events", params=params, headers=headers or {}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for chunk in response.aiter_text():
            buffer += chunk
            if len(parse_sse(buffer)) >= count and buffer.endswith("\n\n"):
                break
    return parse_sse(buffer)


async def test_the_event_stream_sends_each_status_change_and_resumes_after_the_last_event_id(ledger, db_url):
    async with running_scheduler(ledger, db_url) as scheduler:
        deal_id = ledger.new_deal(trust=1)
        [task_id] = ledger.task_ids(deal_id)
        await wait_for(lambda: scheduler.store.task(task_id))
        first = await read_events(scheduler.url, {"task": task_id}, count=1)
        assert first[0]["event"] == "task" and first[0]["data"]["status"] == "RECEIVED"
        assert first[0]["data"]["chainTaskId"] == task_id

        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0], "w0").join()
        try:
            reader = asyncio.ensure_future(
                read_events(scheduler.url, {"deal": deal_id}, {"Last-Event-ID": first[0]["id"]}, count=6)
            )
            await wait_for(worker.ask)
            await worker.report(task_id, "STARTING")
            await worker.report(task_id, "STARTED")
            later = await asyncio.wait_for(reader, 10)
        finally:
            await worker.aclose()
        kinds = [(e["event"], e["data"]["status"]) for e in later]
        assert ("task", "RECEIVED") not in kinds  # resumed after it
        assert ("replicate", "CREATED") in kinds and ("replicate", "STARTING") in kinds
        assert ("task", "INITIALIZED") in kinds
        ids = [tuple(map(int, e["id"].split("-"))) for e in later]
        assert ids == sorted(ids)


async def test_metrics_count_tasks_replicates_workers_updates_and_chain_calls(ledger, db_url):
    async with running_scheduler(ledger, db_url) as scheduler:
        _, worker = await computed_task(scheduler, ledger)
        try:
            response = await worker.http.get("/metrics")
        finally:
            await worker.aclose()
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        families = {family.name: family for family in text_string_to_metric_families(response.text)}
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value for family in families.values() for s in family.samples
        }
        assert samples["pocopool_tasks", (("status", "RUNNING"),)] == 1
        assert samples["pocopool_replicates", (("status", "COMPUTED"),)] == 1
        assert samples["pocopool_workers_alive", ()] == 1
        assert samples["pocopool_status_updates_total", ()] >= 4 + 9  # RECEIVED..RUNNING and CREATED..COMPUTED
        assert families["pocopool_status_updates"].type == "counter"
        assert families["pocopool_task_latency_seconds"].type == "histogram"
        assert samples["pocopool_chain_call_seconds_count", (("method", "initialize"),)] >= 1
        assert not any(name.endswith("_created") for name, _ in samples)  # the 0.0.4 text has never had them


async def make_failed_task(tmp_path: Path):
    """A ledger on virtual time, for `fail_a_task`."""
    clock = VirtualClock(1_700_000_000)
    ledger = make_ledger(tmp_path / "virtual.db", clock, time_ref=60)
    return clock, ledger


async def fail_a_task(scheduler, ledger, clock) -> str:
    """A trust-1 task whose only worker's app runs 30 s and exits 1: every alive worker failed it for
    a cause of the app, so it ends RUNNING_FAILED at once (virtual time; decision 111)."""
    deal_id = ledger.new_deal(trust=1)
    [task_id] = ledger.task_ids(deal_id)
    await scheduler.tick()
    worker = await SimWorker(scheduler, ledger, WORKER_KEYS[1], "w1").join()
    try:
        summary = await wait_for(worker.ask)
        assert summary.workerpoolAuthorization.chainTaskId == task_id
        for status in (
            "STARTING",
            "STARTED",
            "APP_DOWNLOADING",
            "APP_DOWNLOADED",
            "DATA_DOWNLOADING",
            "DATA_DOWNLOADED",
            "COMPUTING",
        ):
            await worker.report(task_id, status)
            if status == "APP_DOWNLOADING":
                clock.advance(0.3)  # a quick download beside a long compute: the timeline must show both
        clock.advance(30)  # the app ran 30 s (the worker pinged within worker_lost_after)
        await worker.update(
            task_id,
            "COMPUTE_FAILED",
            cause="APP_COMPUTE_FAILED",
            exitCode=1,
            computeLogs={"stdout": "", "stderr": "Traceback: boom\n"},
        )
        await scheduler.updater.idle()
        await scheduler.tick()
    finally:
        await worker.aclose()
    return task_id


async def test_the_dashboard_shows_workers_deals_and_a_failed_task_with_its_cause_and_timeline(tmp_path, db_url):
    clock, ledger = await make_failed_task(tmp_path)
    try:
        async with running_scheduler(ledger, db_url) as scheduler:
            task_id = await fail_a_task(scheduler, ledger, clock)
            async with httpx.AsyncClient(base_url=scheduler.url) as http:
                assert (await http.get(f"/tasks/{task_id}")).json()["currentStatus"] == "FAILED"
                home = (await http.get("/ui")).text
                page = (await http.get(f"/ui/tasks/{task_id}")).text
        assert 'id="workers"' in home and 'id="deals"' in home and "FAILED</span> 1" in home
        assert "APP_COMPUTE_FAILED" in page and 'id="timeline-chart"' in page and 'data-failure="true"' in page
        assert 'id="diagnosis"' in page
        for fetch in ("<script", "<link", "src=", "@import", "url("):  # nothing is fetched, from anywhere
            assert fetch not in page and fetch not in home
    finally:
        ledger.chain.close()


async def test_follow_redraws_on_stream_events_without_polling(ledger, sqlite_url, monkeypatch):
    from pocopool.client import follow as following

    monkeypatch.setattr(following, "POLL_INTERVAL", 1000.0)  # a poll would time the test out
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        deal_id = ledger.new_deal(trust=1)
        [task_id] = ledger.task_ids(deal_id)
        await wait_for(lambda: scheduler.store.task(task_id))
        seen: list[str] = []

        def fetch() -> dict:
            body = httpx.get(f"{scheduler.url}/tasks/{task_id}").json()
            replicates = body.get("replicates", [])
            return {
                "status": body["currentStatus"],
                "replicate": replicates[0]["currentStatus"] if replicates else None,
            }

        def started(view: dict) -> bool:
            return view["replicate"] == "STARTED"

        follower = asyncio.ensure_future(
            asyncio.to_thread(
                following.follow,
                scheduler.url,
                {"task": task_id},
                fetch,
                started,
                lambda view: seen.append(view["replicate"]),
                timeout=20,
            )
        )
        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0], "w0").join()
        try:
            await wait_for(worker.ask)
            await asyncio.sleep(0.3)
            await worker.report(task_id, "STARTING")
            await asyncio.sleep(0.3)
            await worker.report(task_id, "STARTED")
            final = await asyncio.wait_for(follower, 15)
        finally:
            await worker.aclose()
        assert final["replicate"] == "STARTED"
        assert seen[-1] == "STARTED" and len(seen) >= 2  # the first read, then one per change
