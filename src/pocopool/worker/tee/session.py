"""TEE START (spec/worker.md §6.1 step 3–5, docs/tee.md "Flows"): check the app's enclave
configuration, get a result-store token and push it to the SMS, and create the enclave session.

Every refusal is one cause: TEE_NOT_SUPPORTED, UNKNOWN_SMS, PRE_COMPUTE_{MISSING,INVALID}_ENCLAVE_*,
GET_TEE_SERVICES_CONFIGURATION_FAILED, or the SMS's TEE_SESSION_GENERATION_* error.
"""

from __future__ import annotations

import json

import httpx

from ...protocol.crypto import authorization_hash, sign_personal
from ...protocol.http import WORKER_SIGNATURE_HEADER, error_body
from ...protocol.models import WorkerpoolAuthorization
from ...protocol.statuses import ReplicateStatusCause as Cause
from ...protocol.tee import (
    IPFS_TOKEN,
    SESSION_ERROR_PREFIX,
    SIM_FRAMEWORK,
    EnclaveConfig,
    EnclaveConfigError,
    SecretKind,
    sign_secret_push,
)
from ..context import ReplicateContext
from ..description import TaskDescription
from . import faults

TIMEOUT = 30.0


class TeeRefused(Exception):
    def __init__(self, cause: Cause, message: str) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message


def enclave_config(description: TaskDescription, max_heap_mb: int) -> EnclaveConfig:
    """The app's on-chain enclave configuration, checked against what this worker allows."""
    mrenclave = description.app.mrenclave or ""
    if not mrenclave.strip():
        raise TeeRefused(
            Cause.PRE_COMPUTE_MISSING_ENCLAVE_CONFIGURATION,
            f"app {description.app.address} has no enclave configuration (empty mrenclave)",
        )
    try:
        config = EnclaveConfig.parse(mrenclave)
    except EnclaveConfigError as error:
        raise TeeRefused(
            Cause.PRE_COMPUTE_INVALID_ENCLAVE_CONFIGURATION, f"app {description.app.address}: {error}"
        ) from error
    if config.heap_size > max_heap_mb * 2**20:
        raise TeeRefused(
            Cause.PRE_COMPUTE_INVALID_ENCLAVE_HEAP_CONFIGURATION,
            f"the app asks for an enclave heap of {config.heap_size // 2**20} MiB; this worker allows "
            f"{max_heap_mb} MiB (--tee-max-heap-mb)",
        )
    return config


def _worker_signature(ctx: ReplicateContext, authorization: WorkerpoolAuthorization) -> str:
    return sign_personal(
        ctx.services.config.private_key,
        authorization_hash(authorization.workerWallet, authorization.chainTaskId, authorization.enclaveChallenge),
    )


def _refusal_text(answer: httpx.Response) -> tuple[str, str]:
    """The refusal's code ("" without one) and its sentence."""
    found = error_body(answer)
    return found.code or "", found.sentence(200)


async def push_storage_token(ctx: ReplicateContext, http: httpx.AsyncClient, sms: str, proxy: str) -> None:
    """The result store's token for this task, pushed as the worker's web2 secret (failures are only
    logged, as the reference: the session then falls back to the requester's token)."""
    authorization = ctx.state.workerpool_authorization
    task = authorization.chainTaskId
    try:
        answer = await http.post(
            f"{proxy}/results/{task}/token",
            content=json.dumps(authorization.wire()),
            headers={
                WORKER_SIGNATURE_HEADER: _worker_signature(ctx, authorization),
                "Content-Type": "application/json",
            },
        )
        if answer.status_code != 200:
            ctx.log.warning("tee-token-refused", status=answer.status_code, message=_refusal_text(answer)[1])
            return
        token = answer.json()["token"]
        wallet = ctx.wallet
        pushed = await http.put(
            f"{sms}/secrets/{SecretKind.WEB2.value}/{wallet}/{IPFS_TOKEN}",
            content=token.encode(),
            headers={
                "Authorization": sign_secret_push(
                    ctx.services.config.private_key, SecretKind.WEB2, wallet, IPFS_TOKEN, token
                )
            },
        )
        if pushed.status_code not in (200, 201):
            ctx.log.warning("tee-token-push-refused", status=pushed.status_code, message=_refusal_text(pushed)[1])
            return
        ctx.log.info("tee-token-pushed", proxy=proxy)
    except (httpx.HTTPError, ValueError, KeyError) as error:
        ctx.log.warning("tee-token-failed", error=f"{type(error).__name__}: {error}")


async def create_session(ctx: ReplicateContext, http: httpx.AsyncClient, sms: str) -> str:
    authorization = faults.session_authorization(ctx)
    try:
        framework = await http.get(f"{sms}/tee/framework")
        if framework.status_code != 200 or framework.json() != SIM_FRAMEWORK:
            raise TeeRefused(
                Cause.GET_TEE_SERVICES_CONFIGURATION_FAILED,
                f"the SMS at {sms} runs {framework.text[:60]!r}, the task needs {SIM_FRAMEWORK}",
            )
        answer = await http.post(
            f"{sms}/tee/sessions",
            content=json.dumps(authorization.wire()),
            headers={"Authorization": _worker_signature(ctx, authorization), "Content-Type": "application/json"},
        )
    except (httpx.HTTPError, ValueError) as error:
        raise TeeRefused(
            Cause.UNKNOWN_SMS, f"the SMS at {sms} cannot be reached: {type(error).__name__}: {error}"
        ) from error
    session_id = session_of(answer)
    faults.remember(ctx, authorization)
    return session_id


def session_of(answer: httpx.Response) -> str:
    """The session id of the SMS's answer to `POST /tee/sessions`; raises TeeRefused with the cause
    the SMS named (its code is the cause without TEE_SESSION_GENERATION_), as START reports it."""
    if answer.status_code == 200:
        try:
            return str(answer.json()["data"]["sessionId"])
        except (ValueError, KeyError, TypeError):
            raise TeeRefused(
                Cause.TEE_SESSION_GENERATION_UNKNOWN_ISSUE, f"the SMS answered {answer.text[:200]!r} with no session id"
            ) from None
    code, message = _refusal_text(answer)
    cause = Cause.__members__.get(SESSION_ERROR_PREFIX + code, Cause.TEE_SESSION_GENERATION_UNKNOWN_ISSUE)
    raise TeeRefused(cause, f"the SMS refused the session ({answer.status_code} {code or 'no code'}): {message}")


async def start(ctx: ReplicateContext, description: TaskDescription, sms_url: str | None) -> str:
    """The session id of this replicate; raises TeeRefused."""
    config = ctx.services.config
    if not config.tee:
        raise TeeRefused(
            Cause.TEE_NOT_SUPPORTED,
            f"deal tag {description.deal.tag} asks for a TEE; this worker was not started with --tee",
        )
    if not sms_url:
        raise TeeRefused(Cause.UNKNOWN_SMS, "the scheduler gave no SMS URL for this TEE task")
    enclave_config(description, config.tee_max_heap_mb)
    sms = sms_url.rstrip("/")
    proxy = (description.params.iexec_result_storage_proxy or ctx.services.result_repository_url).rstrip("/")
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        if not description.has_callback and proxy:
            await push_storage_token(ctx, http, sms, proxy)
        return await create_session(ctx, http, sms)
