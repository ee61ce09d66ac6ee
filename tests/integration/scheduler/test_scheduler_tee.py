"""A trust-1 TEE task from deal to COMPLETED through contributeAndFinalize, and the TEE failure paths,
over real HTTP, a real database, real signatures and a real LocalChain (docs/tee.md).

Most tests use a small stand-in SMS served over real HTTP, to steer its answers: it answers its
framework, and the enclave challenge of a task only to a request signed by the pool owner, with a
real enclave key generated for the test. The worker signs a real contributeAndFinalize with
that enclave key, as the post-compute enclave would. The last test runs the real `python -m pocopool.sms`:
the key the simulated post-compute enclave receives from it is the challenge the scheduler was given.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import aclosing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from eth_account import Account

from pocopool.chain import DealRequest
from pocopool.devnet.processes import free_port
from pocopool.devnet.tee import pinned_programs
from pocopool.protocol import crypto
from pocopool.protocol.crypto import keccak_hex, recover_personal
from pocopool.protocol.statuses import ChainTaskStatus
from pocopool.protocol.tags import int_to_tag
from pocopool.protocol.tee import challenge_request_hash, sign_enclave_result
from proving import assert_task_failed
from scheduler_harness import (
    APP_OWNER,
    REQUESTER,
    SCHEDULER,
    SCHEDULER_KEY,
    WORKER_KEYS,
    Ledger,
    SimWorker,
    running_scheduler,
    wait_for,
)

TEE_TAG = int_to_tag(0x5)
ENCLAVE = Account.from_key("0x" + "e7" * 32)
LINK = crypto.result_link("ipfs", "/ipfs/QmTeeResult")


class StandInSms:
    """`GET /tee/framework` and `POST /tee/challenges/{taskId}` of docs/tee.md, nothing else."""

    def __init__(self, framework: str = "GRAMINE") -> None:
        self.framework = framework
        self.challenges: list[str] = []
        sms = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/tee/framework":
                    self._send(200, sms.framework)
                else:
                    self._send(404, {"error": f"no such endpoint {self.path}", "code": "NOT_FOUND"})

            def do_POST(self) -> None:  # noqa: N802
                prefix = "/tee/challenges/"
                if not self.path.startswith(prefix):
                    self._send(404, {"error": f"no such endpoint {self.path}", "code": "NOT_FOUND"})
                    return
                task_id = self.path[len(prefix) :]
                signer = recover_personal(challenge_request_hash(task_id), self.headers.get("Authorization", ""))
                if signer != SCHEDULER.address:
                    self._send(401, {"error": f"signed by {signer}", "code": "NOT_POOL_OWNER"})
                    return
                sms.challenges.append(task_id)
                self._send(200, {"address": ENCLAVE.address})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandInSms:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sms() -> Iterator[StandInSms]:
    with StandInSms() as served:
        yield served


def tee_deal(ledger: Ledger, *, callback: str | None = None) -> str:
    app = ledger.chain.create_app(
        APP_OWNER, "echo-tee", "http://files.test/echo.zip", "0x" + "ab" * 32, mrenclave='{"provider":"GRAMINE"}'
    ).return_value
    request = DealRequest(
        app=app,
        workerpool=ledger.workerpool,
        category=ledger.category,
        trust=1,
        tag=TEE_TAG,
        params="{}",
        **({"callback": callback} if callback else {}),
    )
    [task_id] = ledger.task_ids(ledger.chain.create_deal(REQUESTER, request).return_value)
    return task_id


async def join(worker: SimWorker, *, tee: bool) -> SimWorker:
    await worker.login()
    answer = await worker.http.post(
        "/workers/register",
        headers=worker.headers,
        json={"name": worker.name, "cpuNb": 1, "os": "linux", "teeEnabled": tee},
    )
    assert answer.status_code == 200, answer.text
    return worker


async def until_status(worker: SimWorker, task_id: str, status: str) -> dict:
    async def reached():
        answer = await worker.http.get(f"/tasks/{task_id}")
        if answer.status_code == 404:
            return None  # the deal watcher has not seen the deal yet
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return body if body["currentStatus"] == status else None

    return await wait_for(reached)


async def compute_tee(worker: SimWorker, task_id: str) -> None:
    for status, expected in [
        ("STARTING", "PLEASE_CONTINUE"),
        ("STARTED", "PLEASE_DOWNLOAD_APP"),
        ("APP_DOWNLOADING", "PLEASE_CONTINUE"),
        ("APP_DOWNLOADED", "PLEASE_DOWNLOAD_DATA"),
        ("DATA_DOWNLOADING", "PLEASE_CONTINUE"),
        ("DATA_DOWNLOADED", "PLEASE_COMPUTE"),
        ("COMPUTING", "PLEASE_CONTINUE"),
    ]:
        await worker.report(task_id, status, expected)
    await worker.report(task_id, "COMPUTED", "PLEASE_CONTRIBUTE_AND_FINALIZE", exitCode=0)


async def report_done(worker: SimWorker, task_id: str, **details: Any) -> None:
    """CONTRIBUTE_AND_FINALIZE_DONE, after the transaction: the unnotified-contribute-and-finalize
    detector may have recorded it from the chain first (208, already reported); both answer PLEASE_WAIT."""
    answer = await worker.update(task_id, "CONTRIBUTE_AND_FINALIZE_DONE", **details)
    assert answer.status_code in (200, 208) and answer.json() == "PLEASE_WAIT", f"{answer.status_code} {answer.text}"


async def contribute_and_finalize(
    worker: SimWorker, task_id: str, digest: str, results: bytes, callback: bytes = b""
) -> dict[str, Any]:
    await worker.report(task_id, "CONTRIBUTE_AND_FINALIZE_ONGOING", "PLEASE_CONTINUE")
    authorization = worker.authorizations[task_id]
    signature = sign_enclave_result(crypto.key_hex(ENCLAVE), worker.wallet, task_id, digest)
    receipt = await asyncio.to_thread(
        worker.ledger.chain.contribute_and_finalize,
        worker.account,
        task_id,
        digest,
        results,
        callback,
        authorization["enclaveChallenge"],
        signature,
        authorization["signature"]["value"],
    )
    return {"blockNumber": receipt.block_number, "txHash": receipt.tx_hash}


async def test_a_trust_1_tee_task_is_contributed_and_finalized_to_completed(ledger, db_url, sms):
    async with running_scheduler(ledger, db_url, sms_url=sms.url) as scheduler:
        task_id = tee_deal(ledger)
        await scheduler.tick()
        stored = await scheduler.store.task(task_id)
        assert stored.status.value == "INITIALIZED" and stored.enclave_challenge == ENCLAVE.address
        assert sms.challenges == [task_id]
        async with (
            aclosing(SimWorker(scheduler, ledger, WORKER_KEYS[0], "standard")) as standard,
            aclosing(SimWorker(scheduler, ledger, WORKER_KEYS[1], "tee")) as worker,
        ):
            await join(standard, tee=False)
            await join(worker, tee=True)
            assert await standard.ask() is None  # a TEE task goes to a TEE-capable worker only
            summary = await worker.ask()
            assert summary is not None and summary.smsUrl == sms.url
            assert summary.workerpoolAuthorization.enclaveChallenge == ENCLAVE.address

            await compute_tee(worker, task_id)
            digest = keccak_hex(b"tee result")
            chain_receipt = await contribute_and_finalize(worker, task_id, digest, LINK.encode())
            await report_done(worker, task_id, resultLink=LINK, chainReceipt=chain_receipt)
            body = await until_status(worker, task_id, "COMPLETED")
            notification = await worker.next_notification()
            assert (notification.chainTaskId, notification.taskNotificationType.value) == (task_id, "PLEASE_COMPLETE")
            await worker.complete(task_id)

    chain_task = ledger.chain.view_task(task_id)
    assert chain_task.status is ChainTaskStatus.COMPLETED
    statuses = [c["status"] for c in body["dateStatusList"]]
    assert statuses == ["RECEIVED", "INITIALIZING", "INITIALIZED", "RUNNING", "FINALIZED", "COMPLETED"]
    assert body["resultLink"] == LINK
    assert body["consensus"] == chain_task.consensus_value == crypto.result_hash(task_id, digest)
    assert body["consensusReachedBlockNumber"] == chain_receipt["blockNumber"]


async def test_a_tee_callback_task_completes_with_its_callback_data_and_no_result_link(ledger, sqlite_url, sms):
    callback = b"\x00" * 31 + b"\x2a"
    async with running_scheduler(ledger, sqlite_url, sms_url=sms.url) as scheduler:
        task_id = tee_deal(ledger, callback=REQUESTER.address)
        await scheduler.tick()
        async with aclosing(SimWorker(scheduler, ledger, WORKER_KEYS[1], "tee")) as worker:
            await join(worker, tee=True)
            assert await worker.ask() is not None
            await compute_tee(worker, task_id)
            chain_receipt = await contribute_and_finalize(worker, task_id, keccak_hex(callback), b"", callback)
            await report_done(worker, task_id, chainCallbackData="0x" + callback.hex(), chainReceipt=chain_receipt)
            body = await until_status(worker, task_id, "COMPLETED")
    assert body["chainCallbackData"] == "0x" + callback.hex()
    assert body.get("resultLink") is None
    assert ledger.chain.view_task(task_id).results_callback == callback


async def test_a_tee_task_fails_running_when_every_alive_worker_failed_before_computing(ledger, sqlite_url, sms):
    async with running_scheduler(ledger, sqlite_url, sms_url=sms.url) as scheduler:
        task_id = tee_deal(ledger)
        await scheduler.tick()
        async with (
            aclosing(SimWorker(scheduler, ledger, WORKER_KEYS[1], "tee")) as worker,
            aclosing(SimWorker(scheduler, ledger, WORKER_KEYS[2], "standard")) as standard,
        ):
            # an alive standard worker is never given the task, so it does not keep it running
            await join(standard, tee=False)
            assert await standard.ask() is None
            await join(worker, tee=True)
            assert await worker.ask() is not None
            await worker.report(task_id, "STARTING", "PLEASE_CONTINUE")
            await worker.report(task_id, "STARTED", "PLEASE_DOWNLOAD_APP")
            await worker.report(task_id, "APP_DOWNLOADING", "PLEASE_CONTINUE")
            await worker.report(task_id, "APP_DOWNLOAD_FAILED", "PLEASE_ABORT", cause="APP_NOT_FOUND_LOCALLY")
            body = await until_status(worker, task_id, "FAILED")
            notification = await worker.next_notification()
    failure = next(c for c in body["dateStatusList"] if c["status"] == "RUNNING_FAILED")
    assert failure["cause"] == "ALL_ALIVE_WORKERS_FAILED" and "APP_DOWNLOAD_FAILED" in failure["message"]
    assert notification.taskNotificationType.value == "PLEASE_ABORT"


async def test_an_sms_of_another_framework_fails_the_task_naming_its_url(ledger, sqlite_url):
    with StandInSms(framework="SCONE") as other:
        async with running_scheduler(ledger, sqlite_url, sms_url=other.url) as scheduler:
            task_id = tee_deal(ledger)
            await scheduler.tick()
            details = await scheduler.store.task_details(task_id)
    assert [c["status"] for c in details.changes] == ["RECEIVED", "INITIALIZE_FAILED", "FAILED"]
    failure = details.changes[1]
    assert failure["cause"] == "SMS_FRAMEWORK_MISMATCH"
    assert failure["message"] == f"the SMS {other.url} serves SCONE, the task asks for GRAMINE"
    assert other.challenges == []
    assert_task_failed(
        {"statusHistory": details.changes},
        status="INITIALIZE_FAILED",
        cause="SMS_FRAMEWORK_MISMATCH",
        error=other.url,
        component="scheduler",
        fix="Buy the task with the framework this pool serves",
    )


async def test_an_unreachable_sms_fails_the_task_naming_its_url(ledger, sqlite_url):
    with StandInSms() as gone:
        url = gone.url
    async with running_scheduler(ledger, sqlite_url, sms_url=url) as scheduler:
        task_id = tee_deal(ledger)
        await scheduler.tick()
        details = await scheduler.store.task_details(task_id)
    failure = details.changes[1]
    assert (failure["status"], failure["cause"]) == ("INITIALIZE_FAILED", "SMS_UNREACHABLE")
    assert url in failure["message"] and "\n" not in failure["message"]
    assert_task_failed(
        {"statusHistory": details.changes},
        status="INITIALIZE_FAILED",
        cause="SMS_UNREACHABLE",
        error=url,
        component="scheduler",
        fix="must check the SMS",
    )


async def test_a_tee_task_without_an_sms_still_fails_to_initialize(ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        task_id = tee_deal(ledger)
        await scheduler.tick()
        details = await scheduler.store.task_details(task_id)
    assert [(c["status"], c["cause"]) for c in details.changes][1:] == [
        ("INITIALIZE_FAILED", "TEE_NOT_SUPPORTED"),
        ("FAILED", None),
    ]
    assert_task_failed(
        {"statusHistory": details.changes},
        status="INITIALIZE_FAILED",
        cause="TEE_NOT_SUPPORTED",
        error="this workerpool has no SMS for it",
        component="scheduler",
        fix="start an SMS",
    )


# ----- `python -m pocopool.scheduler --sms URL` as a real process -------------------------------------


def scheduler_command(tmp_path: Path, ledger: Ledger, port: int, sms_url: str) -> list[str]:
    key_file = tmp_path / "scheduler.key"
    key_file.write_text(SCHEDULER_KEY + "\n")
    return [
        sys.executable,
        "-m",
        "pocopool.scheduler",
        "--chain",
        f"local:{tmp_path / 'chain.db'}",
        "--key-file",
        str(key_file),
        "--workerpool",
        ledger.workerpool,
        "--db",
        f"sqlite:///{tmp_path / 'scheduler.db'}",
        "--port",
        str(port),
        "--ask-period-ms",
        "0",
        "--results-url",
        "http://results.test",
        "--poll-interval",
        "0.1",
        "--detector-period",
        "0.5",
        "--sms",
        sms_url,
    ]


def test_a_bad_sms_url_is_refused_in_one_line(tmp_path, ledger):
    done = subprocess.run(
        scheduler_command(tmp_path, ledger, free_port(), "sms.test:80"),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == ["pocopool scheduler: argument --sms: 'sms.test:80' is not an http(s) URL (see --help)"], (
        done.stderr
    )


async def test_the_scheduler_process_with_an_sms_drives_a_tee_task_to_completed(tmp_path, ledger, sms):
    port = free_port()
    process = subprocess.Popen(
        scheduler_command(tmp_path, ledger, port, sms.url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    served = SimpleNamespace(url=f"http://127.0.0.1:{port}")
    try:
        async with aclosing(SimWorker(served, ledger, WORKER_KEYS[1], "tee")) as worker:  # type: ignore[arg-type]

            async def healthy():
                try:
                    return (await worker.http.get("/health")).status_code == 200
                except httpx.TransportError:
                    assert process.poll() is None, process.stderr.read() if process.stderr else ""
                    return False

            await wait_for(healthy, 30, 0.1)
            task_id = tee_deal(ledger)
            await until_status(worker, task_id, "INITIALIZED")
            await join(worker, tee=True)
            summary = await wait_for(worker.ask, 10, 0.1)
            assert summary.smsUrl == sms.url and summary.workerpoolAuthorization.enclaveChallenge == ENCLAVE.address
            await compute_tee(worker, task_id)
            digest = keccak_hex(b"tee result")
            chain_receipt = await contribute_and_finalize(worker, task_id, digest, LINK.encode())
            await report_done(worker, task_id, resultLink=LINK, chainReceipt=chain_receipt)
            body = await until_status(worker, task_id, "COMPLETED")
        assert body["resultLink"] == LINK
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        stderr = process.stderr.read() if process.stderr else ""
        assert f"sms.call task={task_id} action=enclave_challenge sms={sms.url} answer={ENCLAVE.address}" in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_a_contribute_and_finalize_never_reported_is_found_on_chain_by_a_detector(ledger, sqlite_url, sms):
    async with running_scheduler(ledger, sqlite_url, sms_url=sms.url) as scheduler:
        task_id = tee_deal(ledger)
        await scheduler.tick()
        async with aclosing(SimWorker(scheduler, ledger, WORKER_KEYS[1], "tee")) as worker:
            await join(worker, tee=True)
            assert await worker.ask() is not None
            await compute_tee(worker, task_id)
            await contribute_and_finalize(worker, task_id, keccak_hex(b"tee result"), LINK.encode())
            # the worker dies before reporting CONTRIBUTE_AND_FINALIZE_DONE
            body = await until_status(worker, task_id, "COMPLETED")
    [replicate] = body["replicates"]
    done = next(u for u in replicate["statusUpdateList"] if u["status"] == "CONTRIBUTE_AND_FINALIZE_DONE")
    assert done["modifier"] == "POOL_MANAGER"
    assert body["resultLink"] == LINK


# ----- with the real SMS process ---------------------------------------------------------------------

PLATFORM = Account.from_key("0x" + "5a" * 32)  # the tee-sim platform key the SMS trusts


@pytest.fixture
def real_sms(ledger: Ledger, tmp_path: Path) -> Iterator[SimpleNamespace]:
    """`python -m pocopool.sms` over the test's LocalChain file."""
    port = free_port()
    log = (tmp_path / "sms.log").open("wb")
    chain_path = tmp_path / "chain.db"  # the ledger fixture's file (same test, same tmp_path)
    assert chain_path.exists()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pocopool.sms",
            "--chain",
            f"local:{chain_path}",
            "--home",
            str(tmp_path / "sms"),
            "--port",
            str(port),
            "--result-proxy",
            "http://127.0.0.1:9",
            "--trust-platform",
            PLATFORM.address,
            *pinned_programs(),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            assert process.poll() is None, (tmp_path / "sms.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        else:
            pytest.fail("the SMS did not answer /health")
        yield SimpleNamespace(url=url)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, (tmp_path / "sms.log").read_text()
        log.close()


async def test_with_the_real_sms_the_enclave_key_that_signs_is_the_challenge_the_scheduler_got(
    ledger, sqlite_url, real_sms
):
    """The scheduler asks the real SMS for the challenge; the worker opens a session; the post-compute
    enclave (simulated: a quote signed by the platform key) receives the challenge's private key, signs
    the result, and the chain accepts the contributeAndFinalize: the task completes."""
    from pocopool.protocol.tee import EnclaveConfig, Stage, new_enclave_key, sign_quote, unseal
    from pocopool.teesim.measurements import program_measurement

    config = EnclaveConfig("GRAMINE", "tee-sim-1", "python3", 2**20, "ab" * 32)
    app = ledger.chain.create_app(
        APP_OWNER, "probe-tee", "http://files.test/probe.tgz", "0x" + "ab" * 32, mrenclave=config.to_json()
    ).return_value
    callback = b"\x00" * 31 + b"\x07"
    request = DealRequest(
        app=app,
        workerpool=ledger.workerpool,
        category=ledger.category,
        trust=1,
        tag=TEE_TAG,
        params="{}",
        callback=REQUESTER.address,
    )
    [task_id] = ledger.task_ids(ledger.chain.create_deal(REQUESTER, request).return_value)
    async with running_scheduler(ledger, sqlite_url, sms_url=real_sms.url) as scheduler:
        await scheduler.tick()
        async with (
            aclosing(SimWorker(scheduler, ledger, WORKER_KEYS[1], "tee")) as worker,
            httpx.AsyncClient(base_url=real_sms.url, timeout=15) as sms,
        ):
            await join(worker, tee=True)
            summary = await wait_for(worker.ask, 20, 0.2)
            authorization = worker.authorizations[task_id]
            assert summary.smsUrl == real_sms.url and authorization["enclaveChallenge"] != crypto.ZERO_ADDRESS
            await compute_tee(worker, task_id)
            session = await sms.post(
                "/tee/sessions",
                json=authorization,
                headers={
                    "Authorization": crypto.sign_personal(
                        crypto.key_hex(worker.account),
                        crypto.authorization_hash(worker.wallet, task_id, authorization["enclaveChallenge"]),
                    )
                },
            )
            assert session.status_code == 200, session.text
            session_id = session.json()["data"]["sessionId"]
            private, public = new_enclave_key()
            measurement = program_measurement(Stage.POST)
            sealed = await sms.post(
                f"/tee/sessions/{session_id}/{Stage.POST.value}/secrets",
                json={
                    "measurement": measurement,
                    "enclavePublicKey": public,
                    "quote": sign_quote(crypto.key_hex(PLATFORM), session_id, Stage.POST, measurement, public),
                },
            )
            assert sealed.status_code == 200, sealed.text
            env = json.loads(unseal(private, sealed.json()["sealed"]))["env"]
            enclave_key = env["SIGN_TEE_CHALLENGE_PRIVATE_KEY"]
            assert crypto.address_of(enclave_key) == authorization["enclaveChallenge"]
            assert env["RESULT_STORAGE_CALLBACK"] == "true"
            digest = keccak_hex(callback)
            await worker.report(task_id, "CONTRIBUTE_AND_FINALIZE_ONGOING", "PLEASE_CONTINUE")
            receipt = await asyncio.to_thread(
                ledger.chain.contribute_and_finalize,
                worker.account,
                task_id,
                digest,
                b"",
                callback,
                authorization["enclaveChallenge"],
                sign_enclave_result(enclave_key, worker.wallet, task_id, digest),
                authorization["signature"]["value"],
            )
            await report_done(
                worker,
                task_id,
                chainCallbackData="0x" + callback.hex(),
                chainReceipt={"blockNumber": receipt.block_number, "txHash": receipt.tx_hash},
            )
            body = await until_status(worker, task_id, "COMPLETED")
    assert body["chainCallbackData"] == "0x" + callback.hex()
    assert ledger.chain.view_task(task_id).status is ChainTaskStatus.COMPLETED
