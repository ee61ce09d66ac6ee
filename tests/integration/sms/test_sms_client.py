"""The requester's SMS client (what `dataset deploy --key-file`, `keys result-key` and the SDK use),
against the real SMS process: owners' pushes land, anyone else gets one line naming the secret,
never its value. And the worker's session client: a refusal's code is its replicate cause."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
from eth_account import Account
from sms_world import Sms

from pocopool.client.errors import ClientError, ServiceUnavailable
from pocopool.client.sms import SmsClient
from pocopool.protocol import encryption
from pocopool.protocol.crypto import key_hex
from pocopool.protocol.models import WorkerpoolAuthorization
from pocopool.protocol.statuses import ReplicateStatusCause as Cause
from pocopool.protocol.tee import SecretKind
from pocopool.worker.tee.session import TeeRefused, create_session


def test_the_owners_push_their_keys_and_secrets(sms: Sms) -> None:
    w = sms.world
    dataset_key = encryption.new_dataset_key()
    # the module's SMS is shared: the dataset and app may already have theirs (then replaced)
    SmsClient(sms.url, key_hex(w.dataset_owner)).push_dataset_key(w.dataset, dataset_key)
    assert sms.http.head(f"/secrets/dataset/{w.dataset}/key").status_code == 200
    SmsClient(sms.url, key_hex(w.app_owner)).push_app_secret(w.app, "developer-secret")
    assert sms.http.head(f"/secrets/app/{w.app}/1").status_code == 200
    beneficiary = SmsClient(sms.url, key_hex(Account.create()))
    assert not beneficiary.has_result_key(beneficiary.address)
    _, public_pem = encryption.generate_rsa_keypair()
    assert beneficiary.push_result_key(encryption.public_key_b64(public_pem)) is True
    assert beneficiary.has_result_key(beneficiary.address)
    requester = SmsClient(sms.url, key_hex(Account.create()))
    assert requester.push_requester_secret("api-key", "v1") is True
    assert requester.push_requester_secret("api-key", "v2") is False  # replaced
    assert requester.exists(SecretKind.REQUESTER, requester.address, "api-key")


def test_someone_else_is_refused_in_one_line_without_the_value(sms: Sms) -> None:
    w = sms.world
    with pytest.raises(ClientError) as refused:
        SmsClient(sms.url, key_hex(w.stranger)).push_dataset_key(w.dataset, "c3RvbGVuLWtleS12YWx1ZQ==")
    message = str(refused.value)
    assert "403" in message and "dataset secret 'key'" in message and "\n" not in message
    assert "c3RvbGVuLWtleS12YWx1ZQ==" not in message


def test_an_sms_that_does_not_answer_says_where() -> None:
    with pytest.raises(ServiceUnavailable, match="the SMS at http://127.0.0.1:9 did not answer"):
        SmsClient("http://127.0.0.1:9", key_hex(Account.create()), timeout=2).push_requester_secret("n", "v")


async def test_the_worker_reads_its_replicate_cause_from_the_sms_refusal_of_a_session(sms: Sms) -> None:
    w = sms.world
    task = w.task(params={"iexec_secrets": {"1": "never-pushed"}})
    challenge = sms.challenge(task).json()["address"]
    sms.push(w.dataset_owner, "dataset", w.dataset, "key", "ZGF0YXNldC1rZXk=")
    authorization = WorkerpoolAuthorization.model_validate(sms.authorization(task, challenge))
    ctx = SimpleNamespace(
        state=SimpleNamespace(workerpool_authorization=authorization),
        services=SimpleNamespace(config=SimpleNamespace(private_key=key_hex(w.worker), faults=())),
    )
    async with httpx.AsyncClient(timeout=10) as http:
        with pytest.raises(TeeRefused) as refused:
            await create_session(ctx, http, sms.url)  # type: ignore[arg-type]
    assert refused.value.cause is Cause.TEE_SESSION_GENERATION_SECURE_SESSION_GENERATION_FAILED
    assert "404 SECURE_SESSION_GENERATION_FAILED" in refused.value.message and "never-pushed" in refused.value.message
