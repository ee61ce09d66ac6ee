"""What a stage ends with: the status to report and its details."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ...protocol.models import ChainReceipt, ReplicateStatusDetails
from ...protocol.statuses import ReplicateStatus
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..context import ReplicateContext
from ..description import TaskDescription
from ..error_result import write_error_result
from ..postcompute import PostComputeError

MAX_ERROR_MESSAGE = 10_000


@dataclass(frozen=True)
class Outcome:
    status: ReplicateStatus
    details: ReplicateStatusDetails | None = None

    @property
    def cause(self) -> Cause | None:
        return self.details.cause if self.details else None


def succeeded(status: ReplicateStatus, **details: Any) -> Outcome:
    return Outcome(status, ReplicateStatusDetails(**details) if details else None)


def failed(status: ReplicateStatus, cause: Cause, message: str | None = None, **details: Any) -> Outcome:
    if message is not None and len(message) > MAX_ERROR_MESSAGE:
        message = message[: MAX_ERROR_MESSAGE - 1] + "…"
    return Outcome(status, ReplicateStatusDetails(cause=cause, errorMessage=message, **details))


def receipt(block_number: int, tx_hash: str) -> ChainReceipt:
    return ChainReceipt(blockNumber=block_number, txHash=tx_hash)


async def error_result(
    ctx: ReplicateContext, description: TaskDescription, status: ReplicateStatus, cause: Cause, message: str
) -> Outcome:
    """A download failed: write the error result (spec/worker.md §6.5) and report the failure.

    With the error result in place the scheduler answers PLEASE_CONTRIBUTE and the replicas agree on
    the error; if even that fails, the cause becomes POST_COMPUTE_FAILED_UNKNOWN_ISSUE (→ abort).
    """
    try:
        info = await asyncio.to_thread(write_error_result, ctx.paths, status, cause, description.has_callback)
    except PostComputeError as error:
        ctx.log.error("error-result-failed", cause=cause.value, error=error.message)
        return failed(status, Cause.POST_COMPUTE_FAILED_UNKNOWN_ISSUE, f"{message}; {error.message}")
    ctx.state.result_digest = info.digest
    ctx.state.callback_data = info.callback_data
    ctx.save()
    ctx.log.info("error-result-written", cause=cause.value, digest=info.digest)
    return failed(status, cause, message)
