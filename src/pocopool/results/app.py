"""The result store's HTTP API (docs/contracts.md "Result store HTTP API").

Each request is checked in a fixed order and the first failure answers `{"error": "<sentence>"}`
with its 4xx status, having stored nothing:

PUT  /results/{taskId}  declared size (413) → task id (400) → headers present (401) and well
                        formed (400) → task on chain (404) → upload authorization signed by the deal's
                        workerpool owner (401 unreadable, 403 other signer) → body size (413) →
                        worker signature of taskId + sha256(body) (401) → worker's contribution
                        PROVED (403) → not stored yet (409, with the stored zip's "sha256" and
                        "resultLink") → zip readable and its digest equal to the task's on-chain
                        result digest (422) → stored, 201 {"resultLink", "sha256"}.
HEAD /results/{taskId}  200 stored, 404 not.
GET  /results/{taskId}  task id (400) → headers (401/400) → timestamp fresh (401) → signature
                        readable (401) → task on chain (404) → signer is the beneficiary (403) →
                        stored (404) → the zip.
PUT  /results/{taskId} with `Authorization: Bearer <token>` and
POST /results/{taskId}/token: the TEE path, checked as tee.py says.

Chain reads are synchronous and run in worker threads; so do hashing the zip and writing it.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..chain.base import Chain, ChainError, ChainTask, Deal
from ..logs import get_logger
from ..protocol.crypto import normalize_address, result_link, same_address, sha256_hex
from ..protocol.statuses import ChainContributionStatus, ChainTaskStatus
from ..protocol.time import Clock, SystemClock
from . import auth
from .archive import ArchiveLimits, InvalidArchive, archive_digest
from .errors import Refused
from .inputs import (
    TIMESTAMP,
    check_declared_length,
    drain,
    header,
    parse_task_id,
    read_body,
    signature_header,
)
from .store import AlreadyStored, ResultStore
from .tee import TeeResults, bearer_token

MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # 100 MiB
RESULT_STORAGE = "pocopool"
DEFAULT_LIMITS = ArchiveLimits()

log = get_logger("pocopool.results")


@dataclass(frozen=True)
class _TaskView:
    task: ChainTask
    deal: Deal


def create_app(
    chain: Chain,
    store: ResultStore,
    public_url: str,
    *,
    clock: Clock | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    archive_limits: ArchiveLimits = DEFAULT_LIMITS,
    token_secret: bytes | None = None,
) -> FastAPI:
    """The result store application over `chain` and `store`.

    `public_url` is the base URL clients reach this service at; result links point under it.
    `clock` dates download signatures and TEE tokens (the system clock by default).
    `token_secret` signs the TEE upload tokens (random for this app's life by default; the process
    keeps it in a file, tokens.load_or_create_secret).
    """
    clock = clock or SystemClock()
    base_url = public_url.rstrip("/")
    app = FastAPI(title="pocopool result store", version="1")

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> JSONResponse:
        log.info(
            "request-refused",
            method=request.method,
            path=request.url.path,
            worker=request.headers.get(auth.WORKER_HEADER),
            status=error.status,
            error=error.message,
        )
        return JSONResponse({"error": error.message, **error.extra}, status_code=error.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(ChainError)
    async def chain_error(request: Request, error: ChainError) -> JSONResponse:
        log.warning("chain-error", method=request.method, path=request.url.path, error=str(error))
        return JSONResponse({"error": f"the chain could not be read: {error}"}, status_code=503)

    async def task_view(task_id: str) -> _TaskView:
        def read() -> _TaskView | None:
            task = chain.view_task(task_id)
            if task.status == ChainTaskStatus.UNSET:
                return None
            deal = chain.view_deal(task.deal_id)
            return None if deal is None else _TaskView(task, deal)

        view = await asyncio.to_thread(read)
        if view is None:
            raise Refused(404, f"task {task_id} is not known on chain")
        return view

    def link_of(task_id: str) -> str:
        return result_link(RESULT_STORAGE, f"{base_url}/results/{task_id}")

    async def already_stored(task_id: str) -> Refused:
        # The stored zip's sha256 and link let a worker whose first answer was lost recognise its own
        # upload (same sha256) and carry on, while any other upload stays refused.
        stored_sha256 = await asyncio.to_thread(store.sha256, task_id)
        return Refused(
            409,
            f"a result is already stored for task {task_id}",
            sha256=stored_sha256,
            resultLink=link_of(task_id),
        )

    tee = TeeResults(
        secret=token_secret or os.urandom(32),
        store=store,
        clock=clock,
        max_upload_bytes=max_upload_bytes,
        task_view=task_view,
        link_of=link_of,
        already_stored=already_stored,
    )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.head("/results/{task_id}")
    async def result_exists(task_id: str) -> Response:
        task_id = parse_task_id(task_id)
        size = await asyncio.to_thread(store.size, task_id)
        if size is None:
            return Response(status_code=404)
        return Response(status_code=200, media_type="application/zip", headers={"content-length": str(size)})

    @app.put("/results/{task_id}", status_code=201)
    async def upload(task_id: str, request: Request) -> JSONResponse:
        check_declared_length(request, max_upload_bytes)
        token = bearer_token(request)
        if token is not None:
            try:
                task_id = parse_task_id(task_id)
            except Refused:
                await drain(request, max_upload_bytes)
                raise
            return await tee.upload(task_id, token, request)
        try:
            task_id = parse_task_id(task_id)
            worker = header(request, auth.WORKER_HEADER, normalize_address, "a 20-byte 0x-hex address")
            worker_signature = signature_header(request, auth.WORKER_SIGNATURE_HEADER)
            authorization = signature_header(request, auth.UPLOAD_AUTHORIZATION_HEADER)
            view = await task_view(task_id)
            scheduler = auth.upload_authorization_signer(worker, task_id, authorization)
            if scheduler is None:
                raise Refused(401, f"the {auth.UPLOAD_AUTHORIZATION_HEADER} header is not a valid signature")
            if not same_address(scheduler, view.deal.workerpool.owner):
                raise Refused(
                    403, f"the upload of task {task_id} by {worker} is not authorized by the workerpool's scheduler"
                )
        except (Refused, ChainError):
            # Read the unread body first, so that the client sees the answer rather than a reset
            # connection while it is still sending.
            await drain(request, max_upload_bytes)
            raise

        body = await read_body(request, max_upload_bytes)
        body_sha256 = sha256_hex(body)
        if not same_address(auth.upload_body_signer(task_id, body_sha256, worker_signature), worker):
            raise Refused(
                401,
                f"the {auth.WORKER_SIGNATURE_HEADER} header is not {worker}'s signature of task {task_id} "
                f"and this body (sha256 {body_sha256})",
            )

        contribution = await asyncio.to_thread(chain.view_contribution, task_id, worker)
        if contribution.status != ChainContributionStatus.PROVED:
            raise Refused(
                403,
                f"worker {worker} has not revealed a winning contribution to task {task_id} "
                f"(on-chain contribution status {contribution.status.value})",
            )
        if await asyncio.to_thread(store.exists, task_id):
            raise await already_stored(task_id)

        try:
            found = await asyncio.to_thread(
                archive_digest, body, callback=view.deal.has_callback, limits=archive_limits
            )
        except InvalidArchive as error:
            raise Refused(422, f"the result zip is refused: {error}") from None
        expected = view.task.result_digest.lower()
        if found.digest.lower() != expected:
            if found.source == "absent":
                raise Refused(422, f"the deterministic-output-path {found.deterministic_path} is not in the zip")
            raise Refused(
                422,
                f"the zip's result digest {found.digest} (from {found.deterministic_path or 'callback-data'}) "
                f"differs from the task's on-chain result digest {expected}",
            )

        try:
            await asyncio.to_thread(store.save, task_id, body)
        except AlreadyStored:
            raise await already_stored(task_id) from None
        log.info("result-stored", task=task_id, worker=worker, sha256=body_sha256, bytes=len(body), digest=found.digest)
        return JSONResponse({"resultLink": link_of(task_id), "sha256": body_sha256}, status_code=201)

    @app.post("/results/{task_id}/token")
    async def tee_token(task_id: str, request: Request) -> JSONResponse:
        return await tee.token(parse_task_id(task_id), request)

    @app.get("/results/{task_id}")
    async def download(task_id: str, request: Request) -> Response:
        task_id = parse_task_id(task_id)
        raw_timestamp = header(request, auth.DOWNLOAD_TIMESTAMP_HEADER, TIMESTAMP, "a unix time in seconds")
        signature = signature_header(request, auth.DOWNLOAD_SIGNATURE_HEADER)
        timestamp = int(raw_timestamp)
        now = clock.now()
        if not auth.timestamp_is_fresh(timestamp, now):
            raise Refused(
                401,
                f"the {auth.DOWNLOAD_TIMESTAMP_HEADER} {timestamp} is more than {auth.DOWNLOAD_MAX_AGE} s "
                f"away from the store's time {int(now)}",
            )
        signer = auth.download_signer(task_id, timestamp, signature)
        if signer is None:
            raise Refused(401, f"the {auth.DOWNLOAD_SIGNATURE_HEADER} header is not a valid signature")
        view = await task_view(task_id)
        if not same_address(signer, view.deal.beneficiary):
            raise Refused(403, f"{signer} is not the beneficiary of task {task_id}")
        path = store.path_of(task_id)
        if not await asyncio.to_thread(path.is_file):
            raise Refused(404, f"no result is stored for task {task_id}")
        log.info("result-downloaded", task=task_id, beneficiary=signer)
        return FileResponse(path, media_type="application/zip", filename=f"{task_id}.zip")

    return app
