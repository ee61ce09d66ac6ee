"""ABORT (PLEASE_ABORT, pushed or answered): stop everything for the task, purge, report ABORTED.

The runner cancels the running stage first (the runtime kills the app's process group on
cancellation); this stage then deletes the task folder and names the cause: the push's
taskAbortCause mapped to a replicate cause (CONSENSUS_REACHED, CONTRIBUTION_TIMEOUT), else UNKNOWN.
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


async def run(ctx: ReplicateContext, notification: TaskNotification | None) -> Outcome:
    await ctx.purge()
    return failed(RS.ABORTED, abort_cause(notification))
