"""Resuming a replicate after a restart (spec/worker.md §2.5).

The scheduler's `GET /replicates/interrupted` (or a push for a task the worker no longer runs) says
what it expects next. The worker can only follow if it still holds the result: `output/iexec_out.zip`
with a readable computed.json, whose digest is computed again from the files. PLEASE_COMPLETE needs
nothing (the folder is deleted anyway) and PLEASE_ABORT is handled by the caller. Anything else is
not resumable: the task folder is deleted by the startup cleanup and the scheduler's timeouts end
the replicate, as in the reference.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..chain.base import Chain
from ..protocol.digest import DigestError
from ..protocol.models import TaskNotification, WorkerpoolAuthorization
from ..protocol.statuses import ReplicateStatusCause as Cause
from ..protocol.statuses import TaskNotificationType as Next
from .description import DescriptionUnavailable, TaskDescription, load_description
from .postcompute import read_result
from .state import ReplicateState
from .workspace import TaskPaths


@dataclass(frozen=True)
class Resumable:
    state: ReplicateState | None
    reason: str = ""  # why not, when state is None
    # The cause reported when it is not: the worker gave up its replicate, or it holds no authorization
    # to act on it (neither its state nor the scheduler's request carried one).
    cause: Cause = Cause.ABORTED_BY_WORKER
    # The task description read to resume (None for PLEASE_COMPLETE): the replicate's context keeps it,
    # so no stage of a resumed replicate reads the chain for it again (decision 134).
    description: TaskDescription | None = None


def authorization_of(notification: TaskNotification) -> WorkerpoolAuthorization | None:
    extra = notification.taskNotificationExtra
    return extra.workerpoolAuthorization if extra is not None else None


async def resumable_state(notification: TaskNotification, paths: TaskPaths, chain: Chain) -> Resumable:
    """The state to resume from, with the fresh authorization and the recomputed digest."""
    task_id = notification.chainTaskId
    state = ReplicateState.load(paths)
    authorization = authorization_of(notification)
    if authorization is not None:
        if state is None:
            state = ReplicateState(task_id, authorization.wire())
        else:
            state.authorization = authorization.wire()
    if state is None or not state.authorization:
        return Resumable(
            None,
            "no workerpool authorization: it holds no state for the task and the scheduler's request carried none",
            Cause.WORKERPOOL_AUTHORIZATION_NOT_FOUND,
        )
    if notification.taskNotificationType is Next.PLEASE_COMPLETE:
        return Resumable(state)
    if not paths.zip.is_file():
        return Resumable(None, "no result archive on disk")
    try:
        auth = state.workerpool_authorization
        description = await load_description(chain, task_id, auth.dealId, auth.taskIndex)
        result = await asyncio.to_thread(read_result, paths, description.has_callback)
    except (DescriptionUnavailable, DigestError) as error:
        return Resumable(None, str(error))
    state.result_digest, state.callback_data = result.digest, result.callback_data
    return Resumable(state, description=description)
