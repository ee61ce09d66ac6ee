"""Status reporting and the next action (spec/worker.md §2.4 with pocopool's HTTP answers)."""

from __future__ import annotations

import json

import httpx
import pytest

from pocopool.protocol.crypto import ZERO_ADDRESS, recover_login
from pocopool.protocol.models import ReplicateStatusDetails, TaskNotification, TaskNotificationExtra
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
)
from pocopool.protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from pocopool.protocol.statuses import (
    TaskAbortCause,
)
from pocopool.protocol.statuses import (
    TaskNotificationType as Next,
)
from pocopool.worker.client import SchedulerClient
from pocopool.worker.logs import get_logger
from pocopool.worker.notifications import addressed_to
from pocopool.worker.stages.abort import abort_cause
from pocopool.worker.stages.contribute import revert_cause
from pocopool.worker.status import StatusReporter, interpret_reply

KEY = "0x" + "b2" * 32
TASK = "0x" + "7a" * 32


class FastClock:
    """Virtual time that jumps forward on every sleep: back-off without waiting."""

    def __init__(self) -> None:
        self.t = 1_000_000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


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


async def test_the_reporter_logs_in_again_on_401_and_backs_off_on_5xx() -> None:
    calls: list[tuple[str, str]] = []
    answers = iter(
        [
            httpx.Response(401),
            httpx.Response(503, json={"error": "chain unhealthy"}),
            httpx.Response(200, json="PLEASE_DOWNLOAD_APP"),
        ]
    )
    tokens = iter(["token-1", "token-2"])

    def scheduler(request: httpx.Request) -> httpx.Response:
        calls.append((request.url.path, request.headers.get("authorization", "")))
        if request.url.path == "/workers/challenge":
            return httpx.Response(200, text="0x" + "ab" * 32)
        if request.url.path == "/workers/login":
            signer = recover_login("0x" + "ab" * 32, json.loads(request.content)["value"])
            assert signer == request.url.params["walletAddress"]
            return httpx.Response(200, text=next(tokens))
        body = json.loads(request.content)
        assert body == {"status": "STARTED"}
        return next(answers)

    clock = FastClock()
    client = SchedulerClient("http://scheduler", KEY, get_logger("test"), transport=httpx.MockTransport(scheduler))
    reporter = StatusReporter(client, clock)
    action = await reporter.report(TASK, RS.STARTED, None, deadline=clock.now() + 60, log=get_logger("test"))
    await client.close()
    assert action is Next.PLEASE_DOWNLOAD_APP
    update = f"/replicates/{TASK}/updateStatus"
    assert calls == [
        ("/workers/challenge", ""),
        ("/workers/login", ""),
        (update, "Bearer token-1"),
        ("/workers/challenge", ""),
        ("/workers/login", ""),
        (update, "Bearer token-2"),
        (update, "Bearer token-2"),
    ]
    assert len(clock.slept) == 1  # one pause before retrying the 503, never a tight loop


async def test_an_already_reported_status_follows_the_answer_that_was_lost() -> None:
    def scheduler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/workers/challenge":
            return httpx.Response(200, text="0x" + "ab" * 32)
        if request.url.path == "/workers/login":
            return httpx.Response(200, text="token")
        return httpx.Response(208, json="PLEASE_WAIT")

    clock = FastClock()
    client = SchedulerClient("http://scheduler", KEY, get_logger("test"), transport=httpx.MockTransport(scheduler))
    reporter = StatusReporter(client, clock)
    log = get_logger("test")
    started = await reporter.report(TASK, RS.STARTED, None, deadline=clock.now() + 60, log=log)
    failed = await reporter.report(
        TASK,
        RS.APP_DOWNLOAD_FAILED,
        ReplicateStatusDetails(cause=Cause.APP_IMAGE_DOWNLOAD_FAILED),
        deadline=clock.now() + 60,
        log=log,
    )
    contributed = await reporter.report(TASK, RS.CONTRIBUTED, None, deadline=clock.now() + 60, log=log)
    await client.close()
    assert (started, failed, contributed) == (Next.PLEASE_DOWNLOAD_APP, Next.PLEASE_CONTRIBUTE, Next.PLEASE_WAIT)


async def test_the_reporter_gives_up_at_the_final_deadline() -> None:
    def scheduler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/workers/challenge":
            return httpx.Response(200, text="0x" + "ab" * 32)
        if request.url.path == "/workers/login":
            return httpx.Response(200, text="token")
        raise httpx.ConnectError("connection refused", request=request)

    clock = FastClock()
    client = SchedulerClient("http://scheduler", KEY, get_logger("test"), transport=httpx.MockTransport(scheduler))
    details = ReplicateStatusDetails(cause=Cause.APP_COMPUTE_FAILED, errorMessage="app exited with code 3")
    action = await StatusReporter(client, clock).report(
        TASK, RS.COMPUTE_FAILED, details, deadline=clock.now() + 30, log=get_logger("test")
    )
    await client.close()
    assert action is None
    assert sum(clock.slept) == pytest.approx(30, abs=0.01)
    assert all(pause > 0 for pause in clock.slept)


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
