"""A task from deal to COMPLETED, and the failure paths of this issue, over real HTTP, a real
database (SQLite and PostgreSQL), real signatures and a real LocalChain."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pocopool.chain.base import ChainError, ChainRevert
from pocopool.protocol.crypto import recover_personal, upload_authorization_hash
from pocopool.protocol.statuses import ChainTaskStatus
from pocopool.protocol.time import VirtualClock
from proving import assert_task_failed
from scheduler_harness import (
    FAKE_LINK,
    WORKER_KEYS,
    FaultyChain,
    SimWorker,
    make_ledger,
    running_scheduler,
    wait_for,
)


async def task_json(worker: SimWorker, task_id: str) -> dict:
    answer = await worker.http.get(f"/tasks/{task_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def status_of(worker: SimWorker, task_id: str) -> str:
    return (await task_json(worker, task_id))["currentStatus"]


async def until_status(worker: SimWorker, task_id: str, status: str, timeout: float = 10) -> dict:
    async def reached():
        body = await task_json(worker, task_id)
        return body if body["currentStatus"] == status else None

    return await wait_for(reached, timeout)


async def first_replicate(worker: SimWorker) -> str:
    summary = await wait_for(worker.ask)
    return summary.workerpoolAuthorization.chainTaskId


HAPPY_TASK = [
    "RECEIVED",
    "INITIALIZING",
    "INITIALIZED",
    "RUNNING",
    "CONSENSUS_REACHED",
    "AT_LEAST_ONE_REVEALED",
    "RESULT_UPLOADING",
    "RESULT_UPLOADED",
    "FINALIZING",
    "FINALIZED",
    "COMPLETED",
]
HAPPY_REPLICATE = [
    "CREATED",
    "STARTING",
    "STARTED",
    "APP_DOWNLOADING",
    "APP_DOWNLOADED",
    "DATA_DOWNLOADING",
    "DATA_DOWNLOADED",
    "COMPUTING",
    "COMPUTED",
    "CONTRIBUTING",
    "CONTRIBUTED",
    "REVEALING",
    "REVEALED",
    "RESULT_UPLOAD_REQUESTED",
    "RESULT_UPLOADING",
    "RESULT_UPLOADED",
    "COMPLETING",
    "COMPLETED",
]


async def test_a_trust_1_task_goes_from_deal_to_completed_with_its_whole_history(ledger, db_url):
    async with running_scheduler(ledger, db_url) as scheduler:
        deal_id = ledger.new_deal(trust=1)
        [task_id] = ledger.task_ids(deal_id)
        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0], "solo").join()
        try:
            assert await first_replicate(worker) == task_id
            await worker.compute(task_id)
            await worker.contribute(task_id)
            reveal = await worker.next_notification()
            assert reveal.taskNotificationType == "PLEASE_REVEAL" and reveal.chainTaskId == task_id
            assert reveal.taskNotificationExtra.blockNumber > 0
            await worker.reveal(task_id)
            upload = await worker.next_notification()
            assert upload.taskNotificationType == "PLEASE_UPLOAD"
            signer = recover_personal(
                upload_authorization_hash(worker.wallet, task_id),
                upload.taskNotificationExtra.resultUploadAuthorization,
            )
            assert signer == scheduler.address
            await worker.upload(task_id)
            complete = await worker.next_notification()
            assert complete.taskNotificationType == "PLEASE_COMPLETE"
            await worker.complete(task_id)

            body = await task_json(worker, task_id)
            assert body["currentStatus"] == "COMPLETED"
            assert [change["status"] for change in body["dateStatusList"]] == HAPPY_TASK
            assert body["chainDealId"] == deal_id and body["taskIndex"] == 0
            assert body["commandLine"] == "--hello world"
            assert body["resultLink"] == FAKE_LINK
            assert body["uploadingWorkerWalletAddress"] == worker.wallet
            changes = {c["status"]: c for c in body["dateStatusList"]}
            assert changes["INITIALIZED"]["chainReceipt"]["blockNumber"] > 0
            assert changes["FINALIZED"]["chainReceipt"]["txHash"].startswith("0x")
            [replicate] = body["replicates"]
            assert [u["status"] for u in replicate["statusUpdateList"]] == HAPPY_REPLICATE
            assert replicate["appExitCode"] == 0
            assert replicate["self"].endswith(f"/tasks/{task_id}/replicates/{worker.wallet}")
            assert replicate["appLogs"].endswith("/logs")
            chain_task = ledger.chain.view_task(task_id)
            assert chain_task.status is ChainTaskStatus.COMPLETED
            assert chain_task.results == FAKE_LINK.encode()
            assert (await worker.http.get("/workers/computing", headers=worker.headers)).json() == []
        finally:
            await worker.aclose()


async def test_trust_3_with_three_workers_completes_and_notifications_reach_every_worker(ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        deal_id = ledger.new_deal(trust=3)
        [task_id] = ledger.task_ids(deal_id)
        workers = [await SimWorker(scheduler, ledger, WORKER_KEYS[i], f"w{i}").join() for i in range(3)]
        try:
            # Fresh workers weigh 2: two agreeing contributions are expected to suffice, so two get one.
            assert await first_replicate(workers[0]) == task_id
            assert await first_replicate(workers[1]) == task_id
            assert await workers[2].ask() is None
            await workers[0].compute(task_id)
            await workers[1].report(task_id, "STARTING")
            answer = await workers[1].report(task_id, "START_FAILED", cause="STAKE_TOO_LOW")
            assert answer == "PLEASE_ABORT"
            # w1 will never contribute: the third worker is now needed.
            assert await first_replicate(workers[2]) == task_id
            await workers[2].compute(task_id)
            await workers[0].contribute(task_id, "good")
            await workers[2].contribute(task_id, "good")

            reveal_0, abort_1, reveal_2 = await asyncio.gather(*(w.next_notification() for w in workers))
            assert reveal_0.taskNotificationType == reveal_2.taskNotificationType == "PLEASE_REVEAL"
            assert reveal_0.taskNotificationExtra.blockNumber == reveal_2.taskNotificationExtra.blockNumber > 0
            assert abort_1.taskNotificationType == "PLEASE_ABORT"
            assert abort_1.taskNotificationExtra.taskAbortCause == "CONSENSUS_REACHED"
            await workers[1].report(task_id, "ABORTED", "PLEASE_WAIT", cause="CONSENSUS_REACHED")

            await workers[2].reveal(task_id, "good")
            upload = await workers[2].next_notification()
            assert upload.taskNotificationType == "PLEASE_UPLOAD"
            await workers[0].reveal(task_id, "good")
            await workers[2].upload(task_id)
            completes = await asyncio.gather(workers[0].next_notification(), workers[2].next_notification())
            assert {notification.taskNotificationType for notification in completes} == {"PLEASE_COMPLETE"}
            for worker in (workers[0], workers[2]):
                await worker.complete(task_id)

            body = await until_status(workers[0], task_id, "COMPLETED")
            assert [c["status"] for c in body["dateStatusList"]] == HAPPY_TASK
            by_wallet = {r["walletAddress"]: r for r in body["replicates"]}
            loser = by_wallet[workers[1].wallet]
            assert [u["status"] for u in loser["statusUpdateList"]] == [
                "CREATED",
                "STARTING",
                "START_FAILED",
                "ABORTED",
            ]
            assert loser["statusUpdateList"][2]["cause"] == "STAKE_TOO_LOW"
            assert by_wallet[workers[0].wallet]["currentStatus"] == "COMPLETED"
            assert by_wallet[workers[2].wallet]["currentStatus"] == "COMPLETED"
            # The aborted worker got no PLEASE_COMPLETE: its replicate had ended.
            assert (await workers[1].notifications()).notifications == []
            chain_task = ledger.chain.view_task(task_id)
            assert chain_task.status is ChainTaskStatus.COMPLETED and chain_task.reveal_counter == 2
        finally:
            for worker in workers:
                await worker.aclose()


async def test_a_worker_with_a_free_slot_per_cpu_takes_tasks_of_several_deals(ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        deal_id = ledger.new_deal(trust=1, volume=3)
        task_ids = ledger.task_ids(deal_id)
        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0]).join(cpu_nb=2)
        try:
            first = await first_replicate(worker)
            second = await first_replicate(worker)
            assert {first, second} < set(task_ids)
            assert await worker.ask() is None  # two computing slots, both taken
            await worker.compute(first)  # COMPUTED frees a slot
            third = await first_replicate(worker)
            assert {first, second, third} == set(task_ids)
            deal = (await worker.http.get(f"/deals/{deal_id}")).json()
            assert [t["taskIndex"] for t in deal["tasks"]] == [0, 1, 2]
            assert {t["currentStatus"] for t in deal["tasks"]} <= {"INITIALIZED", "RUNNING"}
        finally:
            await worker.aclose()


async def test_contribution_timeout_on_virtual_time_fails_the_task_and_aborts_its_worker(tmp_path: Path, sqlite_url):
    clock = VirtualClock(1_700_000_000)
    ledger = make_ledger(tmp_path / "virtual.db", clock, time_ref=60)
    try:
        async with running_scheduler(ledger, sqlite_url) as scheduler:
            deal_id = ledger.new_deal(trust=1)
            [task_id] = ledger.task_ids(deal_id)
            await scheduler.tick()
            worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0]).join()
            try:
                assert await first_replicate(worker) == task_id
                await worker.report(task_id, "STARTING")
                await worker.report(task_id, "STARTED")
                await scheduler.updater.idle()
                assert await status_of(worker, task_id) == "RUNNING"

                clock.advance(7 * 60)  # the contribution deadline
                await scheduler.tick()
                body = await task_json(worker, task_id)
                assert [c["status"] for c in body["dateStatusList"]][-2:] == ["CONTRIBUTION_TIMEOUT", "FAILED"]
                timeout = body["dateStatusList"][-2]
                assert timeout["cause"] == "CONTRIBUTION_TIMEOUT" and "deadline" in timeout["message"]
                notification = await worker.next_notification(timeout=1)
                assert notification.taskNotificationType == "PLEASE_ABORT"
                assert notification.taskNotificationExtra.taskAbortCause == "CONTRIBUTION_TIMEOUT"
                assert (await worker.http.get("/workers/computing", headers=worker.headers)).json() == []
                await worker.report(task_id, "ABORTED", "PLEASE_WAIT", cause="CONTRIBUTION_TIMEOUT")
                assert await worker.ask() is None
            finally:
                await worker.aclose()
    finally:
        ledger.chain.close()


async def test_a_task_the_ledger_never_initialized_fails_at_its_contribution_deadline(tmp_path: Path, sqlite_url):
    """Decision 133: an initialize that cannot reach the ledger is sent again until the contribution
    deadline; then the task fails there, not at the final deadline."""
    clock = VirtualClock(1_700_000_000)
    ledger = make_ledger(tmp_path / "virtual.db", clock, time_ref=60)
    faulty = FaultyChain(ledger.chain)
    faulty.fail("initialize", *(ChainError("connection refused") for _ in range(3)))
    try:
        async with running_scheduler(ledger, sqlite_url, chain=faulty) as scheduler:
            [task_id] = ledger.task_ids(ledger.new_deal(trust=1))
            await scheduler.tick()
            await scheduler.tick()
            assert (await scheduler.store.task(task_id)).status.value == "INITIALIZING"
            clock.advance(7 * 60)  # the contribution deadline
            await scheduler.tick()
            details = await scheduler.store.task_details(task_id)
        assert [c["status"] for c in details.changes] == ["RECEIVED", "INITIALIZING", "INITIALIZE_FAILED", "FAILED"]
        assert_task_failed(
            {"statusHistory": details.changes},
            status="INITIALIZE_FAILED",
            cause="CONTRIBUTION_DEADLINE_PASSED",
            error="passed before the task was initialized",
            component="scheduler",
            fix="Buy again when the workerpool is up",
        )
    finally:
        ledger.chain.close()


async def test_the_final_deadline_fails_a_task_nobody_worked_on(tmp_path: Path, sqlite_url):
    clock = VirtualClock(1_700_000_000)
    ledger = make_ledger(tmp_path / "virtual.db", clock, time_ref=60)
    try:
        async with running_scheduler(ledger, sqlite_url) as scheduler:
            [task_id] = ledger.task_ids(ledger.new_deal(trust=1))
            await scheduler.tick()
            clock.advance(10 * 60)
            await scheduler.tick()
            async with SimWorker(scheduler, ledger, WORKER_KEYS[0]).http as http:
                body = (await http.get(f"/tasks/{task_id}")).json()
            assert [c["status"] for c in body["dateStatusList"]] == [
                "RECEIVED",
                "INITIALIZING",
                "INITIALIZED",
                "FINAL_DEADLINE_REACHED",
                "FAILED",
            ]
            assert_task_failed(
                body,
                status="FINAL_DEADLINE_REACHED",
                cause="FINAL_DEADLINE_REACHED",
                error="final deadline",
                component="scheduler",
                fix="Claim a refund",
            )
    finally:
        ledger.chain.close()


async def test_a_deal_whose_contribution_deadline_passed_is_ignored(tmp_path: Path, sqlite_url):
    clock = VirtualClock(1_700_000_000)
    ledger = make_ledger(tmp_path / "virtual.db", clock, time_ref=60)
    try:
        deal_id = ledger.new_deal(trust=1)
        clock.advance(7 * 60 + 1)
        async with running_scheduler(ledger, sqlite_url) as scheduler:
            await scheduler.tick()
            async with SimWorker(scheduler, ledger, WORKER_KEYS[0]).http as http:
                assert (await http.get(f"/deals/{deal_id}")).status_code == 404
    finally:
        ledger.chain.close()


async def test_a_restarted_scheduler_resumes_from_its_cursor_and_its_database(ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        [first] = ledger.task_ids(ledger.new_deal(trust=1))
        await scheduler.tick()
    [second] = ledger.task_ids(ledger.new_deal(trust=1))
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        await scheduler.tick()
        async with SimWorker(scheduler, ledger, WORKER_KEYS[0]).http as http:
            for task_id in (first, second):
                body = (await http.get(f"/tasks/{task_id}")).json()
                assert body["currentStatus"] == "INITIALIZED"
                assert [c["status"] for c in body["dateStatusList"]].count("RECEIVED") == 1


# ----- the ledger refuses or cannot be reached --------------------------------------------------------


async def test_an_initialize_revert_fails_the_task_with_the_rule_in_its_history(ledger, sqlite_url):
    faulty = FaultyChain(ledger.chain)
    faulty.fail("initialize", ChainRevert("task-index-out-of-range", "index 0 is not in the deal's bag"))
    async with running_scheduler(ledger, sqlite_url, chain=faulty) as scheduler:
        [task_id] = ledger.task_ids(ledger.new_deal(trust=1))
        await scheduler.tick()
        async with SimWorker(scheduler, ledger, WORKER_KEYS[0]).http as http:
            body = (await http.get(f"/tasks/{task_id}")).json()
    assert [c["status"] for c in body["dateStatusList"]] == ["RECEIVED", "INITIALIZING", "INITIALIZE_FAILED", "FAILED"]
    failure = body["dateStatusList"][2]
    assert failure["cause"] == "TASK_INDEX_OUT_OF_RANGE"
    assert failure["message"] == (
        "the ledger refused the initialize transaction (task-index-out-of-range): index 0 is not in the deal's bag"
    )
    assert_task_failed(
        body,
        status="INITIALIZE_FAILED",
        cause="TASK_INDEX_OUT_OF_RANGE",
        error="index 0 is not in the deal's bag",
        component="chain",
        fix="A scheduler fault",
    )


async def test_an_unreachable_ledger_during_initialize_is_retried_by_the_detector(ledger, sqlite_url):
    faulty = FaultyChain(ledger.chain)
    faulty.fail("initialize", ChainError("connection refused"))
    async with running_scheduler(ledger, sqlite_url, chain=faulty) as scheduler:
        [task_id] = ledger.task_ids(ledger.new_deal(trust=1))
        await scheduler.poll_deals()
        await scheduler.updater.idle()
        assert (await scheduler.store.task(task_id)).status.value == "INITIALIZING"
        await scheduler.tick()  # the initialized-task detector sends it again
        assert (await scheduler.store.task(task_id)).status.value == "INITIALIZED"
        details = await scheduler.store.task_details(task_id)
        assert [c["status"] for c in details.changes] == ["RECEIVED", "INITIALIZING", "INITIALIZED"]


async def test_a_finalize_revert_fails_the_task_and_tells_the_worker_to_abort(ledger, sqlite_url):
    faulty = FaultyChain(ledger.chain)
    faulty.fail("finalize", ChainRevert("wrong-results-callback", "the callback is not the revealed digest"))
    async with running_scheduler(ledger, sqlite_url, chain=faulty) as scheduler:
        [task_id] = ledger.task_ids(ledger.new_deal(trust=1))
        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0]).join()
        try:
            await first_replicate(worker)
            await worker.compute(task_id)
            await worker.contribute(task_id)
            assert (await worker.next_notification()).taskNotificationType == "PLEASE_REVEAL"
            await worker.report(task_id, "REVEALING")
            early = await worker.update(task_id, "REVEALED", chainReceipt={"blockNumber": 1})
            assert early.status_code == 409 and "no reveal" in early.json()["error"]
            receipt = await asyncio.to_thread(ledger.chain.reveal, worker.account, task_id, worker.digest("good"))
            await worker.report_proven(task_id, "REVEALED", {"blockNumber": receipt.block_number})
            assert (await worker.next_notification()).taskNotificationType == "PLEASE_UPLOAD"
            await worker.report(task_id, "RESULT_UPLOADING")
            linkless = await worker.update(task_id, "RESULT_UPLOADED")
            assert linkless.status_code == 409
            assert linkless.json()["error"] == "RESULT_UPLOADED needs details.resultLink"
            await worker.report(task_id, "RESULT_UPLOADED", resultLink=FAKE_LINK)
            abort = await worker.next_notification()
            assert abort.taskNotificationType == "PLEASE_ABORT"
            body = await until_status(worker, task_id, "FAILED")
            assert [c["status"] for c in body["dateStatusList"]][-3:] == ["FINALIZING", "FINALIZE_FAILED", "FAILED"]
            assert body["dateStatusList"][-2]["cause"] == "WRONG_RESULTS_CALLBACK"
            assert_task_failed(
                body,
                status="FINALIZE_FAILED",
                cause="WRONG_RESULTS_CALLBACK",
                error="the callback is not the revealed digest",
                component="scheduler",
                fix="The callback data reported with the result is not the one the workers hashed",
            )
        finally:
            await worker.aclose()
