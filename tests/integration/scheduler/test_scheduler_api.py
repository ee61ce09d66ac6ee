"""The scheduler's HTTP contract: authentication, the 4xx answers (which change nothing), supply
gatekeeping, notifications, recovery and the public views."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import jwt
import pytest

from pocopool.protocol import crypto
from pocopool.protocol.applogs import MAX_LOG_BYTES, SCHEDULER_SETTING, parse_cut
from pocopool.protocol.models import PublicConfiguration
from pocopool.scheduler.store import NotificationRow
from scheduler_harness import WORKER_KEYS, SimWorker, running_scheduler, wait_for


async def replicate_history(worker: SimWorker, task_id: str, wallet: str | None = None) -> list[str]:
    answer = await worker.http.get(f"/tasks/{task_id}/replicates/{wallet or worker.wallet}")
    assert answer.status_code == 200, answer.text
    return [u["status"] for u in answer.json()["statusUpdateList"]]


@pytest.fixture
async def scheduler(ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url) as running:
        yield running


@pytest.fixture
async def worker(scheduler, ledger):
    sim = await SimWorker(scheduler, ledger, WORKER_KEYS[0], "w0").join()
    yield sim
    await sim.aclose()


@pytest.fixture
async def other(scheduler, ledger):
    sim = await SimWorker(scheduler, ledger, WORKER_KEYS[1], "w1").join()
    yield sim
    await sim.aclose()


@pytest.fixture
async def task_id(ledger, worker) -> str:
    """A trust-1 task the worker holds a replicate of (CREATED)."""
    [task] = ledger.task_ids(ledger.new_deal(trust=1))
    summary = await wait_for(worker.ask)
    assert summary.workerpoolAuthorization.chainTaskId == task
    return task


JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")


# ----- authentication ---------------------------------------------------------------------------------


async def test_a_login_with_a_wrong_signature_gets_401_and_no_token(scheduler, ledger):
    sim = SimWorker(scheduler, ledger, WORKER_KEYS[2])
    try:
        challenge = (await sim.http.get("/workers/challenge", params={"walletAddress": sim.wallet})).text
        assert challenge.startswith("0x") and len(challenge) == 66
        again = (await sim.http.get("/workers/challenge", params={"walletAddress": sim.wallet})).text
        assert again == challenge  # the same value while it lives
        forged = crypto.sign_login(WORKER_KEYS[3], challenge)  # signed by another key
        answer = await sim.http.post("/workers/login", params={"walletAddress": sim.wallet}, json={"value": forged})
        assert answer.status_code == 401
        assert "signature" in answer.json()["error"]
        assert answer.json()["code"] == "UNAUTHORIZED" and answer.headers["www-authenticate"] == "Bearer"
        assert set(answer.json()) <= {"error", "code", "detail"}, answer.text  # the error body, nothing else
        assert JWT.search(answer.text) is None and "authorization" not in answer.headers, answer.text
        # The right signature still works (a failed attempt does not burn the challenge), then it is consumed.
        good = crypto.sign_login(sim.key, challenge)
        accepted = await sim.http.post("/workers/login", params={"walletAddress": sim.wallet}, json={"value": good})
        assert accepted.status_code == 200 and JWT.search(accepted.text), accepted.text  # what a token looks like
        replay = await sim.http.post("/workers/login", params={"walletAddress": sim.wallet}, json={"value": good})
        assert replay.status_code == 401
    finally:
        await sim.aclose()


async def test_a_login_with_a_malformed_signature_or_wallet_is_refused_clearly(scheduler, ledger):
    async with httpx.AsyncClient(base_url=scheduler.url) as http:
        bad_wallet = await http.get("/workers/challenge", params={"walletAddress": "0x1234"})
        assert bad_wallet.status_code == 422 and "walletAddress" in bad_wallet.json()["error"]
        wallet = crypto.address_of(WORKER_KEYS[2])
        bad_signature = await http.post("/workers/login", params={"walletAddress": wallet}, json={"value": "0xzz"})
        assert bad_signature.status_code == 422 and "value" in bad_signature.json()["error"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer garbage", "Basic abc", "forged"])
async def test_a_missing_or_garbage_jwt_gets_401(scheduler, header):
    if header == "forged":  # well formed, signed with another secret
        header = "Bearer " + jwt.encode(
            {"sub": crypto.address_of(WORKER_KEYS[0]), "exp": int(time.time()) + 60, "aud": "pocopool-scheduler"},
            "not the secret",
            algorithm="HS256",
        )
    headers = {"Authorization": header} if header else {}
    task = "0x" + "11" * 32
    async with httpx.AsyncClient(base_url=scheduler.url, headers=headers) as http:
        for method, path, body in [
            ("POST", "/workers/register", {"cpuNb": 1}),
            ("POST", "/workers/ping", None),
            ("GET", "/workers/computing", None),
            ("GET", "/workers/notifications", None),
            ("GET", "/replicates/available?blockNumber=5", None),
            ("GET", "/replicates/interrupted", None),
            ("POST", f"/replicates/{task}/updateStatus", {"status": "STARTING"}),
        ]:
            answer = await http.request(method, path, json=body)
            assert answer.status_code == 401, (path, answer.text)
            assert answer.json()["error"]


# ----- status updates ---------------------------------------------------------------------------------


async def test_a_status_update_on_another_workers_replicate_is_403_and_changes_nothing(task_id, worker, other):
    answer = await other.update(task_id, "STARTING")
    assert answer.status_code == 403
    assert answer.json() == {
        "error": f"worker {other.wallet} holds no replicate of task {task_id}",
        "code": "FORBIDDEN",
        "nextAction": "PLEASE_ABORT",
    }
    assert await replicate_history(worker, task_id) == ["CREATED"]
    assert (await other.http.get(f"/tasks/{task_id}/replicates/{other.wallet}")).status_code == 404


async def test_an_invalid_transition_is_409_and_changes_nothing(task_id, worker):
    answer = await worker.update(task_id, "COMPUTED")
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == (
        "cannot go from CREATED to COMPUTED (allowed: STARTING, FAILED, ABORTED, RECOVERING, WORKER_LOST)"
    )
    assert body["nextAction"] == "PLEASE_ABORT"
    assert await replicate_history(worker, task_id) == ["CREATED"]


async def test_a_status_already_reported_is_208_please_wait(task_id, worker):
    assert (await worker.update(task_id, "STARTING")).json() == "PLEASE_CONTINUE"
    again = await worker.update(task_id, "STARTING")
    assert again.status_code == 208 and again.json() == "PLEASE_WAIT"
    assert await replicate_history(worker, task_id) == ["CREATED", "STARTING"]


async def test_a_batch_of_updates_is_applied_in_order_and_answered_for_the_last(task_id, worker):
    batch = [{"status": s} for s in ("STARTING", "STARTED", "APP_DOWNLOADING", "APP_DOWNLOADED")]
    answer = await worker.http.post(f"/replicates/{task_id}/updateStatuses", json=batch, headers=worker.headers)
    assert answer.status_code == 200 and answer.json() == "PLEASE_DOWNLOAD_DATA"
    assert await replicate_history(worker, task_id) == [
        "CREATED",
        "STARTING",
        "STARTED",
        "APP_DOWNLOADING",
        "APP_DOWNLOADED",
    ]
    again = await worker.http.post(f"/replicates/{task_id}/updateStatuses", json=batch[2:], headers=worker.headers)
    assert again.status_code == 208 and again.json() == "PLEASE_WAIT"  # a resent batch whose answer was lost


async def test_a_refusal_inside_a_batch_stops_it_there_and_is_the_answer(task_id, worker):
    batch = [{"status": "STARTING"}, {"status": "COMPUTED"}, {"status": "STARTED"}]
    answer = await worker.http.post(f"/replicates/{task_id}/updateStatuses", json=batch, headers=worker.headers)
    assert answer.status_code == 409
    assert answer.json()["error"].startswith("cannot go from STARTING to COMPUTED")
    assert answer.json()["nextAction"] == "PLEASE_ABORT"
    assert await replicate_history(worker, task_id) == ["CREATED", "STARTING"]  # the one before stays


@pytest.mark.parametrize("body", [[], [{"status": "STARTING"}] * 33, {"status": "STARTING"}, [{"status": "NOPE"}]])
async def test_an_empty_oversized_or_malformed_batch_is_422_and_changes_nothing(task_id, worker, body):
    answer = await worker.http.post(f"/replicates/{task_id}/updateStatuses", json=body, headers=worker.headers)
    assert answer.status_code == 422 and answer.json()["error"].startswith("invalid request: ")
    assert await replicate_history(worker, task_id) == ["CREATED"]


async def test_an_update_of_an_unknown_task_is_404(worker):
    unknown = "0x" + "ee" * 32
    answer = await worker.update(unknown, "STARTING")
    assert answer.status_code == 404
    assert answer.json() == {"error": f"unknown task {unknown}", "code": "NOT_FOUND"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "NOT_A_STATUS"},
        {"status": "COMPUTED", "details": {"exitCode": "zero"}},
        {"status": "CONTRIBUTED", "details": {"chainReceipt": {"blockNumber": -1}}},
        "not json",
    ],
)
async def test_a_malformed_status_update_is_422_with_a_clear_message(task_id, worker, body):
    if body == "not json":
        answer = await worker.http.post(
            f"/replicates/{task_id}/updateStatus",
            content=b"{oops",
            headers={**worker.headers, "Content-Type": "application/json"},
        )
    else:
        answer = await worker.http.post(f"/replicates/{task_id}/updateStatus", json=body, headers=worker.headers)
    assert answer.status_code == 422
    assert answer.json()["error"].startswith("invalid request: ")
    assert await replicate_history(worker, task_id) == ["CREATED"]


async def test_a_malformed_task_id_is_422(worker):
    answer = await worker.update("0x1234", "STARTING")
    assert answer.status_code == 422 and "chainTaskId" in answer.json()["error"]


async def test_unknown_fields_are_ignored(task_id, worker):
    answer = await worker.http.post(
        f"/replicates/{task_id}/updateStatus",
        headers=worker.headers,
        json={"status": "STARTING", "colour": "blue", "details": {"mood": "good"}},
    )
    assert answer.status_code == 200 and answer.json() == "PLEASE_CONTINUE"


async def test_a_contribution_the_chain_does_not_show_is_409_and_changes_nothing(task_id, worker):
    for status in (
        "STARTING",
        "STARTED",
        "APP_DOWNLOADING",
        "APP_DOWNLOADED",
        "DATA_DOWNLOADING",
        "DATA_DOWNLOADED",
        "COMPUTING",
        "COMPUTED",
        "CONTRIBUTING",
    ):
        await worker.report(task_id, status)
    answer = await worker.update(task_id, "CONTRIBUTED", chainReceipt={"blockNumber": 1})
    assert answer.status_code == 409
    assert "no contribution" in answer.json()["error"] and answer.json()["nextAction"] == "PLEASE_ABORT"
    assert (await replicate_history(worker, task_id))[-1] == "CONTRIBUTING"


async def test_a_contribute_failure_is_stored_with_its_cause_and_answered_abort(task_id, worker):
    for status in (
        "STARTING",
        "STARTED",
        "APP_DOWNLOADING",
        "APP_DOWNLOADED",
        "DATA_DOWNLOADING",
        "DATA_DOWNLOADED",
        "COMPUTING",
        "COMPUTED",
        "CONTRIBUTING",
    ):
        await worker.report(task_id, status)
    answer = await worker.update(task_id, "CONTRIBUTE_FAILED", cause="OUT_OF_GAS", errorMessage="balance 0")
    assert answer.status_code == 200 and answer.json() == "PLEASE_ABORT"
    view = (await worker.http.get(f"/tasks/{task_id}/replicates/{worker.wallet}")).json()
    last = view["statusUpdateList"][-1]
    assert (last["status"], last["cause"], last["errorMessage"]) == ("CONTRIBUTE_FAILED", "OUT_OF_GAS", "balance 0")


TOO_LONG = "".join(f"line {i:07d}\n" for i in range(100_000))  # 1.3 MB


async def test_compute_logs_go_to_the_task_logs_first_write_wins(scheduler, task_id, worker):
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
    await worker.report(
        task_id,
        "COMPUTED",
        "PLEASE_CONTRIBUTE",
        exitCode=3,
        computeLogs={"walletAddress": "0x" + "99" * 20, "stdout": TOO_LONG, "stderr": "oops"},
    )
    await worker.report(task_id, "CONTRIBUTING", computeLogs={"stdout": "second", "stderr": ""})
    [logs] = await scheduler.store.task_logs(task_id)
    assert logs["wallet"] == worker.wallet  # the token's wallet, not the body's
    # Longer than the scheduler keeps: its end, from a line start, after the line saying what was cut.
    cut, body = parse_cut(logs["stdout"])
    assert cut is not None and (cut.setting, cut.limit_bytes) == (SCHEDULER_SETTING, MAX_LOG_BYTES)
    assert cut.dropped_bytes + cut.kept_bytes == len(TOO_LONG) and cut.kept_bytes <= MAX_LOG_BYTES
    assert (
        TOO_LONG.endswith(body)
        and body.startswith("line ")
        and cut.dropped_lines == TOO_LONG.count("\n", 0, cut.dropped_bytes)
    )
    assert logs["stderr"] == "oops"
    view = (await worker.http.get(f"/tasks/{task_id}/replicates/{worker.wallet}")).json()
    assert view["appExitCode"] == 3 and view["appLogs"].endswith(f"/replicates/{worker.wallet}/logs")
    assert view["appLogsCut"] == {"stdout": cut.wire()}  # the cut is told; the logs stay the requester's


# ----- supply -----------------------------------------------------------------------------------------


async def test_a_worker_never_gets_two_replicates_of_one_task_even_asking_concurrently(scheduler, ledger, worker):
    [task] = ledger.task_ids(ledger.new_deal(trust=5))
    await scheduler.tick()
    answers = await asyncio.gather(*(worker.ask() for _ in range(6)))
    given = [a for a in answers if a is not None]
    assert len(given) == 1 and given[0].workerpoolAuthorization.chainTaskId == task
    assert await worker.ask() is None
    detail = await scheduler.store.task_details(task)
    assert [r["wallet"] for r in detail.replicates] == [worker.wallet]


async def test_the_authorization_is_signed_by_the_workerpool_owner(scheduler, task_id, worker):
    authorization = worker.authorizations[task_id]
    signer = crypto.recover_authorization_signer(
        worker.wallet, task_id, authorization["enclaveChallenge"], authorization["signature"]["value"]
    )
    assert signer == scheduler.address
    assert authorization["enclaveChallenge"] == crypto.ZERO_ADDRESS
    assert authorization["taskIndex"] == 0


async def test_supply_gatekeeping_answers_204(ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url, ask_period_ms=1000) as scheduler:
        tasks = ledger.task_ids(ledger.new_deal(trust=1, volume=2))
        await scheduler.tick()
        stranger = SimWorker(scheduler, ledger, WORKER_KEYS[3])
        worker = await SimWorker(scheduler, ledger, WORKER_KEYS[0]).join()
        try:
            await stranger.login()  # logged in but never registered
            assert await stranger.ask() is None
            assert await worker.ask(block=0) is None  # its node is not synced: and that demand counts
            await asyncio.sleep(1.0)
            first = await worker.ask()
            assert first is not None
            assert await worker.ask() is None  # asked again too early
            await asyncio.sleep(1.0)
            second = await worker.ask()
            assert {first.workerpoolAuthorization.chainTaskId, second.workerpoolAuthorization.chainTaskId} == set(tasks)
        finally:
            await stranger.aclose()
            await worker.aclose()


# ----- notifications -----------------------------------------------------------------------------------------


async def test_a_long_poll_wakes_promptly_and_also_sees_notifications_of_other_processes(scheduler, task_id, worker):
    poll = asyncio.ensure_future(worker.notifications(timeout=20))
    await asyncio.sleep(0.2)
    # Written by "another process": no wake-up, the poll's periodic re-read finds it.
    await scheduler.store.add_notifications(
        [NotificationRow(worker.wallet, task_id, "PLEASE_WAIT", {"blockNumber": 0})], scheduler.clock.now()
    )
    # Found by a re-read well before the poll's own 20 s (which would answer an empty batch).
    batch = await asyncio.wait_for(poll, 15)
    assert [n.taskNotificationType for n in batch.notifications] == ["PLEASE_WAIT"]
    assert batch.cursor == batch.notifications[0].id
    # Nothing new after the cursor: an empty batch after the timeout, cursor unchanged.
    empty = await worker.notifications(timeout=0.2)
    assert empty.notifications == [] and empty.cursor == batch.cursor


async def test_a_long_poll_timeout_above_30s_is_refused(worker):
    answer = await worker.http.get("/workers/notifications", params={"timeout": 31}, headers=worker.headers)
    assert answer.status_code == 422


# ----- recovery ---------------------------------------------------------------------------------------


async def test_a_restarted_worker_recovers_its_replicate_with_a_fresh_authorization(scheduler, task_id, worker):
    await worker.compute(task_id)
    await worker.report(task_id, "CONTRIBUTING")
    answer = await worker.http.get("/replicates/interrupted", params={"blockNumber": 3}, headers=worker.headers)
    assert answer.status_code == 200
    [notification] = answer.json()
    assert notification["taskNotificationType"] == "PLEASE_CONTRIBUTE"
    assert notification["workersAddress"] == [worker.wallet]
    auth = notification["taskNotificationExtra"]["workerpoolAuthorization"]
    assert (
        crypto.recover_authorization_signer(
            worker.wallet, task_id, auth["enclaveChallenge"], auth["signature"]["value"]
        )
        == scheduler.address
    )
    assert (await replicate_history(worker, task_id))[-2:] == ["CONTRIBUTING", "RECOVERING"]
    # It contributes on chain but crashes before telling us: the next recovery records it and says wait.
    worker.authorizations[task_id] = auth
    digest = worker.digest("good")
    await asyncio.to_thread(
        worker.ledger.chain.contribute,
        worker.account,
        task_id,
        crypto.result_hash(task_id, digest),
        crypto.result_seal(worker.wallet, task_id, digest),
        crypto.ZERO_ADDRESS,
        "",
        auth["signature"]["value"],
    )
    answer = await worker.http.get("/replicates/interrupted", params={"blockNumber": 3}, headers=worker.headers)
    notifications = {n["taskNotificationType"] for n in answer.json()}
    assert notifications <= {"PLEASE_WAIT", "PLEASE_REVEAL"}
    history = await replicate_history(worker, task_id)
    assert "CONTRIBUTED" in history and history[-1] == "RECOVERING"


# ----- public views and service endpoints ------------------------------------------------------------


async def test_workers_config_version_health_and_docs(scheduler, ledger, worker):
    async with httpx.AsyncClient(base_url=scheduler.url) as http:
        config = PublicConfiguration.model_validate((await http.get("/workers/config")).json())
        assert config.workerPoolAddress == ledger.workerpool
        assert config.schedulerPublicAddress == scheduler.address
        assert config.resultRepositoryURL == "http://results.test"
        assert config.chainId == ledger.chain.chain_id()
        assert (await http.get("/version")).text == "0.1.0"
        health = (await http.get("/health")).json()
        assert health["status"] == "ok" and health["chainBlock"] >= 1
        assert (await http.get("/docs")).status_code == 200
        assert "/replicates/{chainTaskId}/updateStatus" in (await http.get("/openapi.json")).json()["paths"]
        missing = await http.get("/no/such/thing")
        assert missing.status_code == 404 and missing.json() == {"error": "no such endpoint", "code": "NOT_FOUND"}
        assert (await http.get("/tasks/" + "0x" + "ab" * 32)).status_code == 404
        assert (await http.get("/deals/" + "0x" + "ab" * 32)).json() == {
            "error": f"unknown deal {'0x' + 'ab' * 32}",
            "code": "NOT_FOUND",
        }
        [listed] = (await http.get("/workers")).json()
    assert listed["walletAddress"] == worker.wallet and listed["alive"] is True and listed["maxNbTasks"] == 2
    ping = await worker.http.post("/workers/ping", headers=worker.headers)
    assert ping.status_code == 200 and ping.text.startswith("0x") and len(ping.text) == 66


async def test_a_gpu_worker_runs_one_task_at_a_time(scheduler, ledger):
    sim = SimWorker(scheduler, ledger, WORKER_KEYS[4])
    try:
        await sim.login()
        answer = await sim.http.post(
            "/workers/register",
            headers=sim.headers,
            json={"name": "gpu", "cpuNb": 8, "gpuEnabled": True, "walletAddress": "0x" + "12" * 20},
        )
        assert answer.json()["maxNbTasks"] == 1 and answer.json()["walletAddress"] == sim.wallet
    finally:
        await sim.aclose()
