"""The worker's scheduler client over real HTTP (spec/worker.md §2.4 and §3.1 with pocopool's answers).

Each test plays the scheduler's answers from a real HTTP server on 127.0.0.1 (aiohttp.web on a port of
its own), so the client's transport, login, re-login and errors are the ones a worker meets.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from aiohttp import web

from pocopool.protocol.crypto import recover_login
from pocopool.protocol.models import ReplicateStatusDetails
from pocopool.protocol.statuses import ReplicateStatus as RS
from pocopool.protocol.statuses import ReplicateStatusCause as Cause
from pocopool.protocol.statuses import TaskNotificationType as Next
from pocopool.worker.client import SchedulerClient, SchedulerError, SchedulerUnavailable
from pocopool.worker.logs import get_logger
from pocopool.worker.status import StatusReporter

KEY = "0x" + "b2" * 32
TASK = "0x" + "7a" * 32
CHALLENGE = "0x" + "ab" * 32


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


@dataclass(frozen=True)
class Call:
    """One request as the scheduler received it."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str
    content: bytes


DROP = web.Response(status=599)  # not sent: the server closes the connection without an answer
Play = Callable[[Call], web.StreamResponse]


@asynccontextmanager
async def scheduler_playing(play: Play, *, slow: dict[str, float] | None = None) -> AsyncIterator[str]:
    """The base URL of a server that answers each request with `play(call)`, a path of `slow` after
    that many seconds.

    An assertion that fails inside `play` fails the test with its own message when the server stops.
    """
    failures: list[BaseException] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        call = Call(
            request.method,
            request.path,
            dict(request.query),
            request.headers.get("Authorization", ""),
            await request.read(),
        )
        await asyncio.sleep((slow or {}).get(call.path, 0.0))
        try:
            answer = play(call)
        except BaseException as error:
            failures.append(error)
            raise
        if answer is DROP and request.transport is not None:
            request.transport.abort()  # the client reads a closed connection; aiohttp writes nothing more
        return answer

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()
        if failures:
            raise failures[0]


def logged_in(answer: Callable[[Call], web.StreamResponse]) -> Play:
    """A scheduler that accepts any login (token "token") and answers everything else with `answer`."""

    def play(call: Call) -> web.StreamResponse:
        if call.path == "/workers/challenge":
            return web.Response(text=CHALLENGE)
        if call.path == "/workers/login":
            return web.Response(text="token")
        return answer(call)

    return play


def client_of(base_url: str, timeout: float = 10.0) -> SchedulerClient:
    return SchedulerClient(base_url, KEY, get_logger("test"), timeout=timeout)


async def test_the_reporter_logs_in_again_on_401_and_backs_off_on_5xx() -> None:
    calls: list[tuple[str, str]] = []
    answers = iter(
        [
            web.Response(status=401),
            web.json_response({"error": "chain unhealthy"}, status=503),
            web.json_response("PLEASE_DOWNLOAD_APP"),
        ]
    )
    tokens = iter(["token-1", "token-2"])

    def scheduler(call: Call) -> web.StreamResponse:
        calls.append((call.path, call.authorization))
        if call.path == "/workers/challenge":
            return web.Response(text=CHALLENGE)
        if call.path == "/workers/login":
            signer = recover_login(CHALLENGE, json.loads(call.content)["value"])
            assert signer == call.query["walletAddress"]
            return web.Response(text=next(tokens))
        body = json.loads(call.content)
        assert body == {"status": "STARTED"}
        return next(answers)

    clock = FastClock()
    async with scheduler_playing(scheduler) as url:
        client = client_of(url)
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
    clock = FastClock()
    async with scheduler_playing(logged_in(lambda call: web.json_response("PLEASE_WAIT", status=208))) as url:
        client = client_of(url)
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
    clock = FastClock()
    async with scheduler_playing(logged_in(lambda call: DROP)) as url:
        client = client_of(url)
        details = ReplicateStatusDetails(cause=Cause.APP_COMPUTE_FAILED, errorMessage="app exited with code 3")
        action = await StatusReporter(client, clock).report(
            TASK, RS.COMPUTE_FAILED, details, deadline=clock.now() + 30, log=get_logger("test")
        )
        await client.close()
    assert action is None
    assert sum(clock.slept) == pytest.approx(30, abs=0.01)
    assert all(pause > 0 for pause in clock.slept)


async def test_a_5xx_is_unavailable_and_names_the_method_and_url() -> None:
    answer = web.json_response({"error": "chain unhealthy", "code": "CHAIN_UNHEALTHY"}, status=503)
    async with scheduler_playing(logged_in(lambda call: answer)) as url:
        client = client_of(url)
        with pytest.raises(SchedulerUnavailable) as raised:
            await client.available(block_number=7)
        await client.close()
    assert raised.value.status_code == 503
    assert str(raised.value) == f"503 GET {url}/replicates/available?blockNumber=7&timeout=0.0: chain unhealthy"


async def test_a_refused_connection_is_unavailable_and_names_the_method_and_url() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: a connection to it is refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        client = client_of(url)
        with pytest.raises(SchedulerUnavailable) as raised:
            await client.get_config()
        await client.close()
    assert raised.value.status_code is None
    assert str(raised.value).startswith(f"GET {url}/workers/config: ClientConnectorError ")


async def test_a_401_logs_in_again_and_retries_exactly_once() -> None:
    calls: list[tuple[str, str]] = []

    def refuse(call: Call) -> web.StreamResponse:
        return web.json_response({"error": "token expired"}, status=401)

    play = logged_in(refuse)

    def scheduler(call: Call) -> web.StreamResponse:
        calls.append((call.method, call.path))
        return play(call)

    async with scheduler_playing(scheduler) as url:
        client = client_of(url)
        with pytest.raises(SchedulerError) as raised:
            await client.ping()
        await client.close()
    assert not isinstance(raised.value, SchedulerUnavailable)
    assert str(raised.value) == f"ping refused: 401 POST {url}/workers/ping: token expired"
    login = [("GET", "/workers/challenge"), ("POST", "/workers/login")]
    assert calls == [*login, ("POST", "/workers/ping"), *login, ("POST", "/workers/ping")]


async def test_a_held_ask_waits_its_hold_beyond_the_clients_timeout() -> None:
    slow = {"/replicates/available": 0.8, "/workers/ping": 0.8}
    async with scheduler_playing(logged_in(lambda call: web.Response(status=204)), slow=slow) as url:
        client = client_of(url, timeout=0.5)
        assert await client.available(block_number=7, hold=1.0) is None
        with pytest.raises(SchedulerUnavailable) as raised:
            await client.ping()  # no hold: the client's own 0.5 s
        await client.close()
    assert str(raised.value) == f"POST {url}/workers/ping: TimeoutError no answer within 0.5 s"
