"""`/tee/challenges/{taskId}` (the scheduler asks a task's enclave challenge) and `/tee/sessions`
(a worker asks a session for its replicate; every check is sms/sessions.py's)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ...chain.aio import chain_read
from ...chain.base import Chain
from ...logs import get_logger
from ...protocol.crypto import InvalidHex, normalize_bytes32, recover_personal, same_address
from ...protocol.statuses import ChainTaskStatus
from ...protocol.statuses import ReplicateStatusCause as Cause
from ...protocol.tee import challenge_request_hash
from ...service.bodies import read_bounded
from ...service.errors import BadRequest, Forbidden, Internal, NotFound, Refused, TooLarge, Unauthorized
from .. import sessions
from ..errors import session_refusal
from ..store import SmsStore

MAX_SESSION_REQUEST_BYTES = 64 * 1024

log = get_logger("pocopool.sms")


def router(chain: Chain, store: SmsStore, *, public_url: str, result_proxy: str) -> APIRouter:
    api = APIRouter(tags=["sessions"])

    @api.post("/tee/challenges/{task_id}")
    async def challenge(task_id: str, request: Request) -> dict[str, str]:
        try:
            task_id = normalize_bytes32(task_id)
        except InvalidHex:
            raise BadRequest(f"{task_id!r} is not a task id (0x followed by 64 hex digits)") from None
        signature = request.headers.get("authorization", "").strip()
        if not signature:
            raise Unauthorized("the Authorization header (the pool owner's signature) is missing")
        signer = recover_personal(challenge_request_hash(task_id), signature)
        if signer is None:
            raise Unauthorized("the Authorization header is not a valid signature")
        task = await chain_read(chain, chain.view_task, task_id)
        deal = None if task.status == ChainTaskStatus.UNSET else await chain_read(chain, chain.view_deal, task.deal_id)
        if deal is None:
            raise NotFound(f"task {task_id} is not on chain")
        pool = await chain_read(chain, chain.view_workerpool, deal.workerpool.pointer)
        if pool is None or not same_address(signer, pool.owner):
            raise Forbidden(f"{signer} does not own workerpool {deal.workerpool.pointer} of task {task_id}")
        found = await store.get_or_create_challenge(task_id)
        log.info("challenge-given", task=task_id, address=found.address)
        return {"address": found.address}

    @api.post("/tee/sessions")
    async def create_session(request: Request) -> JSONResponse:
        # Every refusal of this route names a session cause: the worker sets its replicate's from it.
        try:
            body = await read_bounded(request, MAX_SESSION_REQUEST_BYTES, "the session request")
        except TooLarge as error:
            raise session_refusal(TooLarge, Cause.TEE_SESSION_GENERATION_NO_SESSION_REQUEST, error.message) from None
        try:
            plan = await sessions.plan_session(chain, store, result_proxy, body, request.headers.get("authorization"))
        except Refused:
            raise
        except Exception as error:  # noqa: BLE001 - the worker must get a cause whatever went wrong
            log.error("session-failed", error=type(error).__name__)
            raise session_refusal(
                Internal,
                Cause.TEE_SESSION_GENERATION_UNKNOWN_ISSUE,
                f"the session could not be created ({type(error).__name__})",
            ) from None
        try:
            session_id = await store.create_session(
                plan.task_id, plan.worker, plan.app_fingerprint, plan.envs, plan.expires
            )
        except Exception as error:  # noqa: BLE001 - whatever the database said; never its parameters
            log.error("session-not-stored", task=plan.task_id, error=type(error).__name__)
            raise session_refusal(
                Internal,
                Cause.TEE_SESSION_GENERATION_SECURE_SESSION_STORAGE_CALL_FAILED,
                f"the session of task {plan.task_id} could not be stored ({type(error).__name__})",
            ) from None
        log.info(
            "session-created",
            task=plan.task_id,
            worker=plan.worker,
            session=session_id,
            variables=sessions.describe(plan),
        )
        return JSONResponse({"data": {"sessionId": session_id, "secretProvisioningUrl": public_url}})

    return api
