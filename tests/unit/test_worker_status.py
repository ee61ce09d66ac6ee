"""Status reporting and the next action (spec/worker.md §2.4 with pocopool's HTTP answers), as plain values.

The reporter and its client over real HTTP: tests/integration/worker/test_worker_scheduler_client.py.
"""

from __future__ import annotations

import json

import pytest

from pocopool.protocol.crypto import ZERO_ADDRESS
from pocopool.protocol.models import TaskNotification, TaskNotificationExtra
from pocopool.protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from pocopool.protocol.statuses import (
    TaskAbortCause,
)
from pocopool.protocol.statuses import (
    TaskNotificationType as Next,
)
from pocopool.worker.notifications import addressed_to
from pocopool.worker.stages.abort import abort_cause
from pocopool.worker.stages.contribute import revert_cause
from pocopool.worker.status import interpret_reply

TASK = "0x" + "7a" * 32


@pytest.mark.parametrize(
    ("code", "body", "action", "retry"),
    [
        (200, '"PLEASE_DOWNLOAD_APP"', Next.PLEASE_DOWNLOAD_APP, False),
        (200, '"PLEASE_CONTINUE"', Next.PLEASE_CONTINUE, False),
        (200, "", Next.PLEASE_WAIT, False),  # no next action: nothing to do
        (200, "null", Next.PLEASE_WAIT, False),
        (208, '"PLEASE_WAIT"', Next.PLEASE_WAIT, False),
        (202, '"PLEASE_ABORT"', Next.PLEASE_ABORT, False),
        (
            409,
            '{"error": "CONTRIBUTED is not allowed after STARTED", "nextAction": "PLEASE_ABORT"}',
            Next.PLEASE_ABORT,
            False,
        ),
        (404, '{"error": "unknown replicate", "nextAction": "PLEASE_ABORT"}', Next.PLEASE_ABORT, False),
        (403, '{"error": "not your replicate"}', Next.PLEASE_ABORT, False),
        (401, "", None, True),
        (503, '{"error": "chain down"}', None, True),
        (500, "boom", None, True),
    ],
)
def test_each_answer_to_a_status_update_has_one_meaning(code: int, body: str, action: Next | None, retry: bool) -> None:
    reply = interpret_reply(code, body)
    assert (reply.action, reply.retry) == (action, retry)


def test_a_refusal_keeps_the_schedulers_explanation() -> None:
    reply = interpret_reply(
        409, json.dumps({"error": "CONTRIBUTED is not allowed after STARTED", "nextAction": "PLEASE_ABORT"})
    )
    assert reply.error == "HTTP 409: CONTRIBUTED is not allowed after STARTED"


@pytest.mark.parametrize(
    ("extra", "cause"),
    [
        (None, Cause.UNKNOWN),
        (TaskNotificationExtra(), Cause.UNKNOWN),
        (TaskNotificationExtra(taskAbortCause=TaskAbortCause.CONSENSUS_REACHED), Cause.CONSENSUS_REACHED),
        (TaskNotificationExtra(taskAbortCause=TaskAbortCause.CONTRIBUTION_TIMEOUT), Cause.CONTRIBUTION_TIMEOUT),
        (TaskNotificationExtra(taskAbortCause=TaskAbortCause.UNKNOWN), Cause.UNKNOWN),
    ],
)
def test_aborted_carries_the_pushed_abort_cause(extra: TaskNotificationExtra | None, cause: Cause) -> None:
    notification = TaskNotification(
        chainTaskId=TASK, taskNotificationType=Next.PLEASE_ABORT, taskNotificationExtra=extra
    )
    assert abort_cause(notification) is cause


@pytest.mark.parametrize(
    ("rule", "cause"),
    [
        ("task-not-active", Cause.TASK_NOT_ACTIVE),
        ("contribution-deadline-passed", Cause.CONTRIBUTION_TIMEOUT),
        ("insufficient-balance", Cause.STAKE_TOO_LOW),
        ("already-contributed", Cause.CONTRIBUTION_ALREADY_SET),
        ("invalid-authorization", Cause.CHAIN_RECEIPT_NOT_VALID),
    ],
)
def test_a_contribute_revert_maps_to_its_cause(rule: str, cause: Cause) -> None:
    assert revert_cause(rule) is cause


def test_a_push_is_for_this_worker_when_it_names_it_or_nobody() -> None:
    me, other = "0x" + "11" * 20, "0x" + "22" * 20

    def push(addresses: list[str]) -> TaskNotification:
        return TaskNotification(chainTaskId=TASK, workersAddress=addresses, taskNotificationType=Next.PLEASE_COMPLETE)

    assert addressed_to(push([]), me)
    assert addressed_to(push([other, me.upper().replace("0X", "0x")]), me)
    assert not addressed_to(push([other]), me)
    assert not addressed_to(push([ZERO_ADDRESS]), me)
