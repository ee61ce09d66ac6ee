"""Reporting a replicate's status and reading the scheduler's next action (spec/worker.md §2.4).

pocopool's answers to `POST /replicates/{id}/updateStatus`:
- 200 + JSON string: the next action (an empty or null body means PLEASE_WAIT);
- 208 + "PLEASE_WAIT": this status was already reported — typically our first try went through but
  its answer was lost; the worker then follows the protocol's next action for that status (the
  answer it missed) instead of waiting for a push that will never come;
- 202, or 4xx with `{"error": …, "nextAction": "PLEASE_ABORT"}`: refused — the worker aborts and
  logs why;
- 401: the token expired — log in again and retry (done by the client);
- 5xx or no answer: retry with back-off until the task's final deadline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..protocol.http import error_message
from ..protocol.models import MAX_STATUS_BATCH, ReplicateStatusDetails, ReplicateStatusUpdate
from ..protocol.statuses import ReplicateStatus
from ..protocol.statuses import TaskNotificationType as Next
from ..protocol.time import Clock
from ..protocol.transitions import next_action
from .client import SchedulerClient, SchedulerError, SchedulerUnavailable, retry_until
from .logs import EventLogger


@dataclass(frozen=True)
class Reply:
    """What one answer means: an action to follow, or `retry` (the update was not taken)."""

    action: Next | None
    retry: bool = False
    error: str | None = None  # the scheduler's explanation of a refusal
    already_reported: bool = False


def _action(body: str) -> Next | None:
    text = body.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    if isinstance(value, dict):
        value = value.get("nextAction")
    if value is None:
        return None
    try:
        return Next(str(value))
    except ValueError:
        return None


def interpret_reply(status_code: int, body: str) -> Reply:
    """The meaning of one updateStatus answer (pure: tested with plain values)."""
    if status_code == 200:
        return Reply(_action(body) or Next.PLEASE_WAIT)
    if status_code == 208:
        return Reply(Next.PLEASE_WAIT, already_reported=True)
    if status_code == 202:
        return Reply(_action(body) or Next.PLEASE_ABORT, error="refused (202)")
    if status_code == 401 or status_code == 429 or status_code >= 500:
        return Reply(None, retry=True, error=f"HTTP {status_code}: {error_message(body, 1000)}")
    # Any other 4xx is a refusal that will not change by retrying: the replicate cannot go on.
    return Reply(_action(body) or Next.PLEASE_ABORT, error=f"HTTP {status_code}: {error_message(body, 1000)}")


Report = tuple[ReplicateStatus, ReplicateStatusDetails | None]


class StatusReporter:
    """Sends status updates and returns the next action, retrying until a deadline."""

    def __init__(self, client: SchedulerClient, clock: Clock) -> None:
        self.client = client
        self.clock = clock

    async def report(
        self,
        chain_task_id: str,
        status: ReplicateStatus,
        details: ReplicateStatusDetails | None,
        *,
        deadline: float,
        log: EventLogger,
    ) -> Next | None:
        """The scheduler's next action, or None if it could not be told before `deadline`."""
        return await self.report_many(chain_task_id, [(status, details)], deadline=deadline, log=log)

    async def report_many(
        self,
        chain_task_id: str,
        reports: list[Report],
        *,
        deadline: float,
        log: EventLogger,
    ) -> Next | None:
        """Several updates of one replicate, in order, in one request (one by one above the batch
        limit); the next action after the last, or None if they could not be told before `deadline`."""
        action: Next | None = None
        for start in range(0, len(reports), MAX_STATUS_BATCH):
            action = await self._send(chain_task_id, reports[start : start + MAX_STATUS_BATCH], deadline, log)
            if action is None or action is Next.PLEASE_ABORT:
                return action
        return action

    async def _send(self, chain_task_id: str, reports: list[Report], deadline: float, log: EventLogger) -> Next | None:
        updates = [ReplicateStatusUpdate(status=status, details=details) for status, details in reports]
        status, details = reports[-1]
        fields: dict[str, Any] = {"status": status.value}
        if len(reports) > 1:
            fields["batch"] = ",".join(s.value for s, _ in reports)
        if details is not None and details.cause is not None:
            fields["cause"] = details.cause.value
        if details is not None and details.errorMessage:
            fields["errorMessage"] = details.errorMessage

        async def send_once() -> Reply:
            try:
                if len(updates) == 1:
                    response = await self.client.update_status(chain_task_id, updates[0])
                else:
                    response = await self.client.update_statuses(chain_task_id, updates)
            except SchedulerUnavailable:
                raise
            except SchedulerError as error:  # e.g. the re-login itself was refused: try again later
                raise SchedulerUnavailable(str(error), error.status_code) from error
            reply = interpret_reply(response.status_code, response.text)
            if reply.retry:
                raise SchedulerUnavailable(reply.error or f"HTTP {response.status_code}", response.status_code)
            return reply

        try:
            reply = await retry_until(send_once, self.clock, log, f"updateStatus {status.value}", deadline=deadline)
        except TimeoutError as error:
            log.error("status-not-delivered", reason=str(error), **fields)
            return None
        if reply.already_reported:
            action = next_action(status, details.cause if details is not None else None)
            log.info("status-already-reported", next=action.value, **fields)
            return action
        if reply.error:
            log.warning(
                "status-refused", next=reply.action.value if reply.action else None, error=reply.error, **fields
            )
        else:
            log.info("status-sent", next=reply.action.value if reply.action else None, **fields)
        return reply.action
