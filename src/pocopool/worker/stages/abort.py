"""ABORT (PLEASE_ABORT, pushed or answered): stop everything for the task, purge, report ABORTED.

The runner cancels the running stage first (the runtime kills the app's process group on
cancellation); this stage then deletes the task folder and names the cause: the push's
taskAbortCause mapped to a replicate cause (CONSENSUS_REACHED, CONTRIBUTION_TIMEOUT); else, when the
abort answers the replicate's own failure (COMPUTE_FAILED for APP_COMPUTE_FAILED…), that failure's
cause, so that a replicate never shows UNKNOWN while its real cause is known; else UNKNOWN.
"""

from __future__ import annotations

from ...protocol.models import TaskNotification
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..context import ReplicateContext
from .outcome import Outcome, failed


def abort_cause(notification: TaskNotification | None) -> Cause:
    extra = notification.taskNotificationExtra if notification is not None else None
    if extra is None or extra.taskAbortCause is None:
        return Cause.UNKNOWN
    return extra.taskAbortCause.as_replicate_cause()


async def run(
    ctx: ReplicateContext, notification: TaskNotification | None, own_failure: Cause | None = None
) -> Outcome:
    await ctx.purge()
    cause = abort_cause(notification)
    if cause is Cause.UNKNOWN and own_failure is not None:
        return failed(RS.ABORTED, own_failure, f"[worker] stopped after its own failure ({own_failure.value})")
    if cause is Cause.UNKNOWN:
        return failed(RS.ABORTED, cause, "[worker] stopped: the scheduler asked it to abort without a reason")
    return failed(RS.ABORTED, cause, f"[worker] stopped: the scheduler asked it to abort ({cause.value})")
