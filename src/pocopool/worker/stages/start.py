"""START (PLEASE_START): preflight, then what a standard worker can refuse (spec/worker.md §6.1)."""

from __future__ import annotations

from ...protocol.models import TaskNotification
from ...protocol.statuses import ReplicateStatus as RS, ReplicateStatusCause as Cause
from ..context import ReplicateContext
from ..preflight import preflight, summarize
from .outcome import Outcome, failed, succeeded


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    failures = await preflight(ctx)
    if failures:
        return failed(RS.START_FAILED, failures[0].cause, summarize(failures))
    description = await ctx.description()
    if description.is_tee:
        return failed(RS.START_FAILED, Cause.TEE_NOT_SUPPORTED, f"deal tag {description.deal.tag} asks for a TEE; this worker runs standard tasks only")
    if description.params.iexec_result_encryption:
        return failed(
            RS.START_FAILED, Cause.TASK_DESCRIPTION_INVALID,
            "iexec_result_encryption=true needs a TEE task; a standard task cannot encrypt its result",
        )
    return succeeded(RS.STARTED)
