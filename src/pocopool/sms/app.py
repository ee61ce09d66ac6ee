"""The SMS HTTP API (docs/tee.md "SMS HTTP API"). Refusals are mapped here, once, to
`{"error": NAME, "message": one line}`; no answer and no log line ever holds a secret value.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..chain.aio import chain_read
from ..chain.base import Chain, ChainError
from ..logs import get_logger
from ..protocol.crypto import InvalidHex, normalize_bytes32, recover_personal, same_address
from ..protocol.statuses import ChainTaskStatus, ReplicateStatusCause
from ..protocol.tee import (
    MAX_SECRET_BYTES,
    SIM_FRAMEWORK,
    SIMULATION_LABEL,
    Stage,
    challenge_request_hash,
    recover_secret_push,
)
from . import secret_pushes, sessions
from .errors import (
    BAD_REQUEST,
    CHAIN_UNAVAILABLE,
    FORBIDDEN,
    NOT_FOUND,
    TOO_LARGE,
    UNAUTHORIZED,
    Refused,
    SessionRefused,
)
from .provisioning import ProvisioningRequest, provision
from .store import SmsStore

log = get_logger("pocopool.sms")


def _refusal(error: Refused) -> JSONResponse:
    return JSONResponse({"error": error.error, "message": error.message}, status_code=error.status)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, TOO_LARGE, f"the value is {declared} bytes, more than the {limit} accepted")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, TOO_LARGE, f"the value is more than the {limit} bytes accepted")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    chain: Chain, store: SmsStore, *, public_url: str, result_proxy: str, trusted_platforms: tuple[str, ...]
) -> FastAPI:
    """The SMS over `chain` and `store`. `public_url` is given to workers as secretProvisioningUrl;
    `result_proxy` is the default RESULT_STORAGE_PROXY; quotes are accepted from `trusted_platforms`."""
    app = FastAPI(title="pocopool SMS", version="1", description=SIMULATION_LABEL)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> JSONResponse:
        log.info(
            "request-refused",
            method=request.method,
            path=request.url.path,
            status=error.status,
            error=error.error,
            message=error.message,
        )
        return _refusal(error)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
        return _refusal(Refused(400, BAD_REQUEST, f"{where}: {first.get('msg', 'invalid')}"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        name = NOT_FOUND if error.status_code == 404 else BAD_REQUEST
        return JSONResponse({"error": name, "message": str(error.detail)}, status_code=error.status_code)

    @app.exception_handler(ChainError)
    async def chain_error(request: Request, error: ChainError) -> JSONResponse:
        log.warning("chain-error", method=request.method, path=request.url.path, error=str(error))
        return _refusal(Refused(503, CHAIN_UNAVAILABLE, f"the chain could not be read: {error}"))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/tee/framework")
    async def framework() -> str:
        return SIM_FRAMEWORK

    @app.head("/secrets/{kind}/{address}/{name}")
    async def secret_exists(kind: str, address: str, name: str) -> Response:
        secret_kind, address = secret_pushes.secret_path(kind, address, name)
        present = await store.has_secret(secret_kind.value, address, name)
        return Response(status_code=200 if present else 404)

    @app.put("/secrets/{kind}/{address}/{name}")
    async def push_secret(kind: str, address: str, name: str, request: Request) -> JSONResponse:
        secret_kind, address = secret_pushes.secret_path(kind, address, name)
        raw = await _read_limited(request, MAX_SECRET_BYTES)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, BAD_REQUEST, "the value is not UTF-8 text") from None
        if not value:
            raise Refused(400, BAD_REQUEST, "the value is empty")
        signature = request.headers.get("authorization", "").strip()
        if not signature:
            raise Refused(401, UNAUTHORIZED, "the Authorization header (the owner's signature) is missing")
        signer = recover_secret_push(secret_kind, address, name, value, signature)
        if signer is None:
            raise Refused(401, UNAUTHORIZED, "the Authorization header is not a valid signature")
        owner = await secret_pushes.secret_owner(chain, secret_kind, address)
        if not same_address(signer, owner):
            raise Refused(403, FORBIDDEN, f"{signer} may not push {kind}/{address}/{name}: only {owner} may")
        created = await store.put_secret(secret_kind.value, address, name, value)
        log.info("secret-pushed", kind=kind, address=address, name=name, signer=signer, created=created)
        return JSONResponse({"kind": kind, "address": address, "name": name}, status_code=201 if created else 200)

    @app.post("/tee/challenges/{task_id}")
    async def challenge(task_id: str, request: Request) -> dict[str, str]:
        try:
            task_id = normalize_bytes32(task_id)
        except InvalidHex:
            raise Refused(400, BAD_REQUEST, f"{task_id!r} is not a task id (0x followed by 64 hex digits)") from None
        signature = request.headers.get("authorization", "").strip()
        if not signature:
            raise Refused(401, UNAUTHORIZED, "the Authorization header (the pool owner's signature) is missing")
        signer = recover_personal(challenge_request_hash(task_id), signature)
        if signer is None:
            raise Refused(401, UNAUTHORIZED, "the Authorization header is not a valid signature")
        task = await chain_read(chain, chain.view_task, task_id)
        deal = None if task.status == ChainTaskStatus.UNSET else await chain_read(chain, chain.view_deal, task.deal_id)
        if deal is None:
            raise Refused(404, NOT_FOUND, f"task {task_id} is not on chain")
        pool = await chain_read(chain, chain.view_workerpool, deal.workerpool.pointer)
        if pool is None or not same_address(signer, pool.owner):
            raise Refused(
                403, FORBIDDEN, f"{signer} does not own workerpool {deal.workerpool.pointer} of task {task_id}"
            )
        found = await store.get_or_create_challenge(task_id)
        log.info("challenge-given", task=task_id, address=found.address)
        return {"address": found.address}

    @app.post("/tee/sessions")
    async def create_session(request: Request) -> JSONResponse:
        try:
            body = await _read_limited(request, 64 * 1024)
            plan = await sessions.plan_session(chain, store, result_proxy, body, request.headers.get("authorization"))
            session_id = await store.create_session(
                plan.task_id, plan.worker, plan.app_fingerprint, plan.envs, plan.expires
            )
        except SessionRefused as error:
            log.info("session-refused", status=error.status, error=error.error, message=error.message)
            return _refusal(error)
        except Refused as error:  # the body is too large
            error = SessionRefused(
                error.status, ReplicateStatusCause.TEE_SESSION_GENERATION_NO_SESSION_REQUEST, error.message
            )
            return _refusal(error)
        except Exception as error:  # noqa: BLE001 - the worker must get a cause whatever went wrong
            log.error("session-failed", error=type(error).__name__)
            return _refusal(
                SessionRefused(
                    500,
                    ReplicateStatusCause.TEE_SESSION_GENERATION_UNKNOWN_ISSUE,
                    f"the session could not be created ({type(error).__name__})",
                )
            )
        log.info(
            "session-created",
            task=plan.task_id,
            worker=plan.worker,
            session=session_id,
            variables=sessions.describe(plan),
        )
        return JSONResponse({"data": {"sessionId": session_id, "secretProvisioningUrl": public_url}})

    @app.post("/tee/sessions/{session_id}/{stage}/secrets")
    async def provision_stage(session_id: str, stage: str, body: ProvisioningRequest) -> dict[str, str]:
        try:
            enclave_stage = Stage(stage)
        except ValueError:
            raise Refused(404, NOT_FOUND, f"unknown stage {stage!r} (pre-compute, app or post-compute)") from None
        now = await chain_read(chain, chain.now)
        sealed = await provision(store, trusted_platforms, now, session_id, enclave_stage, body)
        log.info("enclave-provisioned", session=session_id, stage=enclave_stage.value)
        return {"sealed": sealed}

    return app
