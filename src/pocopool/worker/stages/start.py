"""START (PLEASE_START): preflight, then what a standard worker can refuse, or the TEE session
(spec/worker.md §6.1; worker/tee/session.py)."""

from __future__ import annotations

from ...protocol.models import TaskNotification
from ...protocol.params import args_problem
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ...protocol.tee import SIMULATION_LABEL
from ..context import ReplicateContext
from ..preflight import causes, preflight
from ..tee import session as tee_session
from .outcome import Outcome, failed, failed_each, succeeded


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    failures = await preflight(ctx)
    if failures:
        return failed_each(RS.START_FAILED, causes(failures))
    description = await ctx.description()
    # The requester's input, refused before anything is downloaded: arguments the app cannot be given
    # are the deal's fault, not the app's (the CLI refuses them before buying; other clients may not).
    problem = args_problem(description.params.iexec_args) if description.params.iexec_args else None
    if problem is not None:
        return failed(RS.START_FAILED, Cause.TASK_DESCRIPTION_INVALID, f"the deal's iexec_args {problem}")
    if description.is_tee:
        extra = notification.taskNotificationExtra
        ctx.state.sms_url = (extra.smsUrl if extra and extra.smsUrl else None) or ctx.state.sms_url
        try:
            ctx.state.tee_session_id = await tee_session.start(ctx, description, ctx.state.sms_url)
        except tee_session.TeeRefused as refused:
            return failed(RS.START_FAILED, refused.cause, refused.message)
        ctx.save()
        ctx.log.info("tee-session-created", session=ctx.state.tee_session_id, platform=SIMULATION_LABEL)
        return succeeded(RS.STARTED)
    if description.params.iexec_result_encryption:
        return failed(
            RS.START_FAILED,
            Cause.TASK_DESCRIPTION_INVALID,
            "iexec_result_encryption=true needs a TEE task; a standard task cannot encrypt its result",
        )
    return succeeded(RS.STARTED)
