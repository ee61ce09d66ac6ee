"""The result store over real HTTP, against a real LocalChain whose task was contributed and revealed.

Each refusal must answer its 4xx with a JSON error and leave nothing stored.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from pocopool.chain.base import DealRequest  # noqa: E402
from pocopool.chain.local import LocalChain  # noqa: E402
from pocopool.protocol.crypto import (  # noqa: E402
    ZERO_ADDRESS,
    key_hex,
    result_hash,
    result_link,
    result_seal,
    sha256_hex,
    sign_authorization,
)
from pocopool.protocol.digest import file_digest, folder_digest  # noqa: E402
from pocopool.protocol.time import SystemClock  # noqa: E402
from pocopool.results import ResultStore, auth, create_app  # noqa: E402
from pocopool.service.server import running as serving  # noqa: E402

GREETING = b"Hello, World!\n"
STANDARD_ENCLAVE_SIGN = "0x" + "00" * 32


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def hello_zip(greeting: bytes = GREETING) -> bytes:
    return make_zip(
        {
            "computed.json": json.dumps({"deterministic-output-path": "/iexec_out/greeting.txt"}).encode(),
            "greeting.txt": greeting,
            "stdout.txt": b"hello: wrote greeting.txt\n",
        }
    )


@dataclass
class Pool:
    """A LocalChain with one deal of several tasks, run by one scheduler, for one beneficiary."""

    chain: LocalChain
    owner: LocalAccount
    scheduler: LocalAccount
    requester: LocalAccount
    beneficiary: LocalAccount
    workers: list[LocalAccount]
    deal_id: str
    task_ids: list[str]

    def contribute(self, index: int, worker: LocalAccount, digest: str) -> str:
        task = self.task_ids[index]
        if self.chain.view_task(task).status.value == "UNSET":
            self.chain.initialize(self.scheduler, self.deal_id, index)
        authorization = sign_authorization(key_hex(self.scheduler), worker.address, task)
        self.chain.contribute(
            worker,
            task,
            result_hash(task, digest),
            result_seal(worker.address, task, digest),
            ZERO_ADDRESS,
            STANDARD_ENCLAVE_SIGN,
            authorization,
        )
        return task

    def reveal(self, index: int, worker: LocalAccount, digest: str) -> str:
        task = self.contribute(index, worker, digest)
        self.chain.reveal(worker, task, digest)
        return task


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[Pool]:
    owner, scheduler, requester, beneficiary = (Account.create() for _ in range(4))
    workers = [Account.create() for _ in range(2)]
    chain = LocalChain.create(tmp_path / "chain.db", owner.address, chain_id=65535, clock=SystemClock())
    for account in (scheduler, requester, *workers):
        chain.mint(owner, account.address, 10**12)
    workerpool = chain.create_workerpool(scheduler, "results test pool").return_value
    app = chain.create_app(owner, "hello", "http://127.0.0.1:1/bundles/hello.tar.gz", "0x" + "11" * 32).return_value
    deal_id = chain.create_deal(
        requester,
        DealRequest(
            app=app,
            workerpool=workerpool,
            category=0,
            trust=1,
            volume=6,
            beneficiary=beneficiary.address,
        ),
    ).return_value
    deal = chain.view_deal(deal_id)
    assert deal is not None
    yield Pool(chain, owner, scheduler, requester, beneficiary, workers, deal_id, deal.task_ids())
    chain.close()


@dataclass
class Service:
    url: str
    store: ResultStore
    client: httpx.AsyncClient


@pytest.fixture
async def service(pool: Pool, tmp_path: Path) -> AsyncIterator[Service]:
    store = ResultStore(tmp_path / "results")
    app = create_app(pool.chain, store, "http://results.example:8080")
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield Service(url, store, client)


def upload_headers(
    pool: Pool, task: str, body: bytes, worker: LocalAccount, authorizer: LocalAccount | None = None
) -> dict[str, str]:
    authorization = auth.sign_upload_authorization(key_hex(authorizer or pool.scheduler), worker.address, task)
    return auth.upload_headers(key_hex(worker), worker.address, task, body, authorization)


async def put(
    service: Service, pool: Pool, task: str, body: bytes, worker: LocalAccount, authorizer: LocalAccount | None = None
) -> httpx.Response:
    """A worker's upload of `body` as the result of `task`, authorized by the scheduler (or `authorizer`)."""
    headers = upload_headers(pool, task, body, worker, authorizer)
    return await service.client.put(f"/results/{task}", content=body, headers=headers)


async def get(service: Service, task: str, key: LocalAccount, timestamp: int | None = None) -> httpx.Response:
    """A download of `task` signed by `key` at `timestamp` (now by default)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return await service.client.get(f"/results/{task}", headers=auth.download_headers(key_hex(key), task, timestamp))


def stored_files(service: Service) -> list[str]:
    return sorted(path.name for path in service.store.root.iterdir() if path.is_file())


async def assert_refused(service: Service, response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["error"]
    assert stored_files(service) == []
    assert list((service.store.root / ".tmp").iterdir()) == []


# ----- the happy path -------------------------------------------------------------------------------


async def test_the_revealed_worker_uploads_and_the_beneficiary_downloads(pool: Pool, service: Service) -> None:
    body = hello_zip()
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    assert (await service.client.head(f"/results/{task}")).status_code == 404

    response = await put(service, pool, task, body, pool.workers[0])
    assert response.status_code == 201, response.text
    assert response.json() == {
        "resultLink": result_link("pocopool", f"http://results.example:8080/results/{task}"),
        "sha256": sha256_hex(body),
    }
    assert (await service.client.head(f"/results/{task}")).status_code == 200

    download = await get(service, task, pool.beneficiary)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.content == body


async def test_a_folder_result_is_checked_against_its_folder_digest(pool: Pool, service: Service) -> None:
    entries = {
        "computed.json": json.dumps({"deterministic-output-path": "/iexec_out/out"}).encode(),
        "out/b.txt": b"B",
        "out/a.txt": b"A",
    }
    digest = folder_digest([("out/a.txt", b"A"), ("out/b.txt", b"B")])
    task = pool.reveal(0, pool.workers[0], digest)
    body = make_zip(entries)
    response = await put(service, pool, task, body, pool.workers[0])
    assert response.status_code == 201, response.text


# ----- refused uploads ------------------------------------------------------------------------------


async def test_a_bad_task_id_is_400(pool: Pool, service: Service) -> None:
    body = hello_zip()
    headers = upload_headers(pool, pool.task_ids[0], body, pool.workers[0])
    response = await service.client.put("/results/0x1234", content=body, headers=headers)
    await assert_refused(service, response, 400, "is not a task id")
    assert (await service.client.head("/results/0x1234")).status_code == 400


async def test_an_unknown_task_is_404(pool: Pool, service: Service) -> None:
    body = hello_zip()
    task = pool.task_ids[5]  # in the deal's bag but never initialized
    response = await put(service, pool, task, body, pool.workers[0])
    await assert_refused(service, response, 404, "not known on chain")
    other = "0x" + "77" * 32
    response = await put(service, pool, other, body, pool.workers[0])
    await assert_refused(service, response, 404, "not known on chain")


async def test_an_authorization_not_from_the_scheduler_is_403(pool: Pool, service: Service) -> None:
    body = hello_zip()
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    response = await put(service, pool, task, body, pool.workers[0], authorizer=pool.requester)
    await assert_refused(service, response, 403, "not authorized by the workerpool's scheduler")


async def test_an_authorization_for_another_worker_is_403(pool: Pool, service: Service) -> None:
    body = hello_zip()
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    headers = upload_headers(pool, task, body, pool.workers[0])
    for_other_worker = auth.sign_upload_authorization(key_hex(pool.scheduler), pool.workers[1].address, task)
    headers[auth.UPLOAD_AUTHORIZATION_HEADER] = for_other_worker
    response = await service.client.put(f"/results/{task}", content=body, headers=headers)
    await assert_refused(service, response, 403, "not authorized by the workerpool's scheduler")


async def test_a_wrong_worker_signature_is_401(pool: Pool, service: Service) -> None:
    body = hello_zip()
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    signed_other_body = upload_headers(pool, task, hello_zip(b"Hello, Mallory!\n"), pool.workers[0])
    response = await service.client.put(f"/results/{task}", content=body, headers=signed_other_body)
    await assert_refused(service, response, 401, auth.WORKER_SIGNATURE_HEADER)

    signed_by_other_key = upload_headers(pool, task, body, pool.workers[0])
    other_signature = upload_headers(pool, task, body, pool.workers[1])[auth.WORKER_SIGNATURE_HEADER]
    signed_by_other_key[auth.WORKER_SIGNATURE_HEADER] = other_signature
    response = await service.client.put(f"/results/{task}", content=body, headers=signed_by_other_key)
    await assert_refused(service, response, 401, auth.WORKER_SIGNATURE_HEADER)


async def test_a_worker_that_did_not_reveal_is_403(pool: Pool, service: Service) -> None:
    body = hello_zip()
    contributed = pool.contribute(1, pool.workers[0], file_digest(GREETING))
    response = await put(service, pool, contributed, body, pool.workers[0])
    await assert_refused(service, response, 403, "has not revealed")

    revealed = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    stranger = pool.workers[1]  # never contributed to this task, though the scheduler authorized it
    response = await put(service, pool, revealed, body, stranger)
    await assert_refused(service, response, 403, "has not revealed")


async def test_a_second_upload_is_409_and_keeps_the_first(pool: Pool, service: Service) -> None:
    body = hello_zip()
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    assert (await put(service, pool, task, body, pool.workers[0])).status_code == 201
    again = await put(service, pool, task, body, pool.workers[0])
    assert again.status_code == 409
    assert "already stored" in again.json()["error"]
    # What a worker whose first answer was lost needs to recognise its own upload.
    assert again.json()["sha256"] == sha256_hex(body)
    assert again.json()["resultLink"] == result_link("pocopool", f"http://results.example:8080/results/{task}")
    other = hello_zip(b"Hello again!\n")
    assert (await put(service, pool, task, other, pool.workers[0])).json()["sha256"] == sha256_hex(body)
    assert stored_files(service) == [f"{task}.zip"]
    assert service.store.path_of(task).read_bytes() == body


async def test_a_zip_whose_digest_differs_is_422(pool: Pool, service: Service) -> None:
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    body = hello_zip(b"Hello, Mallory!\n")
    response = await put(service, pool, task, body, pool.workers[0])
    await assert_refused(service, response, 422, file_digest(GREETING))
    assert file_digest(b"Hello, Mallory!\n") in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [b"this is not a zip", hello_zip()[:-40], make_zip({"greeting.txt": GREETING})],
    ids=["not-a-zip", "truncated-zip", "other-zip"],
)  # fixed ids: zips hold a date
async def test_a_malformed_zip_is_422(pool: Pool, service: Service, body: bytes) -> None:
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    response = await put(service, pool, task, body, pool.workers[0])
    await assert_refused(service, response, 422, "the result zip is refused")


async def test_a_zip_with_path_tricks_is_422(pool: Pool, service: Service) -> None:
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    body = make_zip(
        {
            "computed.json": json.dumps({"deterministic-output-path": "/iexec_out/greeting.txt"}).encode(),
            "greeting.txt": GREETING,
            "../../outside.txt": b"x",
        }
    )
    response = await put(service, pool, task, body, pool.workers[0])
    await assert_refused(service, response, 422, "'..'")


# ----- downloads ------------------------------------------------------------------------------------


@pytest.fixture
async def uploaded(pool: Pool, service: Service) -> str:
    body = hello_zip()
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    response = await put(service, pool, task, body, pool.workers[0])
    assert response.status_code == 201, response.text
    return task


async def test_a_stale_download_timestamp_is_401(pool: Pool, service: Service, uploaded: str) -> None:
    for timestamp in (int(time.time()) - 400, int(time.time()) + 400):
        response = await get(service, uploaded, pool.beneficiary, timestamp)
        assert response.status_code == 401
        assert auth.DOWNLOAD_TIMESTAMP_HEADER in response.json()["error"]


async def test_a_download_signed_for_another_time_reads_as_another_signer(
    pool: Pool, service: Service, uploaded: str
) -> None:
    now = int(time.time())
    headers = auth.download_headers(key_hex(pool.beneficiary), uploaded, now)
    headers[auth.DOWNLOAD_TIMESTAMP_HEADER] = str(now - 1)
    response = await service.client.get(f"/results/{uploaded}", headers=headers)
    assert response.status_code == 403
    assert "not the beneficiary" in response.json()["error"]


async def test_an_unreadable_download_signature_is_401(pool: Pool, service: Service, uploaded: str) -> None:
    headers = {
        auth.DOWNLOAD_TIMESTAMP_HEADER: str(int(time.time())),
        auth.DOWNLOAD_SIGNATURE_HEADER: "0x" + "00" * 65,  # r = s = 0: no signer
    }
    response = await service.client.get(f"/results/{uploaded}", headers=headers)
    assert response.status_code == 401
    assert "not a valid signature" in response.json()["error"]


async def test_a_download_by_another_key_is_403(pool: Pool, service: Service, uploaded: str) -> None:
    for key in (pool.requester, pool.workers[0], pool.scheduler):
        response = await get(service, uploaded, key)
        assert response.status_code == 403
        assert "not the beneficiary" in response.json()["error"]


async def test_a_download_without_headers_is_401(service: Service, uploaded: str) -> None:
    response = await service.client.get(f"/results/{uploaded}")
    assert response.status_code == 401


async def test_a_download_of_a_result_never_uploaded_is_404(pool: Pool, service: Service) -> None:
    task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
    response = await get(service, task, pool.beneficiary)
    assert response.status_code == 404
    assert "no result is stored" in response.json()["error"]
    response = await get(service, "0x" + "77" * 32, pool.beneficiary)
    assert response.status_code == 404
    assert "not known on chain" in response.json()["error"]


# ----- the command ----------------------------------------------------------------------------------


def test_the_command_serves_the_chain_file_and_stops_cleanly_on_sigterm(pool: Pool, tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    data_dir = tmp_path / "command-results"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pocopool.results",
            "--chain",
            f"local:{tmp_path / 'chain.db'}",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--public-url",
            "http://results.example",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()
                time.sleep(0.05)
        assert health.json() == {"status": "ok"}
        body = hello_zip()
        task = pool.reveal(0, pool.workers[0], file_digest(GREETING))
        response = httpx.put(
            f"http://127.0.0.1:{port}/results/{task}",
            content=body,
            headers=upload_headers(pool, task, body, pool.workers[0]),
            timeout=10,
        )
        assert response.status_code == 201, response.text
        assert response.json()["resultLink"] == result_link("pocopool", f"http://results.example/results/{task}")
        assert (data_dir / f"{task}.zip").read_bytes() == body
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
