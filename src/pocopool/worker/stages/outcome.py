"""What a stage ends with: the status to report and its details."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...protocol.models import MAX_EXIT_CAUSES, ChainReceipt, ExitCause, ReplicateStatusDetails
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
    if message is not None:
        message = _cut(message, MAX_ERROR_MESSAGE)
    return Outcome(status, ReplicateStatusDetails(cause=cause, errorMessage=message, **details))


def failed_each(status: ReplicateStatus, causes: Sequence[tuple[Cause, str]], **details: Any) -> Outcome:
    """A failure with one or several causes, each with its message, in the order met: the first is the
    cause reported; with more than one, every one is listed in `exitCauses` (decision 122) and the
    message names each."""
    if len(causes) == 1:
        return failed(status, *causes[0], **details)
    message = "; ".join(f"{cause.value}: {text}" for cause, text in causes)
    listed = [ExitCause(cause=cause, message=_cut(text, 2_000)) for cause, text in causes[:MAX_EXIT_CAUSES]]
    return failed(status, causes[0][0], message, exitCauses=listed, **details)


def _cut(message: str, limit: int) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def receipt(block_number: int, tx_hash: str) -> ChainReceipt:
    return ChainReceipt(blockNumber=block_number, txHash=tx_hash)


async def error_result(
    ctx: ReplicateContext,
    description: TaskDescription,
    status: ReplicateStatus,
    causes: Sequence[tuple[Cause, str]],
) -> Outcome:
    """A download failed, for one or several causes (each with its message): write the error result
    (spec/worker.md §6.5, every cause in it) and report the failure.

    With the error result in place the scheduler answers PLEASE_CONTRIBUTE and the replicas agree on
    the error; if even that fails, the cause becomes POST_COMPUTE_FAILED_UNKNOWN_ISSUE (→ abort).
    """
    names = [cause for cause, _ in causes]
    try:
        info = await asyncio.to_thread(write_error_result, ctx.paths, status, names, description.has_callback)
    except PostComputeError as error:
        ctx.log.error("error-result-failed", causes=[c.value for c in names], error=error.message)
        said = "; ".join(message for _, message in causes)
        return failed(status, Cause.POST_COMPUTE_FAILED_UNKNOWN_ISSUE, f"{said}; {error.message}")
    ctx.state.result_digest = info.digest
    ctx.state.callback_data = info.callback_data
    ctx.save()
    ctx.log.info("error-result-written", causes=[c.value for c in names], digest=info.digest)
    return failed_each(status, causes)
