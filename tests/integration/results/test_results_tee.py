"""The result store's TEE path (docs/tee.md "Result store"), over real HTTP against the real
`python -m pocopool.results` process and a real LocalChain with TEE deals.

Each refusal must answer its 4xx with a one-line JSON error and leave nothing stored.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from pocopool.chain.base import DealRequest  # noqa: E402
from pocopool.chain.local import LocalChain  # noqa: E402
from pocopool.protocol.crypto import (  # noqa: E402
    ZERO_ADDRESS,
    authorization_hash,
    key_hex,
    result_link,
    sha256_hex,
    sign_authorization,
    sign_personal,
)
from pocopool.protocol.tags import int_to_tag  # noqa: E402
from pocopool.protocol.tee import SIM_FRAMEWORK_TAG, sign_enclave_result  # noqa: E402
from pocopool.protocol.time import SystemClock  # noqa: E402
from pocopool.results import auth  # noqa: E402
from pocopool.results.tokens import SECRET_FILE  # noqa: E402

DIGEST = "0x" + "ab" * 32
ENCRYPTED = b"\x8a\x01not a zip: an encrypted result the store cannot open\x00\xff" * 10


@dataclass
class World:
    chain: LocalChain
    scheduler: LocalAccount
    beneficiary: LocalAccount
    worker: LocalAccount
    tee_tasks: list[str]
    standard_tasks: list[str]
    deal_id: str
    url: str
    data_dir: Path
    used: int = 0

    def next_task(self) -> str:
        """A fresh TEE task, initialized (ACTIVE) on chain."""
        task = self.tee_tasks[self.used]
        self.chain.initialize(self.scheduler, self.deal_id, self.used)
        self.used += 1
        return task

    def stored(self) -> list[str]:
        return sorted(path.name for path in self.data_dir.iterdir() if path.suffix == ".zip")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("tee-results")
    owner, scheduler, requester, beneficiary, worker = (Account.create() for _ in range(5))
    chain = LocalChain.create(tmp / "chain.db", owner.address, chain_id=65535, clock=SystemClock())
    for account in (scheduler, requester, worker):
        chain.mint(owner, account.address, 10**12)
    pool = chain.create_workerpool(scheduler, "tee results pool").return_value
    app = chain.create_app(
        owner, "hello", "http://127.0.0.1:1/hello.tar.gz", "0x" + "11" * 32, mrenclave='{"provider":"GRAMINE"}'
    ).return_value
    tee_deal = chain.create_deal(
        requester,
        DealRequest(
            app=app,
            workerpool=pool,
            category=0,
            trust=1,
            volume=20,
            beneficiary=beneficiary.address,
            tag=int_to_tag(SIM_FRAMEWORK_TAG),
        ),
    ).return_value
    standard_deal = chain.create_deal(
        requester,
        DealRequest(
            app=app,
            workerpool=pool,
            category=0,
            trust=1,
            volume=1,
            beneficiary=beneficiary.address,
        ),
    ).return_value
    chain.initialize(scheduler, standard_deal, 0)
    tee, standard = chain.view_deal(tee_deal), chain.view_deal(standard_deal)
    assert tee is not None and standard is not None
    port = _free_port()
    data_dir = tmp / "results"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pocopool.results",
            "--chain",
            f"local:{tmp / 'chain.db'}",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--public-url",
            "http://results.example",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()
                time.sleep(0.05)
        yield World(chain, scheduler, beneficiary, worker, tee.task_ids(), standard.task_ids(), tee_deal, url, data_dir)
    finally:
        process.terminate()
        process.wait(timeout=10)
        chain.close()


def authorization(world: World, task: str, challenge: str, signer: LocalAccount | None = None) -> dict[str, object]:
    deal = world.chain.view_task(task).deal_id
    idx = world.chain.view_task(task).idx
    signature = sign_authorization(key_hex(signer or world.scheduler), world.worker.address, task, challenge)
    return {
        "chainTaskId": task,
        "dealId": deal,
        "taskIndex": idx,
        "workerWallet": world.worker.address,
        "enclaveChallenge": challenge,
        "signature": {"value": signature},
    }


def ask_token(
    world: World,
    task: str,
    challenge: str,
    *,
    body: object = None,
    worker_key: str | None = None,
    signer: LocalAccount | None = None,
) -> httpx.Response:
    payload = authorization(world, task, challenge, signer) if body is None else body
    worker_signature = sign_personal(
        worker_key or key_hex(world.worker), authorization_hash(world.worker.address, task, challenge)
    )
    return httpx.post(
        f"{world.url}/results/{task}/token",
        json=payload,
        headers={auth.WORKER_SIGNATURE_HEADER: worker_signature},
        timeout=10,
    )


def token_for(world: World, task: str, enclave: LocalAccount) -> str:
    response = ask_token(world, task, enclave.address)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def tee_put(
    world: World,
    task: str,
    token: str,
    enclave_key: str,
    body: bytes = ENCRYPTED,
    digest: str = DIGEST,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Result-Digest": digest,
        "X-Enclave-Signature": sign_enclave_result(enclave_key, world.worker.address, task, digest),
        **(extra or {}),
    }
    return httpx.put(f"{world.url}/results/{task}", content=body, headers=headers, timeout=10)


def assert_refused(world: World, response: httpx.Response, status: int, words: str) -> None:
    before = response.request.url
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert words in error, error
    assert "\n" not in error
    assert f"{str(before).rsplit('/', 1)[-1]}.zip" not in world.stored()


# ----- the token ------------------------------------------------------------------------------------


def test_a_token_names_the_task_worker_and_challenge_and_expires_at_the_final_deadline(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    token = token_for(world, task, enclave)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {
        "task": task,
        "worker": world.worker.address.lower(),
        "enclaveChallenge": enclave.address.lower(),
        "exp": world.chain.view_task(task).final_deadline,
    }
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    secret = world.data_dir / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.read_bytes().hex() not in token


def test_a_token_needs_the_worker_signature_header(world: World) -> None:
    task = world.next_task()
    response = httpx.post(
        f"{world.url}/results/{task}/token", json=authorization(world, task, ZERO_ADDRESS), timeout=10
    )
    assert_refused(world, response, 401, "X-Worker-Signature header is missing")


def test_a_token_needs_a_workerpool_authorization_body(world: World) -> None:
    task = world.next_task()
    assert_refused(
        world, ask_token(world, task, Account.create().address, body={"hello": 1}), 400, "not a WorkerpoolAuthorization"
    )


def test_a_token_needs_an_enclave_challenge(world: World) -> None:
    task = world.next_task()
    assert_refused(world, ask_token(world, task, ZERO_ADDRESS), 400, "no enclave challenge")


def test_a_token_for_an_authorization_of_another_task_is_400(world: World) -> None:
    task, other = world.next_task(), world.next_task()
    challenge = Account.create().address
    body = authorization(world, other, challenge)
    assert_refused(world, ask_token(world, task, challenge, body=body), 400, "is for task")


def test_a_token_with_a_wrong_worker_signature_is_401(world: World) -> None:
    task = world.next_task()
    response = ask_token(world, task, Account.create().address, worker_key=key_hex(Account.create()))
    assert_refused(world, response, 401, "is not")


def test_a_token_for_an_authorization_not_signed_by_the_pool_owner_is_403(world: World) -> None:
    task = world.next_task()
    response = ask_token(world, task, Account.create().address, signer=Account.create())
    assert_refused(world, response, 403, "not signed by the owner of the deal's workerpool")


def test_a_token_for_a_standard_task_is_403(world: World) -> None:
    task = world.standard_tasks[0]
    assert_refused(world, ask_token(world, task, Account.create().address), 403, "is not a TEE task")


def test_a_token_for_a_task_not_on_chain_is_404(world: World) -> None:
    task, challenge = world.tee_tasks[-1], Account.create().address  # never initialized
    signature = sign_authorization(key_hex(world.scheduler), world.worker.address, task, challenge)
    body = {
        "chainTaskId": task,
        "dealId": world.deal_id,
        "taskIndex": len(world.tee_tasks) - 1,
        "workerWallet": world.worker.address,
        "enclaveChallenge": challenge,
        "signature": {"value": signature},
    }
    assert_refused(world, ask_token(world, task, challenge, body=body), 404, "is not known on chain")


def test_a_token_for_a_completed_task_is_409(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    contribute_and_finalize(world, task, enclave)
    assert_refused(world, ask_token(world, task, enclave.address), 409, "COMPLETED on chain, not ACTIVE")


def contribute_and_finalize(world: World, task: str, enclave: LocalAccount, digest: str = DIGEST) -> None:
    world.chain.contribute_and_finalize(
        world.worker,
        task,
        digest,
        b"",
        b"",
        enclave.address,
        sign_enclave_result(key_hex(enclave), world.worker.address, task, digest),
        sign_authorization(key_hex(world.scheduler), world.worker.address, task, enclave.address),
    )


# ----- the upload -----------------------------------------------------------------------------------


def test_the_enclave_uploads_an_opaque_result_once_and_the_beneficiary_downloads_it(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    token = token_for(world, task, enclave)
    response = tee_put(world, task, token, key_hex(enclave))
    assert response.status_code == 201, response.text
    assert response.json() == {
        "resultLink": result_link("pocopool", f"http://results.example/results/{task}"),
        "sha256": sha256_hex(ENCRYPTED),
    }
    assert (world.data_dir / f"{task}.zip").read_bytes() == ENCRYPTED
    # The chain accepts the same digest and enclave signature afterwards (contributeAndFinalize).
    contribute_and_finalize(world, task, enclave)
    download = httpx.get(
        f"{world.url}/results/{task}",
        timeout=10,
        headers=auth.download_headers(key_hex(world.beneficiary), task, int(time.time())),
    )
    assert download.status_code == 200 and download.content == ENCRYPTED
    again = tee_put(world, task, token, key_hex(enclave), body=b"another result")
    assert again.status_code == 409, again.text
    assert (world.data_dir / f"{task}.zip").read_bytes() == ENCRYPTED


def test_a_second_upload_while_active_is_409_and_keeps_the_first(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    token = token_for(world, task, enclave)
    assert tee_put(world, task, token, key_hex(enclave)).status_code == 201
    again = tee_put(world, task, token, key_hex(enclave), body=b"second")
    assert again.status_code == 409 and again.json()["sha256"] == sha256_hex(ENCRYPTED), again.text


def test_a_token_of_another_task_is_403(world: World) -> None:
    task, other, enclave = world.next_task(), world.next_task(), Account.create()
    token = token_for(world, other, enclave)
    assert_refused(world, tee_put(world, task, token, key_hex(enclave)), 403, "bearer token is for task")


def test_a_tampered_or_foreign_token_is_401(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    claims = jwt.decode(token_for(world, task, enclave), options={"verify_signature": False})
    forged = jwt.encode(claims, b"x" * 32, algorithm="HS256")
    assert_refused(world, tee_put(world, task, forged, key_hex(enclave)), 401, "not issued by this result store")
    assert_refused(world, tee_put(world, task, "not-a-jwt", key_hex(enclave)), 401, "not a readable JWT")
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert_refused(world, tee_put(world, task, unsigned, key_hex(enclave)), 401, "bearer token")


def test_an_enclave_signature_not_from_the_tokens_challenge_is_403(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    token = token_for(world, task, enclave)
    assert_refused(world, tee_put(world, task, token, key_hex(Account.create())), 403, "enclave signature")


def test_a_signature_over_another_digest_is_403(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    token = token_for(world, task, enclave)
    signature = sign_enclave_result(key_hex(enclave), world.worker.address, task, "0x" + "cd" * 32)
    response = tee_put(world, task, token, key_hex(enclave), extra={"X-Enclave-Signature": signature})
    assert_refused(world, response, 403, "enclave signature")


def test_missing_or_malformed_result_headers_are_refused(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    token = token_for(world, task, enclave)
    response = httpx.put(
        f"{world.url}/results/{task}", content=ENCRYPTED, timeout=10, headers={"Authorization": f"Bearer {token}"}
    )
    assert_refused(world, response, 401, "X-Result-Digest header is missing")
    assert_refused(
        world,
        tee_put(world, task, token, key_hex(enclave), extra={"X-Result-Digest": "0x12"}),
        400,
        "X-Result-Digest header is not",
    )
    assert_refused(
        world,
        tee_put(world, task, token, key_hex(enclave), extra={"X-Enclave-Signature": "0x12"}),
        400,
        "X-Enclave-Signature header is not",
    )


def test_an_upload_after_the_task_completed_is_409(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    token = token_for(world, task, enclave)
    contribute_and_finalize(world, task, enclave)
    assert_refused(world, tee_put(world, task, token, key_hex(enclave)), 409, "COMPLETED on chain")


def test_an_empty_result_is_400(world: World) -> None:
    task, enclave = world.next_task(), Account.create()
    token = token_for(world, task, enclave)
    assert_refused(world, tee_put(world, task, token, key_hex(enclave), body=b""), 400, "empty")


def test_a_bearer_upload_with_a_bad_task_id_is_400(world: World) -> None:
    response = httpx.put(
        f"{world.url}/results/0x12", content=ENCRYPTED, timeout=10, headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 400 and "not a task id" in response.json()["error"]
