"""The scheduler's HTTP API as the worker uses it (docs/contracts.md "Scheduler HTTP API").

One aiohttp ClientSession per client: a keep-alive connection pool and timeouts (decision 142: httpx
cost a third of a worker's CPU). Login is the wallet challenge of spec/worker.md §3.1; any 401 on an
authenticated call triggers one re-login and one retry. Transport errors and 5xx answers are raised as
`SchedulerUnavailable` so that each caller decides how long to keep retrying (see `retry_until`): a loop
simply waits for its next tick, a status update retries until the task's final deadline, startup
retries until the worker is stopped. Answers are `SchedulerResponse` values: nothing of aiohttp leaks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import aiohttp

from ..protocol.crypto import sign_login
from ..protocol.http import error_message
from ..protocol.keys import Wallet
from ..protocol.models import (
    NotificationBatch,
    PublicConfiguration,
    ReplicateStatusUpdate,
    ReplicateTaskSummary,
    Signature,
    TaskNotification,
    WorkerModel,
)
from ..protocol.time import Clock
from .backoff import Backoff
from .logs import EventLogger

T = TypeVar("T")

Params = Mapping[str, str | int | float]

# Below uvicorn's keep-alive (5 s), so the pool drops an idle connection before the scheduler does
# rather than sending a request on a socket the scheduler is closing.
KEEPALIVE_S = 4.0
_to_json = partial(json.dumps, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class SchedulerError(Exception):
    """The scheduler answered something the worker cannot use (a 4xx, a malformed body)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class SchedulerUnavailable(SchedulerError):
    """The scheduler could not be reached or answered 5xx: worth retrying later."""


@dataclass(frozen=True)
class SchedulerResponse:
    """One answer of the scheduler, read whole: its status, body and the request it answers."""

    status_code: int
    method: str
    url: str  # as sent, with its query
    content: bytes
    encoding: str = "utf-8"  # the Content-Type's charset, else UTF-8

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ValueError (json.JSONDecodeError) when it is not."""
        return json.loads(self.text)


def _text(response: SchedulerResponse) -> str:
    """A text answer, whether the server sent it raw or as a JSON string."""
    body = response.text.strip()
    if body.startswith('"'):
        try:
            value = json.loads(body)
        except json.JSONDecodeError:
            return body
        return value if isinstance(value, str) else body
    return body


def refusal(status_code: int, method: str, url: str, body: str) -> str:
    """`<status> <METHOD> <url>: <error body>` — the root cause kept for error messages."""
    return f"{status_code} {method} {url}: {error_message(body, 500)}"


def describe(response: SchedulerResponse) -> str:
    """`refusal` of one scheduler answer."""
    return refusal(response.status_code, response.method, response.url, response.text)


def _query(params: Params | None) -> dict[str, str] | None:
    """Query values spelled by `str` (`timeout=0.0` stays `0.0`; yarl would respell a float)."""
    return None if params is None else {name: str(value) for name, value in params.items()}


class SchedulerClient:
    def __init__(
        self,
        base_url: str,
        private_key: str,
        log: EventLogger,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = private_key
        self.wallet = Wallet.from_key(private_key).address
        self.log = log
        self.timeout = timeout
        self._connect_timeout = min(timeout, 5.0)
        self._default_timeout = self._timeout(timeout)
        # Opened on first use: an aiohttp session belongs to the running event loop.
        self._http: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._login_lock = asyncio.Lock()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    # ----- plumbing ----------------------------------------------------------------------------
    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
                timeout=self._default_timeout,
                json_serialize=_to_json,
            )
        return self._http

    def _timeout(self, total: float) -> aiohttp.ClientTimeout:
        """`total` for the whole call (a held ask: its hold plus the client's timeout); connecting
        never waits longer than the client's connect timeout."""
        return aiohttp.ClientTimeout(total=total, connect=self._connect_timeout)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        auth: bool,
        timeout: float | None = None,
        params: Params | None = None,
        json: Any = None,
    ) -> SchedulerResponse:
        headers = {"Authorization": f"Bearer {self._token}"} if auth and self._token else {}
        try:
            async with self._session().request(
                method,
                self.base_url + path,
                params=_query(params),
                json=json,
                headers=headers,
                timeout=self._default_timeout if timeout is None else self._timeout(timeout),
                allow_redirects=False,
            ) as answer:
                response = SchedulerResponse(
                    answer.status, method, str(answer.url), await answer.read(), answer.charset or "utf-8"
                )
        except (aiohttp.ClientError, TimeoutError) as error:
            # aiohttp's TimeoutError says nothing of itself: name the limit it hit.
            detail = str(error) or f"no answer within {self.timeout if timeout is None else timeout} s"
            raise SchedulerUnavailable(f"{method} {self.base_url}{path}: {type(error).__name__} {detail}") from error
        if response.status_code >= 500:
            raise SchedulerUnavailable(describe(response), response.status_code)
        return response

    async def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        timeout: float | None = None,
        params: Params | None = None,
        json: Any = None,
    ) -> SchedulerResponse:
        """One call; on 401 log in again and retry once. 5xx/transport errors raise SchedulerUnavailable."""
        if auth and self._token is None:
            await self.login()
        token_used = self._token
        response = await self._send(method, path, auth=auth, timeout=timeout, params=params, json=json)
        if auth and response.status_code == 401:
            self.log.info("scheduler-token-refused", path=path)
            await self.login(stale=token_used)
            response = await self._send(method, path, auth=auth, timeout=timeout, params=params, json=json)
        return response

    # ----- login -------------------------------------------------------------------------------
    async def login(self, stale: str | None = None) -> None:
        """Challenge → raw signature of keccak(javaHex(challenge)) → JWT (spec/worker.md §3.1).

        Concurrent callers share one login: whoever comes second sees a fresh token and returns.
        """
        async with self._login_lock:
            if self._token is not None and self._token != stale:
                return
            wallet = self.wallet
            response = await self._send("GET", "/workers/challenge", auth=False, params={"walletAddress": wallet})
            if response.status_code != 200:
                raise SchedulerError(f"login challenge refused: {describe(response)}", response.status_code)
            challenge = _text(response)
            signature = Signature(value=sign_login(self._key, challenge))
            response = await self._send(
                "POST", "/workers/login", auth=False, params={"walletAddress": wallet}, json=signature.wire()
            )
            if response.status_code != 200:
                raise SchedulerError(f"login refused: {describe(response)}", response.status_code)
            self._token = _text(response)
            self.log.info("logged-in", scheduler=self.base_url)

    # ----- API ---------------------------------------------------------------------------------
    async def get_config(self) -> PublicConfiguration:
        response = await self.request("GET", "/workers/config", auth=False)
        if response.status_code != 200:
            raise SchedulerError(f"cannot read the scheduler configuration: {describe(response)}", response.status_code)
        return PublicConfiguration.model_validate(response.json())

    async def register(self, model: WorkerModel) -> dict[str, Any]:
        response = await self.request("POST", "/workers/register", json=model.wire())
        if response.status_code != 200:
            raise SchedulerError(f"register refused: {describe(response)}", response.status_code)
        return response.json()

    async def ping(self) -> str:
        response = await self.request("POST", "/workers/ping")
        if response.status_code != 200:
            raise SchedulerError(f"ping refused: {describe(response)}", response.status_code)
        return _text(response)

    async def available(self, block_number: int, hold: float = 0.0) -> ReplicateTaskSummary | None:
        """The next replicate; the scheduler may wait up to `hold` seconds for one to fit."""
        response = await self.request(
            "GET",
            "/replicates/available",
            params={"blockNumber": block_number, "timeout": hold},
            timeout=hold + self.timeout,
        )
        if response.status_code == 204 or not response.content:
            return None
        if response.status_code != 200:
            raise SchedulerError(f"ask for replicate refused: {describe(response)}", response.status_code)
        return ReplicateTaskSummary.model_validate(response.json())

    async def interrupted(self, block_number: int) -> list[TaskNotification]:
        response = await self.request("GET", "/replicates/interrupted", params={"blockNumber": block_number})
        if response.status_code != 200:
            raise SchedulerError(f"recovery refused: {describe(response)}", response.status_code)
        return [TaskNotification.model_validate(item) for item in response.json() or []]

    async def notifications(self, after: int, wait: float) -> NotificationBatch:
        response = await self.request(
            "GET",
            "/workers/notifications",
            params={"after": after, "timeout": int(wait)},
            timeout=wait + self.timeout,
        )
        if response.status_code != 200:
            raise SchedulerError(f"notifications refused: {describe(response)}", response.status_code)
        return NotificationBatch.model_validate(response.json())

    async def update_status(self, chain_task_id: str, update: ReplicateStatusUpdate) -> SchedulerResponse:
        return await self.request("POST", f"/replicates/{chain_task_id}/updateStatus", json=update.wire())

    async def update_statuses(self, chain_task_id: str, updates: list[ReplicateStatusUpdate]) -> SchedulerResponse:
        """Several updates in one request, applied in order (pocopool's batch of quick stages)."""
        return await self.request(
            "POST", f"/replicates/{chain_task_id}/updateStatuses", json=[update.wire() for update in updates]
        )


async def retry_until(
    call: Callable[[], Awaitable[T]],
    clock: Clock,
    log: EventLogger,
    what: str,
    *,
    deadline: float | None = None,
    backoff: Backoff | None = None,
) -> T:
    """Call until it does not raise SchedulerUnavailable; back off between tries.

    Raises TimeoutError once `deadline` (clock seconds) has passed; without a deadline it retries
    until cancelled.
    """
    backoff = backoff or Backoff()
    while True:
        try:
            return await call()
        except SchedulerUnavailable as error:
            left = None if deadline is None else deadline - clock.now()
            if left is not None and left <= 0:
                raise TimeoutError(f"{what}: gave up at the deadline; last error: {error}") from error
            log.warning("scheduler-unavailable", call=what, error=str(error))
            await backoff.wait(clock, left)
