"""`POST /results/{taskId}/token`: a bearer token for the post-compute enclave's TEE upload
(checked as results/tee.py says)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..inputs import parse_task_id
from ..tee import TeeResults


def router(tee: TeeResults) -> APIRouter:
    api = APIRouter(tags=["tee"])

    @api.post("/results/{task_id}/token")
    async def tee_token(task_id: str, request: Request) -> JSONResponse:
        return await tee.token(parse_task_id(task_id), request)

    return api
