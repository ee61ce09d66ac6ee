"""`POST /tee/sessions`: every check of docs/tee.md in its order, then the three stages' env.

Each check that fails raises a session refusal (errors.session_refusal) with its own cause, so the worker can name what is
wrong; nothing is stored before every check passed. The env holds secrets: it is sealed at rest
(store.py) and leaves the SMS only sealed to an attested enclave (provisioning.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..chain.aio import chain_read
from ..chain.base import Chain, ChainError, ChainTask, Deal
from ..protocol.crypto import (
    ZERO_ADDRESS,
    authorization_hash,
    normalize_address,
    recover_authorization_signer,
    recover_personal,
    same_address,
)
from ..protocol.crypto import (
    task_id as compute_task_id,
)
from ..protocol.models import WorkerpoolAuthorization
from ..protocol.params import DealParams
from ..protocol.statuses import ChainTaskStatus
from ..protocol.statuses import ReplicateStatusCause as Cause
from ..protocol.tags import is_tee
from ..protocol.tee import (
    APP_SECRET_NAME,
    DATASET_KEY_NAME,
    DROPBOX_TOKEN,
    IPFS_TOKEN,
    RESULT_ENCRYPTION_KEY,
    EnclaveConfig,
    EnclaveConfigError,
    SecretKind,
    Stage,
    requester_secret_env,
)
from ..protocol.time import task_deadlines
from ..service.errors import BadRequest, Conflict, Internal, NotFound, Unauthorized
from .errors import session_refusal
from .store import Challenge, SmsStore
from .vault import VaultError

IEXEC_IN = "/iexec_in"
DEFAULT_SESSION_LIFETIME = 100 * 3600  # seconds, when the task's final deadline cannot be read
STORAGE_PROVIDERS = ("ipfs", "dropbox")


@dataclass(frozen=True)
class SessionPlan:
    """What a session is made of once every check passed."""

    task_id: str
    worker: str
    app_fingerprint: str
    envs: dict[Stage, dict[str, str]]
    expires: int


async def _read(chain: Chain, cause: Cause, what: str, method: Any, *args: Any) -> Any:
    try:
        return await chain_read(chain, method, *args)
    except ChainError as error:
        raise session_refusal(Internal, cause, f"the chain could not be read ({what}): {error}") from None


def parse_authorization(body: bytes) -> WorkerpoolAuthorization:
    if not body.strip():
        raise session_refusal(BadRequest, Cause.TEE_SESSION_GENERATION_NO_SESSION_REQUEST, "the request has no body")
    try:
        authorization = WorkerpoolAuthorization.model_validate_json(body)
    except ValidationError as error:
        errors = error.errors()
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        if all(_empty_field(e) for e in errors):
            missing = ", ".join(".".join(str(part) for part in e["loc"]) for e in errors)
            raise session_refusal(
                BadRequest,
                Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_EMPTY_PARAMS_UNAUTHORIZED,
                f"the authorization has no {missing}",
            ) from None
        raise session_refusal(
            BadRequest,
            Cause.TEE_SESSION_GENERATION_NO_SESSION_REQUEST,
            f"the body is not a WorkerpoolAuthorization: {where}: {first['msg']}",
        ) from None
    if compute_task_id(authorization.dealId, authorization.taskIndex).lower() != authorization.chainTaskId.lower():
        raise session_refusal(
            BadRequest,
            Cause.TEE_SESSION_GENERATION_NO_SESSION_REQUEST,
            "chainTaskId is not the task of dealId and taskIndex",
        )
    return authorization


def _empty_field(error: Any) -> bool:
    """A field of a JSON object that is missing, null or empty ("", {}): a request that says what it
    is but not which task or worker, as opposed to a body that is no authorization at all."""
    if not error["loc"]:
        return False
    return error["type"] == "missing" or error.get("input") in ("", None, {})


def check_worker_signature(authorization: WorkerpoolAuthorization, signature: str | None) -> None:
    signer = None
    if signature:
        signer = recover_personal(
            authorization_hash(authorization.workerWallet, authorization.chainTaskId, authorization.enclaveChallenge),
            signature.strip(),
        )
    if not same_address(signer, authorization.workerWallet):
        raise session_refusal(
            Unauthorized,
            Cause.TEE_SESSION_GENERATION_INVALID_AUTHORIZATION,
            f"the Authorization header is not {authorization.workerWallet}'s signature of its authorization",
        )


async def _task_and_deal(chain: Chain, task_id: str) -> tuple[ChainTask, Deal]:
    task: ChainTask = await _read(
        chain,
        Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_TASK_FAILED,
        "task",
        chain.view_task,
        task_id,
    )
    if task.status == ChainTaskStatus.UNSET:
        raise session_refusal(
            NotFound,
            Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_TASK_FAILED,
            f"task {task_id} is not on chain",
        )
    if task.status != ChainTaskStatus.ACTIVE:
        raise session_refusal(
            Conflict,
            Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_TASK_NOT_ACTIVE,
            f"task {task_id} is {task.status.value} on chain, not ACTIVE",
        )
    deal: Deal | None = await _read(
        chain,
        Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_DEAL_FAILED,
        "deal",
        chain.view_deal,
        task.deal_id,
    )
    if deal is None:
        raise session_refusal(
            NotFound,
            Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_DEAL_FAILED,
            f"deal {task.deal_id} of task {task_id} is not on chain",
        )
    if not is_tee(deal.tag):
        raise session_refusal(
            Conflict,
            Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_NO_MATCH_ONCHAIN_TYPE,
            f"deal {deal.deal_id} is not a TEE deal (tag {deal.tag})",
        )
    return task, deal


async def _check_pool_signature(chain: Chain, authorization: WorkerpoolAuthorization, deal: Deal) -> None:
    pool = await _read(
        chain,
        Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_DEAL_FAILED,
        "workerpool",
        chain.view_workerpool,
        deal.workerpool.pointer,
    )
    signer = recover_authorization_signer(
        authorization.workerWallet,
        authorization.chainTaskId,
        authorization.enclaveChallenge,
        authorization.signature.value,
    )
    if pool is None or not same_address(signer, pool.owner):
        raise session_refusal(
            Unauthorized,
            Cause.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_INVALID_SIGNATURE,
            f"the authorization is not signed by the owner of workerpool {deal.workerpool.pointer}",
        )


async def _challenge(store: SmsStore, authorization: WorkerpoolAuthorization) -> Challenge:
    try:
        challenge = await store.challenge(authorization.chainTaskId)
    except VaultError as error:
        raise session_refusal(
            Internal,
            Cause.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CREDENTIALS,
            f"the enclave challenge of task {authorization.chainTaskId} is stored but its key cannot be opened: {error}",
        ) from None
    if challenge is None:
        raise session_refusal(
            Conflict,
            Cause.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE,
            f"no enclave challenge was generated for task {authorization.chainTaskId}",
        )
    if authorization.enclaveChallenge == ZERO_ADDRESS or not same_address(
        challenge.address, authorization.enclaveChallenge
    ):
        raise session_refusal(
            Conflict,
            Cause.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_PUBLIC_ENCLAVE_CHALLENGE,
            f"the authorization's enclave challenge {authorization.enclaveChallenge} is not the task's",
        )
    return challenge


async def _enclave_config(chain: Chain, deal: Deal) -> EnclaveConfig:
    app = await _read(
        chain, Cause.TEE_SESSION_GENERATION_GET_TASK_DESCRIPTION_FAILED, "app", chain.view_app, deal.app.pointer
    )
    mrenclave = "" if app is None else app.mrenclave
    if not mrenclave.strip():
        raise session_refusal(
            Conflict,
            Cause.TEE_SESSION_GENERATION_APP_COMPUTE_NO_ENCLAVE_CONFIG,
            f"app {deal.app.pointer} has no enclave configuration (empty mrenclave)",
        )
    try:
        return EnclaveConfig.parse(mrenclave)
    except EnclaveConfigError as error:
        raise session_refusal(
            Conflict,
            Cause.TEE_SESSION_GENERATION_APP_COMPUTE_INVALID_ENCLAVE_CONFIG,
            f"app {deal.app.pointer}: {error}",
        ) from None


async def _expires(chain: Chain, task: ChainTask, deal: Deal) -> int:
    if task.final_deadline:
        return task.final_deadline
    try:
        category = await chain_read(chain, chain.view_category, deal.category)
        return task_deadlines(deal.start_time, category.work_clock_time_ref).final
    except ChainError:
        return await chain_read(chain, chain.now) + DEFAULT_SESSION_LIFETIME


async def plan_session(
    chain: Chain, store: SmsStore, result_proxy: str, body: bytes, signature: str | None
) -> SessionPlan:
    """Every check in the order of docs/tee.md, then the env of each stage."""
    authorization = parse_authorization(body)
    check_worker_signature(authorization, signature)
    task_id = authorization.chainTaskId.lower()
    task, deal = await _task_and_deal(chain, task_id)
    await _check_pool_signature(chain, authorization, deal)
    challenge = await _challenge(store, authorization)
    config = await _enclave_config(chain, deal)
    params = DealParams.parse(deal.params)
    worker = normalize_address(authorization.workerWallet)
    signing = {
        "IEXEC_TASK_ID": task_id,
        "SIGN_WORKER_ADDRESS": worker,
        "SIGN_TEE_CHALLENGE_PRIVATE_KEY": challenge.private_key,
    }

    pre = {**signing, "IEXEC_PRE_COMPUTE_OUT": IEXEC_IN, "IS_DATASET_REQUIRED": str(deal.has_dataset).lower()}
    if deal.has_dataset:
        dataset_key = await store.get_secret(SecretKind.DATASET, deal.dataset.pointer, DATASET_KEY_NAME)
        if dataset_key is None:
            raise session_refusal(
                NotFound,
                Cause.TEE_SESSION_GENERATION_PRE_COMPUTE_GET_DATASET_SECRET_FAILED,
                f"no key was pushed for dataset {deal.dataset.pointer}",
            )
        dataset = await _read(
            chain,
            Cause.TEE_SESSION_GENERATION_GET_TASK_DESCRIPTION_FAILED,
            "dataset",
            chain.view_dataset,
            deal.dataset.pointer,
        )
        if dataset is None:
            raise session_refusal(
                Internal,
                Cause.TEE_SESSION_GENERATION_NO_TASK_DESCRIPTION,
                f"dataset {deal.dataset.pointer} of the deal is not on chain",
            )
        pre.update(
            IEXEC_DATASET_KEY=dataset_key,
            IEXEC_DATASET_URL=dataset.multiaddr,
            IEXEC_DATASET_FILENAME=normalize_address(dataset.address),
            IEXEC_DATASET_CHECKSUM=dataset.checksum,
        )
    pre.update(
        IEXEC_DEAL_ID=deal.deal_id,
        IEXEC_TASK_INDEX=str(task.idx),
        IEXEC_INPUT_FILES_FOLDER=IEXEC_IN,
        IEXEC_INPUT_FILES_NUMBER=str(len(params.iexec_input_files)),
    )
    for index, url in enumerate(params.iexec_input_files, start=1):
        pre[f"IEXEC_INPUT_FILE_URL_{index}"] = url

    app: dict[str, str] = {}
    developer_secret = await store.get_secret(SecretKind.APP, deal.app.pointer, APP_SECRET_NAME)
    if developer_secret is not None:
        app["IEXEC_APP_DEVELOPER_SECRET"] = developer_secret
        app["IEXEC_APP_DEVELOPER_SECRET_1"] = developer_secret
    for slot, secret_name in sorted(params.iexec_secrets.items()):
        value = await store.get_secret(SecretKind.REQUESTER, deal.requester, secret_name)
        if value is None:
            raise session_refusal(
                NotFound,
                Cause.TEE_SESSION_GENERATION_SECURE_SESSION_GENERATION_FAILED,
                f"requester {deal.requester} has no secret named {secret_name!r} (iexec_secrets entry {slot})",
            )
        app[requester_secret_env(slot)] = value

    post = {
        **signing,
        "RESULT_ENCRYPTION": str(params.iexec_result_encryption).lower(),
        "RESULT_ENCRYPTION_PUBLIC_KEY": "",
    }
    if params.iexec_result_encryption:
        key = await store.get_secret(SecretKind.WEB2, deal.beneficiary, RESULT_ENCRYPTION_KEY)
        if key is None:
            raise session_refusal(
                NotFound,
                Cause.TEE_SESSION_GENERATION_POST_COMPUTE_GET_ENCRYPTION_TOKENS_FAILED_EMPTY_BENEFICIARY_KEY,
                f"result encryption is asked but beneficiary {deal.beneficiary} pushed no {RESULT_ENCRYPTION_KEY}",
            )
        post["RESULT_ENCRYPTION_PUBLIC_KEY"] = key
    provider = params.iexec_result_storage_provider.lower() or "ipfs"
    post.update(
        RESULT_STORAGE_CALLBACK=str(deal.has_callback).lower(),
        RESULT_STORAGE_PROVIDER=provider,
        RESULT_STORAGE_PROXY=params.iexec_result_storage_proxy or result_proxy,
        RESULT_STORAGE_TOKEN=await _storage_token(store, deal, worker, provider),
    )
    return SessionPlan(
        task_id,
        worker,
        config.fingerprint,
        {Stage.PRE: pre, Stage.APP: app, Stage.POST: post},
        await _expires(chain, task, deal),
    )


async def _storage_token(store: SmsStore, deal: Deal, worker: str, provider: str) -> str:
    """The worker's result-store token, else the requester's; dropbox: the requester's. A callback
    deal uploads nothing, so it needs none."""
    if deal.has_callback:
        return ""
    if provider not in STORAGE_PROVIDERS:
        raise session_refusal(
            Conflict,
            Cause.TEE_SESSION_GENERATION_POST_COMPUTE_GET_STORAGE_TOKENS_FAILED,
            f"unknown result storage provider {provider!r} (expected ipfs or dropbox)",
        )
    owners = (deal.requester,) if provider == "dropbox" else (worker, deal.requester)
    name = DROPBOX_TOKEN if provider == "dropbox" else IPFS_TOKEN
    for owner in owners:
        token = await store.get_secret(SecretKind.WEB2, owner, name)
        if token:
            return token
    raise session_refusal(
        NotFound,
        Cause.TEE_SESSION_GENERATION_POST_COMPUTE_GET_STORAGE_TOKENS_FAILED,
        f"no {name} was pushed by {' or '.join(owners)}",
    )


def describe(plan: SessionPlan) -> str:
    """The session's shape for a log line: stage → variable names, never values."""
    return json.dumps({stage.value: sorted(env) for stage, env in plan.envs.items()})
