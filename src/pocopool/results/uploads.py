"""A worker's upload of a standard task's result (`PUT /results/{taskId}` without a bearer token).

Checked in this order, the first failure refusing with nothing stored: headers present (401) and well
formed (400) → task on chain (404) → upload authorization signed by the deal's workerpool owner
(401 unreadable, 403 other signer) → body size (413) → worker signature of taskId + sha256(body)
(401) → worker's contribution PROVED (403) → not stored yet (409, with the stored zip's "sha256"
and "resultLink") → zip readable and its digest equal to the task's on-chain result digest (422)
→ stored, 201 {"resultLink", "sha256"}.
"""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import JSONResponse

from ..chain.base import ChainError
from ..logs import get_logger
from ..protocol.crypto import normalize_address, same_address, sha256_hex
from ..protocol.statuses import ChainContributionStatus
from ..service.bodies import read_bounded
from ..service.errors import Forbidden, Refused, Unauthorized, Unprocessable
from . import auth
from .archive import InvalidArchive, archive_digest
from .context import RESULT_ZIP, ResultContext, TaskView
from .inputs import drain, header, signature_header
from .store import AlreadyStored

log = get_logger("pocopool.results")


async def _authorized(context: ResultContext, task_id: str, request: Request) -> tuple[str, str, TaskView]:
    """The worker, its signature of the body and the task, once the scheduler authorized the worker."""
    worker = header(request, auth.WORKER_HEADER, normalize_address, "a 20-byte 0x-hex address")
    worker_signature = signature_header(request, auth.WORKER_SIGNATURE_HEADER)
    authorization = signature_header(request, auth.UPLOAD_AUTHORIZATION_HEADER)
    view = await context.task_view(task_id)
    scheduler = auth.upload_authorization_signer(worker, task_id, authorization)
    if scheduler is None:
        raise Unauthorized(f"the {auth.UPLOAD_AUTHORIZATION_HEADER} header is not a valid signature")
    if not same_address(scheduler, view.deal.workerpool.owner):
        raise Forbidden(f"the upload of task {task_id} by {worker} is not authorized by the workerpool's scheduler")
    return worker, worker_signature, view


async def _check_digest(context: ResultContext, view: TaskView, body: bytes) -> str:
    """The zip's result digest, once it equals the task's on-chain one."""
    try:
        found = await asyncio.to_thread(
            archive_digest, body, callback=view.deal.has_callback, limits=context.archive_limits
        )
    except InvalidArchive as error:
        raise Unprocessable(f"the result zip is refused: {error}") from None
    expected = view.task.result_digest.lower()
    if found.digest.lower() != expected:
        if found.source == "absent":
            raise Unprocessable(f"the deterministic-output-path {found.deterministic_path} is not in the zip")
        raise Unprocessable(
            f"the zip's result digest {found.digest} (from {found.deterministic_path or 'callback-data'}) "
            f"differs from the task's on-chain result digest {expected}"
        )
    return found.digest


async def upload(context: ResultContext, task_id: str, request: Request) -> JSONResponse:
    """Store the worker's result zip for `task_id` (a parsed task id) after every check above."""
    try:
        worker, worker_signature, view = await _authorized(context, task_id, request)
    except (Refused, ChainError):
        # Read the unread body first, so that the client sees the answer rather than a reset
        # connection while it is still sending.
        await drain(request, context.max_upload_bytes)
        raise

    body = await read_bounded(request, context.max_upload_bytes, RESULT_ZIP)
    body_sha256 = sha256_hex(body)
    if not same_address(auth.upload_body_signer(task_id, body_sha256, worker_signature), worker):
        raise Unauthorized(
            f"the {auth.WORKER_SIGNATURE_HEADER} header is not {worker}'s signature of task {task_id} "
            f"and this body (sha256 {body_sha256})"
        )
    contribution = await asyncio.to_thread(context.chain.view_contribution, task_id, worker)
    if contribution.status != ChainContributionStatus.PROVED:
        raise Forbidden(
            f"worker {worker} has not revealed a winning contribution to task {task_id} "
            f"(on-chain contribution status {contribution.status.value})"
        )
    if await asyncio.to_thread(context.store.exists, task_id):
        raise await context.already_stored(task_id)
    digest = await _check_digest(context, view, body)
    try:
        await asyncio.to_thread(context.store.save, task_id, body)
    except AlreadyStored:
        raise await context.already_stored(task_id) from None
    log.info("result-stored", task=task_id, worker=worker, sha256=body_sha256, bytes=len(body), digest=digest)
    return JSONResponse({"resultLink": context.link_of(task_id), "sha256": body_sha256}, status_code=201)
