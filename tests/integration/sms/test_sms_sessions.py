"""TEE sessions: each refusal with its own cause, then attested provisioning of each stage."""

from __future__ import annotations

import json

import httpx
import pytest
from eth_account import Account
from sms_world import FINGERPRINT, RESULT_PROXY, Sms

from pocopool.protocol.crypto import ZERO_ADDRESS, key_hex, sign_authorization
from pocopool.protocol.statuses import ReplicateStatusCause as Cause
from pocopool.protocol.tee import (
    SESSION_ERROR_PREFIX,
    Stage,
    new_enclave_key,
    sign_enclave_result,
    sign_quote,
    unseal,
)
from pocopool.teesim.measurements import program_measurement
from pocopool.worker.tee.session import TeeRefused, session_of
from proving import Report, assert_reported

IPFS = "iexec-result-iexec-ipfs-token"


def worker_reports(answer: httpx.Response) -> list[Report]:
    """What a worker's START reports of this answer of the SMS (worker/tee/session.py session_of,
    stages/start.py): START_FAILED with the cause the SMS named and its message."""
    try:
        session_of(answer)
    except TeeRefused as refusal:
        return [("START_FAILED", refusal.cause.value, refusal.message)]
    return [("STARTED", None, None)]


def refused(answer: httpx.Response, cause: Cause, status: int, *, error: str, component: str, fix: str) -> dict:
    """The SMS refused the session with `status` and `cause`'s code, in one line holding `error`, and
    the worker reports that cause, explained as `component`'s with `fix`."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == cause.value.removeprefix(SESSION_ERROR_PREFIX), body
    assert "\n" not in body["error"]
    assert_reported(
        worker_reports(answer), status="START_FAILED", cause=cause.value, error=error, component=component, fix=fix
    )
    return body


WORKER_FAULT = "A worker fault: report it"


def ready_task(sms: Sms, **deal: object) -> tuple[str, str]:
    """An initialized TEE task with its challenge and the secrets a plain session needs."""
    w = sms.world
    task = w.task(**deal)
    challenge = sms.challenge(task).json()["address"]
    sms.push(w.dataset_owner, "dataset", w.dataset, "key", "ZGF0YXNldC1rZXk=")
    sms.push(w.worker, "web2", w.worker.address, IPFS, "worker-token")
    return task, challenge


def test_a_missing_or_malformed_body_is_no_session_request(sms: Sms) -> None:
    refused(
        sms.http.post("/tee/sessions"),
        Cause.TEE_SESSION_GENERATION_NO_SESSION_REQUEST,
        400,
        error="the request has no body",
        component="worker",
        fix=WORKER_FAULT,
    )
    refused(
        sms.http.post("/tee/sessions", json={"chainTaskId": "0x12"}),
        Cause.TEE_SESSION_GENERATION_NO_SESSION_REQUEST,
        400,
        error="the body is not a WorkerpoolAuthorization: chainTaskId:",
        component="worker",
        fix=WORKER_FAULT,
    )


def test_a_wrong_worker_signature_is_invalid_authorization(sms: Sms) -> None:
    task, challenge = ready_task(sms)
    answer = sms.session(sms.authorization(task, challenge), worker_key=sms.world.stranger)
    refused(
        answer,
        Cause.TEE_SESSION_GENERATION_INVALID_AUTHORIZATION,
        401,
        error=f"the Authorization header is not {sms.world.worker.address}'s signature of its authorization",
        component="worker",
        fix=WORKER_FAULT,
    )


def test_a_task_not_on_chain_cannot_get_a_session(sms: Sms) -> None:
    w = sms.world
    deal_id = w.deal_id()
    task = w.chain.view_deal(deal_id).task_ids()[0]  # type: ignore[union-attr]
    worker = w.worker.address
    authorization = {
        "chainTaskId": task,
        "dealId": deal_id,
        "taskIndex": 0,
        "workerWallet": worker,
        "enclaveChallenge": ZERO_ADDRESS,
        "signature": {"value": sign_authorization(key_hex(w.pool_owner), worker, task)},
    }
    refused(
        sms.session(authorization),
        Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_TASK_FAILED,
        404,
        error=f"task {task} is not on chain",
        component="chain",
        fix="Check that the SMS reads the workerpool's chain",
    )


def test_a_standard_deal_is_no_match_onchain_type(sms: Sms) -> None:
    task = sms.world.task(tee=False)
    challenge = sms.challenge(task).json()["address"]
    refused(
        sms.session(sms.authorization(task, challenge)),
        Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_NO_MATCH_ONCHAIN_TYPE,
        409,
        error="is not a TEE deal (tag 0x" + "0" * 64 + ")",
        component="scheduler",
        fix="A scheduler or worker fault",
    )


def test_an_authorization_not_signed_by_the_pool_owner_is_invalid_signature(sms: Sms) -> None:
    task, challenge = ready_task(sms)
    answer = sms.session(sms.authorization(task, challenge, signer=sms.world.stranger))
    refused(
        answer,
        Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_INVALID_SIGNATURE,
        401,
        error=f"the authorization is not signed by the owner of workerpool {sms.world.workerpool}",
        component="scheduler",
        fix="Check that the scheduler signs with the workerpool owner's wallet",
    )


def test_no_challenge_and_another_challenge_are_refused(sms: Sms) -> None:
    task = sms.world.task()
    refused(
        sms.session(sms.authorization(task, Account.create().address)),
        Cause.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE,
        409,
        error=f"no enclave challenge was generated for task {task}",
        component="scheduler",
        fix="Check that the scheduler and its workers use the same SMS",
    )
    sms.challenge(task)
    other = Account.create().address
    refused(
        sms.session(sms.authorization(task, other)),
        Cause.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_PUBLIC_ENCLAVE_CHALLENGE,
        409,
        error=f"the authorization's enclave challenge {other} is not the task's",
        component="scheduler",
        fix="Check that the scheduler and its workers use the same SMS",
    )


@pytest.mark.parametrize(
    "mrenclave, cause, error",
    [
        ("   ", Cause.TEE_SESSION_GENERATION_APP_COMPUTE_NO_ENCLAVE_CONFIG, "has no enclave configuration"),
        ('{"framework":"SCONE"}', Cause.TEE_SESSION_GENERATION_APP_COMPUTE_INVALID_ENCLAVE_CONFIG, "SCONE"),
    ],
)
def test_an_app_without_a_valid_enclave_configuration_is_refused(
    sms: Sms, mrenclave: str, cause: Cause, error: str
) -> None:
    app = sms.world.new_app(mrenclave)
    task, challenge = ready_task(sms, app=app)
    body = refused(
        sms.session(sms.authorization(task, challenge)),
        cause,
        409,
        error=error,
        component="app",
        fix="(pocopool app deploy --tee)",
    )
    assert body["error"].startswith(f"app {app}")


def test_missing_secrets_each_have_their_cause(sms: Sms) -> None:
    w = sms.world
    dataset = w.chain.create_dataset(
        w.dataset_owner, "no key", "http://files.example/d2", "0x" + "33" * 32
    ).return_value
    w.dataset, original = dataset, w.dataset
    try:
        task = w.task()
    finally:
        w.dataset = original
    challenge = sms.challenge(task).json()["address"]
    refused(
        sms.session(sms.authorization(task, challenge)),
        Cause.TEE_SESSION_GENERATION_PRE_COMPUTE_GET_DATASET_SECRET_FAILED,
        404,
        error=f"no key was pushed for dataset {dataset}",
        component="storage",
        fix="The dataset's owner must push the dataset's key",
    )

    task, challenge = ready_task(sms, params={"iexec_secrets": {"1": "never-pushed"}})
    refused(
        sms.session(sms.authorization(task, challenge)),
        Cause.TEE_SESSION_GENERATION_SECURE_SESSION_GENERATION_FAILED,
        404,
        error=f"requester {w.requester.address} has no secret named 'never-pushed' (iexec_secrets entry 1)",
        component="requester",
        fix="Push the secret to the workerpool's SMS",
    )

    task, challenge = ready_task(sms, params={"iexec_result_encryption": True})
    refused(
        sms.session(sms.authorization(task, challenge)),
        Cause.TEE_SESSION_GENERATION_POST_COMPUTE_GET_ENCRYPTION_TOKENS_FAILED_EMPTY_BENEFICIARY_KEY,
        404,
        error=f"beneficiary {w.beneficiary.address} pushed no iexec-result-encryption-public-key",
        component="requester",
        fix="The beneficiary must push its result encryption public key",
    )

    task, challenge = ready_task(sms, params={"iexec_result_storage_provider": "dropbox"})
    refused(
        sms.session(sms.authorization(task, challenge)),
        Cause.TEE_SESSION_GENERATION_POST_COMPUTE_GET_STORAGE_TOKENS_FAILED,
        404,
        error="no iexec-result-dropbox-token was pushed by",
        component="requester",
        fix="Push a token of the storage provider the deal names",
    )


def test_a_callback_deal_needs_no_storage_token(sms: Sms) -> None:
    w = sms.world
    task = w.task(dataset=False, callback=Account.create().address, params={"iexec_result_storage_provider": "dropbox"})
    challenge = sms.challenge(task).json()["address"]
    answer = sms.session(sms.authorization(task, challenge))
    assert answer.status_code == 200, answer.text
    post = provision(sms, answer.json()["data"]["sessionId"], Stage.POST)
    assert post["RESULT_STORAGE_CALLBACK"] == "true" and post["RESULT_STORAGE_TOKEN"] == ""
    pre = provision(sms, answer.json()["data"]["sessionId"], Stage.PRE)
    assert pre["IS_DATASET_REQUIRED"] == "false" and "IEXEC_DATASET_KEY" not in pre


def provision(sms: Sms, session_id: str, stage: Stage, *, platform=None, measurement: str | None = None) -> dict:
    answer = quote(sms, session_id, stage, platform=platform, measurement=measurement)
    assert answer.status_code == 200, answer.text
    return answer.private_env  # type: ignore[attr-defined]


def quote(sms: Sms, session_id: str, stage: Stage, *, platform=None, measurement: str | None = None) -> httpx.Response:
    if measurement is None:
        measurement = FINGERPRINT if stage == Stage.APP else program_measurement(stage)
    private, public = new_enclave_key()
    signature = sign_quote(key_hex(platform or sms.world.platform), session_id, stage, measurement, public)
    answer = sms.http.post(
        f"/tee/sessions/{session_id}/{stage.value}/secrets",
        json={"measurement": measurement, "enclavePublicKey": public, "quote": signature},
    )
    if answer.status_code == 200:
        answer.private_env = json.loads(unseal(private, answer.json()["sealed"]))["env"]  # type: ignore[attr-defined]
    return answer


def test_each_attested_stage_gets_only_its_own_secrets(sms: Sms) -> None:
    w = sms.world
    params = {
        "iexec_secrets": {"1": "api-key"},
        "iexec_result_encryption": True,
        "iexec_input_files": ["http://files.example/in1.txt", "http://files.example/in2.txt"],
    }
    task, challenge = ready_task(sms, params=params)
    sms.push(w.requester, "requester", w.requester.address, "api-key", "requester-api-key")
    sms.push(w.beneficiary, "web2", w.beneficiary.address, "iexec-result-encryption-public-key", "UEVNLWtleQ==")
    sms.push(w.app_owner, "app", w.app, "1", "developer-secret")
    answer = sms.session(sms.authorization(task, challenge))
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["secretProvisioningUrl"] == sms.url
    session_id = data["sessionId"]

    pre = provision(sms, session_id, Stage.PRE)
    app = provision(sms, session_id, Stage.APP)
    post = provision(sms, session_id, Stage.POST)
    dataset = w.chain.view_dataset(w.dataset)
    assert pre["IEXEC_TASK_ID"] == task and pre["SIGN_WORKER_ADDRESS"] == w.worker.address
    assert Account.from_key(pre["SIGN_TEE_CHALLENGE_PRIVATE_KEY"]).address == challenge
    assert pre["IEXEC_DATASET_KEY"] == "ZGF0YXNldC1rZXk=" and pre["IEXEC_DATASET_URL"] == dataset.multiaddr
    assert pre["IEXEC_DATASET_CHECKSUM"] == dataset.checksum and pre["IS_DATASET_REQUIRED"] == "true"
    assert pre["IEXEC_DATASET_FILENAME"].lower() == w.dataset.lower() and pre["IEXEC_PRE_COMPUTE_OUT"] == "/iexec_in"
    assert pre["IEXEC_INPUT_FILES_NUMBER"] == "2"
    assert pre["IEXEC_INPUT_FILE_URL_2"] == "http://files.example/in2.txt"
    assert app == {
        "IEXEC_APP_DEVELOPER_SECRET": "developer-secret",
        "IEXEC_APP_DEVELOPER_SECRET_1": "developer-secret",
        "IEXEC_REQUESTER_SECRET_1": "requester-api-key",
    }
    assert post["RESULT_ENCRYPTION"] == "true" and post["RESULT_ENCRYPTION_PUBLIC_KEY"] == "UEVNLWtleQ=="
    assert post["RESULT_STORAGE_PROVIDER"] == "ipfs" and post["RESULT_STORAGE_PROXY"] == RESULT_PROXY
    assert post["RESULT_STORAGE_TOKEN"] == "worker-token" and post["RESULT_STORAGE_CALLBACK"] == "false"
    assert post["SIGN_TEE_CHALLENGE_PRIVATE_KEY"] == pre["SIGN_TEE_CHALLENGE_PRIVATE_KEY"]
    secret_values = {"ZGF0YXNldC1rZXk=", "requester-api-key", "developer-secret", "UEVNLWtleQ==", "worker-token"}
    assert not secret_values & set(pre.values()) - {"ZGF0YXNldC1rZXk="}
    assert not secret_values & set(post.values()) - {"UEVNLWtleQ==", "worker-token"}
    log = sms.log_path.read_text()
    assert not [value for value in secret_values | {pre["SIGN_TEE_CHALLENGE_PRIVATE_KEY"]} if value in log]

    # A finished task gets no new session: contributeAndFinalize with the enclave key, then ask again.
    digest = "0x" + "44" * 32
    enclave_sign = sign_enclave_result(pre["SIGN_TEE_CHALLENGE_PRIVATE_KEY"], w.worker.address, task, digest)
    w.chain.contribute_and_finalize(
        w.worker,
        task,
        digest,
        b"results",
        b"",
        challenge,
        enclave_sign,
        sign_authorization(key_hex(w.pool_owner), w.worker.address, task, challenge),
    )
    refused(
        sms.session(sms.authorization(task, challenge)),
        Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_TASK_NOT_ACTIVE,
        409,
        error=f"task {task} is COMPLETED on chain, not ACTIVE",
        component="chain",
        fix="Nothing if the task had ended",
    )


def test_untrusted_quotes_wrong_measurements_and_unknown_sessions_are_refused(sms: Sms) -> None:
    task, challenge = ready_task(sms)
    session_id = sms.session(sms.authorization(task, challenge)).json()["data"]["sessionId"]
    untrusted = quote(sms, session_id, Stage.PRE, platform=Account.create())
    assert untrusted.status_code == 403 and untrusted.json()["code"] == "ATTESTATION_FAILED"
    for stage, wrong in (
        (Stage.PRE, program_measurement(Stage.POST)),
        (Stage.APP, "cd" * 32),
        (Stage.POST, FINGERPRINT),
    ):
        answer = quote(sms, session_id, stage, measurement=wrong)
        assert answer.status_code == 403 and answer.json()["code"] == "ATTESTATION_FAILED", answer.text
    unknown = quote(sms, "f" * 32, Stage.PRE)
    assert unknown.status_code == 404 and unknown.json()["code"] == "UNKNOWN_SESSION"
    bad = sms.http.post(f"/tee/sessions/{session_id}/pre-compute/secrets", json={"measurement": "zz"})
    assert bad.status_code == 400 and bad.json()["code"] == "BAD_REQUEST"
