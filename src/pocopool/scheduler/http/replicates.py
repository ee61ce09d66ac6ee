"""`/replicates/...`: work for a worker, recovery after a restart, and its status updates."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response

from ...protocol.models import (
    MAX_ASK_HOLD,
    MAX_STATUS_BATCH,
    ReplicateStatusUpdate,
    ReplicateTaskSummary,
    TaskNotification,
)
from ..auth import Authenticator
from ..recovery import RecoveryService
from ..replicates import ReplicateUpdateService
from ..supply import SupplyService
from .params import TaskId, authenticated, bytes32


def router(
    auth: Authenticator, supply: SupplyService, recovery: RecoveryService, replicates: ReplicateUpdateService
) -> APIRouter:
    api = APIRouter(tags=["replicates"])
    worker = authenticated(auth)

    @api.get(
        "/replicates/available",
        response_model=ReplicateTaskSummary,
        response_model_exclude_none=True,
        responses={204: {"description": "no work for this worker now (or within `timeout`)"}},
    )
    async def available(
        request: Request,
        wallet: Annotated[str, worker],
        blockNumber: int = 0,
        timeout: Annotated[
            float, Query(ge=0, le=MAX_ASK_HOLD, description="seconds to wait for work when none fits now")
        ] = 0,
    ) -> Any:
        summary = await supply.next_replicate(wallet, blockNumber, timeout, gone=request.is_disconnected)
        if summary is None:
            return Response(status_code=204)
        return summary

    @api.get("/replicates/interrupted", response_model=list[TaskNotification], response_model_exclude_none=True)
    async def interrupted(wallet: Annotated[str, worker], blockNumber: int = 0) -> list[TaskNotification]:
        return await recovery.interrupted(wallet)

    @api.post(
        "/replicates/{chainTaskId}/updateStatus",
        responses={
            200: {"description": "accepted: the next action"},
            208: {"description": "already reported: PLEASE_WAIT"},
        },
    )
    async def update_status(
        chainTaskId: TaskId, wallet: Annotated[str, worker], update: ReplicateStatusUpdate
    ) -> JSONResponse:
        task_id = bytes32(chainTaskId, "chainTaskId")
        answer = await replicates.update_status(task_id, wallet, update)
        return JSONResponse(answer.next_action.value, status_code=208 if answer.already_reported else 200)

    @api.post(
        "/replicates/{chainTaskId}/updateStatuses",
        responses={
            200: {"description": "all accepted: the next action after the last one"},
            208: {"description": "the last one was already reported: PLEASE_WAIT"},
        },
    )
    async def update_statuses(
        chainTaskId: TaskId,
        wallet: Annotated[str, worker],
        updates: Annotated[list[ReplicateStatusUpdate], Body(min_length=1, max_length=MAX_STATUS_BATCH)],
    ) -> JSONResponse:
        """Several updates of one replicate, applied in order as if sent one by one; the first
        refusal stops the batch (those before it stay accepted) and is the answer."""
        task_id = bytes32(chainTaskId, "chainTaskId")
        answer = await replicates.update_statuses(task_id, wallet, updates)
        return JSONResponse(answer.next_action.value, status_code=208 if answer.already_reported else 200)

    return api
