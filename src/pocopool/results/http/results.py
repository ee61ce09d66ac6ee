"""`/results/{taskId}`: is a result stored (HEAD), store one (PUT), download it (GET).

PUT  declared size (413) → task id (400) → with `Authorization: Bearer <token>`, the TEE upload
     (results/tee.py); otherwise a worker's upload (results/uploads.py).
HEAD task id (400) → 200 stored, 404 not.
GET  task id (400) → headers (401/400) → timestamp fresh (401) → signature readable (401) → task on
     chain (404) → signer is the beneficiary (403) → stored (404) → the zip.
"""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from ...logs import get_logger
from ...protocol.crypto import same_address
from ...service.bodies import check_declared_length
from ...service.errors import Forbidden, NotFound, Refused, Unauthorized
from .. import auth, uploads
from ..context import RESULT_ZIP, ResultContext
from ..inputs import TIMESTAMP, drain, header, parse_task_id, signature_header
from ..tee import TeeResults, bearer_token

log = get_logger("pocopool.results")


def router(context: ResultContext, tee: TeeResults) -> APIRouter:
    api = APIRouter(tags=["results"])

    @api.head("/results/{task_id}")
    async def result_exists(task_id: str) -> Response:
        task_id = parse_task_id(task_id)
        size = await asyncio.to_thread(context.store.size, task_id)
        if size is None:
            return Response(status_code=404)
        return Response(status_code=200, media_type="application/zip", headers={"content-length": str(size)})

    @api.put("/results/{task_id}", status_code=201)
    async def upload(task_id: str, request: Request) -> JSONResponse:
        check_declared_length(request, context.max_upload_bytes, RESULT_ZIP)
        try:
            task_id = parse_task_id(task_id)
        except Refused:
            await drain(request, context.max_upload_bytes)
            raise
        token = bearer_token(request)
        if token is not None:
            return await tee.upload(task_id, token, request)
        return await uploads.upload(context, task_id, request)

    @api.get("/results/{task_id}")
    async def download(task_id: str, request: Request) -> Response:
        task_id = parse_task_id(task_id)
        raw_timestamp = header(request, auth.DOWNLOAD_TIMESTAMP_HEADER, TIMESTAMP, "a unix time in seconds")
        signature = signature_header(request, auth.DOWNLOAD_SIGNATURE_HEADER)
        timestamp = int(raw_timestamp)
        now = context.clock.now()
        if not auth.timestamp_is_fresh(timestamp, now):
            raise Unauthorized(
                f"the {auth.DOWNLOAD_TIMESTAMP_HEADER} {timestamp} is more than {auth.DOWNLOAD_MAX_AGE} s "
                f"away from the store's time {int(now)}"
            )
        signer = auth.download_signer(task_id, timestamp, signature)
        if signer is None:
            raise Unauthorized(f"the {auth.DOWNLOAD_SIGNATURE_HEADER} header is not a valid signature")
        view = await context.task_view(task_id)
        if not same_address(signer, view.deal.beneficiary):
            raise Forbidden(f"{signer} is not the beneficiary of task {task_id}")
        path = context.store.path_of(task_id)
        if not await asyncio.to_thread(path.is_file):
            raise NotFound(f"no result is stored for task {task_id}")
        log.info("result-downloaded", task=task_id, beneficiary=signer)
        return FileResponse(path, media_type="application/zip", filename=f"{task_id}.zip")

    return api
