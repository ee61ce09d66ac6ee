"""Read views of the history: `GET /tasks/{id}`, `/tasks/{id}/replicates/{wallet}`, `/deals/{id}`.

The models extend the reference ones of protocol/models.py with what pocopool records besides
(the cause and message of each task status change; the modifier, error message, exit code and
receipt of each replicate status update): a client reading them as the reference models simply
ignores the extra fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ..protocol.models import (
    ChainReceipt,
    ReplicateModel,
    ReplicateStatusUpdateModel,
    TaskModel,
    TaskStatusChange,
    Wire,
)
from ..protocol.statuses import ReplicateStatusModifier, TaskStatus
from .store import TaskDetails


class TaskStatusChangeView(TaskStatusChange):
    cause: str | None = None
    message: str | None = None


class ReplicateStatusUpdateView(ReplicateStatusUpdateModel):
    modifier: ReplicateStatusModifier | None = None
    errorMessage: str | None = None
    exitCode: int | None = None
    chainReceipt: ChainReceipt | None = None
    resultLink: str | None = None


class ReplicateView(ReplicateModel):
    statusUpdateList: list[ReplicateStatusUpdateView]  # type: ignore[assignment]
    workerWeight: int | None = None


class TaskView(TaskModel):
    replicates: list[ReplicateView] = Field(default_factory=list)  # type: ignore[assignment]
    dateStatusList: list[TaskStatusChangeView]  # type: ignore[assignment]
    dealBlockNumber: int | None = None
    consensusReachedBlockNumber: int | None = None
    requester: str | None = None
    beneficiary: str | None = None


class DealTask(Wire):
    chainTaskId: str
    taskIndex: int
    currentStatus: TaskStatus


class DealView(Wire):
    dealId: str
    tasks: list[DealTask]


def _receipt(row: Mapping[str, Any]) -> ChainReceipt | None:
    if row["block_number"] is None:
        return None
    return ChainReceipt(blockNumber=row["block_number"], txHash=row["tx_hash"])


def replicate_view(details: TaskDetails, replicate: Mapping[str, Any], base_url: str) -> ReplicateView:
    task_id, wallet = replicate["task_id"], replicate["wallet"]
    updates = details.updates.get(replicate["id"], [])
    url = f"{base_url.rstrip('/')}/tasks/{task_id}/replicates/{wallet}"
    exit_code = next((u["exit_code"] for u in updates if u["exit_code"] is not None), None)
    tee_error = next((u["tee_session_error"] for u in updates if u["tee_session_error"]), None)
    return ReplicateView(
        self=url,
        chainTaskId=task_id,
        walletAddress=wallet,
        currentStatus=replicate["status"],
        statusUpdateList=[
            ReplicateStatusUpdateView(
                status=u["status"], date=u["date"], cause=u["cause"], modifier=u["modifier"],
                errorMessage=u["error_message"], exitCode=u["exit_code"], chainReceipt=_receipt(u),
                resultLink=u["result_link"],
            )
            for u in updates
        ],
        resultLink=replicate["result_link"],
        chainCallbackData=replicate["callback_data"],
        contributionHash=replicate["contribution_hash"],
        appLogs=f"{url}/logs" if wallet in details.log_wallets else None,
        appExitCode=exit_code,
        teeSessionGenerationError=tee_error,
        workerWeight=replicate["worker_weight"] or None,
    )


def task_view(details: TaskDetails, base_url: str) -> TaskView:
    task = details.task
    return TaskView(
        chainTaskId=task["chain_task_id"],
        chainDealId=task["deal_id"],
        taskIndex=task["task_index"],
        replicates=[replicate_view(details, r, base_url) for r in details.replicates],
        maxExecutionTime=task["max_execution_time"] * 1000,
        tag=task["tag"],
        dappName=task["app_multiaddr"],
        commandLine=task["command_line"],
        initializationBlockNumber=task["initialization_block"],
        currentStatus=task["status"],
        trust=task["trust"],
        uploadingWorkerWalletAddress=task["uploading_wallet"],
        consensus=task["consensus"],
        contributionDeadline=task["contribution_deadline"],
        revealDeadline=task["reveal_deadline"],
        finalDeadline=task["final_deadline"],
        resultLink=task["result_link"],
        chainCallbackData=task["callback_data"],
        dateStatusList=[
            TaskStatusChangeView(date=c["date"], status=c["status"], chainReceipt=_receipt(c), cause=c["cause"],
                                 message=c["message"])
            for c in details.changes
        ],
        dealBlockNumber=task["deal_block"],
        consensusReachedBlockNumber=task["consensus_block"],
        requester=task["requester"],
        beneficiary=task["beneficiary"],
    )
