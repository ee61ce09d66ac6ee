"""The TEE side of the result store (docs/tee.md "Result store (TEE uploads)").

A TEE result is uploaded by the post-compute enclave, not by a worker process with a revealed
contribution: the worker first gets a bearer token for its task, then the enclave uploads with it.

POST /results/{taskId}/token  task id (400) → X-Worker-Signature present (401) and well formed (400)
    → body a WorkerpoolAuthorization (400) for this task (400) with an enclave challenge (400)
    → worker signature of authorization_hash(worker, task, challenge) (401) → task on chain (404)
    → deal is TEE (403) → authorization signed by the deal's workerpool owner (403) → task ACTIVE
    (409) → 200 {"token"}.
PUT /results/{taskId} with `Authorization: Bearer` — declared size (413) → task id (400) → token
    valid (401) and for this task (403) → X-Result-Digest (401/400) and X-Enclave-Signature
    (401/400) → enclave signature recovers to the token's enclaveChallenge (403) → task on chain
    (404), ACTIVE or REVEALING (409) → not stored yet (409) → body size (413), not empty (400)
    → stored as-is, 201 {"resultLink", "sha256"}.

The zip may be encrypted for the beneficiary, so the store cannot recompute its digest: the
enclave's signature over (worker, task, digest) is what vouches for it, and the chain checks the
same signature at contributeAndFinalize.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ..logs import get_logger
from ..protocol.crypto import (
    ZERO_ADDRESS,
    authorization_hash,
    normalize_bytes32,
    recover_authorization_signer,
    recover_personal,
    same_address,
    sha256_hex,
)
from ..protocol.http import ENCLAVE_SIGNATURE_HEADER, RESULT_DIGEST_HEADER, WORKER_SIGNATURE_HEADER
from ..protocol.models import WorkerpoolAuthorization
from ..protocol.statuses import ChainTaskStatus
from ..protocol.tags import is_tee
from ..protocol.tee import recover_enclave_result
from ..service.bodies import read_bounded
from ..service.errors import BadRequest, Conflict, Forbidden, Refused, Unauthorized
from . import tokens
from .context import RESULT_ZIP, ResultContext
from .inputs import drain, header, signature_header
from .store import AlreadyStored

MAX_AUTHORIZATION_BYTES = 4096
UPLOAD_STATUSES = (ChainTaskStatus.ACTIVE, ChainTaskStatus.REVEALING)


log = get_logger("pocopool.results")


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header: it selects the TEE upload path."""
    value = request.headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _authorization(body: bytes, task_id: str) -> WorkerpoolAuthorization:
    try:
        authorization = WorkerpoolAuthorization.model_validate(json.loads(body))
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError):
        raise BadRequest("the body is not a WorkerpoolAuthorization JSON object") from None
    if authorization.chainTaskId.lower() != task_id:
        raise BadRequest(f"the authorization is for task {authorization.chainTaskId}, not {task_id}")
    if same_address(authorization.enclaveChallenge, ZERO_ADDRESS):
        raise BadRequest(f"the authorization of task {task_id} has no enclave challenge")
    return authorization


@dataclass
class TeeResults:
    """The token and TEE upload handlers, over the same chain reads and store as the standard path."""

    secret: bytes  # signs the tokens
    context: ResultContext

    async def token(self, task_id: str, request: Request) -> JSONResponse:
        worker_signature = signature_header(request, WORKER_SIGNATURE_HEADER)
        body = await read_bounded(request, MAX_AUTHORIZATION_BYTES, "the authorization")
        authorization = _authorization(body, task_id)
        worker, challenge = authorization.workerWallet, authorization.enclaveChallenge
        signer = recover_personal(authorization_hash(worker, task_id, challenge), worker_signature)
        if not same_address(signer, worker):
            raise Unauthorized(
                f"the {WORKER_SIGNATURE_HEADER} header is not {worker}'s signature of "
                f"its authorization for task {task_id}"
            )
        view = await self.context.task_view(task_id)
        task, deal = view.task, view.deal
        if not is_tee(deal.tag):
            raise Forbidden(f"task {task_id} is not a TEE task (deal tag {deal.tag})")
        pool_signer = recover_authorization_signer(worker, task_id, challenge, authorization.signature.value)
        if not same_address(pool_signer, deal.workerpool.owner):
            raise Forbidden(
                f"the authorization of {worker} for task {task_id} is not signed by the owner of the deal's workerpool"
            )
        if task.status != ChainTaskStatus.ACTIVE:
            raise Conflict(f"task {task_id} is {task.status.value} on chain, not ACTIVE")
        if task.final_deadline <= self.context.clock.now():
            raise Conflict(f"task {task_id} is past its final deadline {task.final_deadline}")
        token = tokens.issue(self.secret, task_id, worker, challenge, task.final_deadline)
        log.info("tee-token-issued", task=task_id, worker=worker, expires=task.final_deadline)
        return JSONResponse({"token": token})

    async def upload(self, task_id: str, token: str, request: Request) -> JSONResponse:
        try:
            claims = self._claims(token, task_id)
            digest = header(request, RESULT_DIGEST_HEADER, normalize_bytes32, "a 32-byte 0x-hex digest").lower()
            signature = signature_header(request, ENCLAVE_SIGNATURE_HEADER)
            enclave = recover_enclave_result(claims.worker, task_id, digest, signature)
            if not same_address(enclave, claims.enclave_challenge):
                raise Forbidden(
                    f"the {ENCLAVE_SIGNATURE_HEADER} header is not the task's enclave signature "
                    f"of result digest {digest}"
                )
            view = await self.context.task_view(task_id)
            status = view.task.status
            if status not in UPLOAD_STATUSES:
                raise Conflict(
                    f"task {task_id} is {status.value} on chain: a TEE result is uploaded while "
                    "it is ACTIVE or REVEALING"
                )
            if await asyncio.to_thread(self.context.store.exists, task_id):
                raise await self.context.already_stored(task_id)
        except Refused:
            await drain(request, self.context.max_upload_bytes)
            raise
        body = await read_bounded(request, self.context.max_upload_bytes, RESULT_ZIP)
        if not body:
            raise BadRequest("the result zip is empty")
        try:
            await asyncio.to_thread(self.context.store.save, task_id, body)
        except AlreadyStored:
            raise await self.context.already_stored(task_id) from None
        body_sha256 = sha256_hex(body)
        log.info(
            "tee-result-stored", task=task_id, worker=claims.worker, sha256=body_sha256, bytes=len(body), digest=digest
        )
        return JSONResponse({"resultLink": self.context.link_of(task_id), "sha256": body_sha256}, status_code=201)

    def _claims(self, token: str, task_id: str) -> tokens.TokenClaims:
        try:
            claims = tokens.read(self.secret, token, self.context.clock.now())
        except tokens.InvalidToken as error:
            raise Unauthorized(str(error)) from None
        if claims.task != task_id:
            raise Forbidden(f"the bearer token is for task {claims.task}, not {task_id}")
        return claims
