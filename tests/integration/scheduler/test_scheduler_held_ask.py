"""A worker's ask for work held by the scheduler (`GET /replicates/available?timeout=S`): it gets the
task of a deal made while it waits, answers 204 when its hold ends with nothing to give, and a hold
longer than the API allows is refused in one line."""

from __future__ import annotations

import asyncio
import time

import httpx

from pocopool.protocol.models import MAX_ASK_HOLD
from scheduler_harness import WORKER_KEYS, SimWorker, running_scheduler, wait_for


async def demand_recorded(scheduler, wallet: str) -> bool:
    """Whether the scheduler took in an ask of this worker (its rate limit's record)."""
    row = await scheduler.store.worker_row(wallet)
    return row is not None and row["last_replicate_demand"] is not None


async def test_a_held_ask_gets_the_task_of_a_deal_made_while_it_waits(ledger, db_url):
    async with running_scheduler(ledger, db_url) as scheduler:
        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0]).join()
        try:
            held = asyncio.ensure_future(worker.ask(hold=20))

            await wait_for(
                lambda: demand_recorded(scheduler, worker.wallet)
            )  # the ask is in: nothing to give yet, no deal exists
            assert not held.done()
            [task_id] = ledger.task_ids(ledger.new_deal(trust=1))
            summary = await asyncio.wait_for(held, 30)
            assert summary is not None, "the held ask ended without the task of the new deal"
            assert summary.workerpoolAuthorization.chainTaskId == task_id
            assert summary.workerpoolAuthorization.workerWallet == worker.wallet
        finally:
            await worker.aclose()


async def test_a_held_ask_with_nothing_to_give_answers_no_content_when_its_hold_ends(ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0]).join()
        try:
            started = time.monotonic()
            assert await worker.ask(hold=1.5) is None
            assert time.monotonic() - started >= 1.5  # held to the end, not answered at once
        finally:
            await worker.aclose()


async def test_a_hold_longer_than_the_api_allows_is_refused_and_records_no_demand(ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0]).join()
        try:
            answer = await worker.http.get(
                "/replicates/available",
                params={"blockNumber": 1, "timeout": MAX_ASK_HOLD + 1},
                headers=worker.headers,
            )
            assert answer.status_code == 422, answer.text
            assert "timeout" in answer.text and str(int(MAX_ASK_HOLD)) in answer.text
            row = await scheduler.store.worker_row(worker.wallet)
            assert row is not None and row["last_replicate_demand"] is None
        finally:
            await worker.aclose()


async def test_a_held_ask_whose_worker_hung_up_takes_no_task(ledger, db_url):
    """A worker restarted while its ask was held: the new process must get the task, not the old
    connection nobody reads any more."""
    async with running_scheduler(ledger, db_url) as scheduler:
        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0]).join()
        first_process = httpx.AsyncClient(base_url=scheduler.url, timeout=40)
        try:
            held = asyncio.ensure_future(
                first_process.get(
                    "/replicates/available", params={"blockNumber": 1, "timeout": 20}, headers=worker.headers
                )
            )

            await wait_for(lambda: demand_recorded(scheduler, worker.wallet))
            held.cancel()
            await first_process.aclose()  # the first process is gone, and its connection with it
            [task_id] = ledger.task_ids(ledger.new_deal(trust=1))

            async def initialized() -> bool:
                loaded = await scheduler.store.load(task_id)
                return loaded is not None and loaded[0].status.value == "INITIALIZED"

            await wait_for(initialized, 20)
            summary = await wait_for(worker.ask, 20)  # the worker's new process asks (after the rate limit)
            assert summary.workerpoolAuthorization.chainTaskId == task_id
        finally:
            await first_process.aclose()
            await worker.aclose()
