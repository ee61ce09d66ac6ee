"""`/tasks/{id}`, `/tasks/{id}/replicates/{wallet}`, `/deals/{id}`: the history of tasks and deals."""

from fastapi import APIRouter, Request

from ...service.errors import NotFound
from ..store import Store
from ..views import DealTask, DealView, ReplicateView, TaskView, replicate_view, task_view
from .params import TaskId, address, bytes32


def router(store: Store) -> APIRouter:
    api = APIRouter(tags=["tasks"])

    @api.get(
        "/tasks/{chainTaskId}", response_model=TaskView, response_model_exclude_none=True, response_model_by_alias=True
    )
    async def get_task(chainTaskId: TaskId, request: Request) -> TaskView:
        task_id = bytes32(chainTaskId, "chainTaskId")
        details = await store.task_details(task_id)
        if details is None:
            raise NotFound(f"unknown task {task_id}")
        return task_view(details, str(request.base_url))

    @api.get(
        "/tasks/{chainTaskId}/replicates/{walletAddress}",
        response_model=ReplicateView,
        response_model_exclude_none=True,
        response_model_by_alias=True,
    )
    async def get_replicate(chainTaskId: TaskId, walletAddress: str, request: Request) -> ReplicateView:
        task_id = bytes32(chainTaskId, "chainTaskId")
        wallet = address(walletAddress, "walletAddress")
        details = await store.task_details(task_id)
        if details is None:
            raise NotFound(f"unknown task {task_id}")
        replicate = next((r for r in details.replicates if r["wallet"] == wallet), None)
        if replicate is None:
            raise NotFound(f"worker {wallet} holds no replicate of task {task_id}")
        return replicate_view(details, replicate, str(request.base_url))

    @api.get("/deals/{dealId}", response_model=DealView)
    async def get_deal(dealId: str) -> DealView:
        deal_id = bytes32(dealId, "dealId")
        rows = await store.deal_tasks(deal_id)
        if not rows:
            raise NotFound(f"unknown deal {deal_id}")
        return DealView(
            dealId=deal_id,
            tasks=[
                DealTask(chainTaskId=r["chain_task_id"], taskIndex=r["task_index"], currentStatus=r["status"])
                for r in rows
            ],
        )

    return api
