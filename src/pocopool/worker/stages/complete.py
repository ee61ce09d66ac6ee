"""COMPLETE (PLEASE_COMPLETE): the task is completed on chain; delete its folder (spec/worker.md §6.13)."""

from __future__ import annotations

from ...protocol.models import TaskNotification
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..context import ReplicateContext
from .outcome import Outcome, failed, succeeded


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    if not await ctx.purge():
        return failed(
            RS.COMPLETE_FAILED, Cause.UNKNOWN, f"[worker] the task folder {ctx.paths.root} could not be deleted"
        )
    return succeeded(RS.COMPLETED)
