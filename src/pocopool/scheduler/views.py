"""Builders of the read views of the history from the store: `task_view`, `replicate_view`.

The models they build are the wire models of protocol/views.py (re-exported here, so that
`from .views import TaskView` keeps working); the scheduler's API and the dashboard both build
through these functions, so both show the same task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..protocol.applogs import cut_of
from ..protocol.disagreement import file_variants, files_match
from ..protocol.models import ChainReceipt
from ..protocol.views import (
    DealTask,
    DealView,
    ReplicateStatusUpdateView,
    ReplicateView,
    TaskStatusChangeView,
    TaskView,
)
from .store import TaskDetails

__all__ = [
    "DealTask",
    "DealView",
    "ReplicateStatusUpdateView",
    "ReplicateView",
    "TaskStatusChangeView",
    "TaskView",
    "replicate_view",
    "task_view",
]


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
    # variants among every replicate of the task: the hashes stay here (decision 120)
    variants = file_variants({r["wallet"]: r.get("result_files") for r in details.replicates})
    return ReplicateView(
        self=url,
        chainTaskId=task_id,
        walletAddress=wallet,
        currentStatus=replicate["status"],
        statusUpdateList=[
            ReplicateStatusUpdateView(
                status=u["status"],
                date=u["date"],
                cause=u["cause"],
                modifier=u["modifier"],
                errorMessage=u["error_message"],
                exitCode=u["exit_code"],
                chainReceipt=_receipt(u),
                resultLink=u["result_link"],
                exitCauses=u.get("exit_causes"),
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
        workerScore=replicate.get("worker_score"),
        appLogsCut=_cuts(details.log_heads.get(wallet)),
        resultFiles=variants.get(wallet),
        resultFilesMatch=files_match(task_id, replicate["contribution_hash"], replicate.get("result_files")),
    )


def _cuts(heads: tuple[str, str] | None) -> dict[str, dict] | None:
    """The cut of each stored stream that was cut, read from the first characters of its log."""
    found = {stream: cut_of(head) for stream, head in zip(("stdout", "stderr"), heads or ("", ""), strict=True)}
    return {stream: cut for stream, cut in found.items() if cut is not None} or None


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
            TaskStatusChangeView(
                date=c["date"], status=c["status"], chainReceipt=_receipt(c), cause=c["cause"], message=c["message"]
            )
            for c in details.changes
        ],
        dealBlockNumber=task["deal_block"],
        consensusReachedBlockNumber=task["consensus_block"],
        requester=task["requester"],
        beneficiary=task["beneficiary"],
    )
