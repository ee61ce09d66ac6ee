"""Following tasks live, and everything a requester asks about a running task.

`follow(...)` re-reads a view each time the scheduler's event stream (`GET /events`, server-sent
events) says a status changed, and returns once the view is final. If the stream drops it polls
while it reconnects with the last event id; if the scheduler has no stream at all it just polls.

`task_insight(...)` adds to a task view what the pure functions of protocol/ say about it:
"waitingFor" (why it is not done yet), "timeline" and "consensus" (per replicate, with the chain's
rewards and seized stakes, and each worker's weight and score: when it contributed, now, and what
this task did to it), and "disagreement" when replicates contributed different results.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ..chain.base import Chain
from ..protocol import crypto
from ..protocol.contributions import contributions
from ..protocol.disagreement import disagreement
from ..protocol.statuses import ChainTaskStatus
from ..protocol.time import parse_time
from ..protocol.timeline import timeline
from ..protocol.views import SCORE_EVENTS, OnChainTask, ScoreMove, StakeMove, WorkerView
from ..protocol.waiting import refund_command, waiting_for
from .errors import ClientError

if TYPE_CHECKING:
    from .sdk import Requester

T = TypeVar("T")
HEARTBEAT = 2.0  # asked of the scheduler: the follower wakes at least this often to check its timeout
POLL_INTERVAL = 1.0
MIN_REFRESH = 0.2  # at most one re-read per this many seconds while events pour in


@dataclass(frozen=True)
class StreamEvent:
    id: str | None
    event: str
    data: dict[str, Any]


def iter_sse(lines: Iterator[str]) -> Iterator[StreamEvent | None]:
    """Events of a text/event-stream; None for each comment (heartbeats), so callers wake up."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                try:
                    data = json.loads(fields["data"])
                except json.JSONDecodeError:
                    data = {"raw": fields["data"]}
                yield StreamEvent(fields.get("id"), fields.get("event", "message"), data)
            fields = {}
            continue
        if line.startswith(":"):
            yield None
            continue
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        fields[key] = fields[key] + "\n" + value if key == "data" and key in fields else value


class Timeout(ClientError):
    def __init__(self, view: Any, message: str) -> None:
        super().__init__(message)
        self.view = view


def follow(
    scheduler_url: str,
    params: dict[str, str],
    fetch: Callable[[], T],
    is_final: Callable[[T], bool],
    on_view: Callable[[T], None],
    *,
    timeout: float = 600.0,
    http: httpx.Client | None = None,
) -> T:
    """Calls `on_view(fetch())` at the start and after each status change until `is_final`.

    Raises Timeout (with the last view) after `timeout` seconds.
    """
    client = http or httpx.Client()
    deadline = time.monotonic() + timeout
    view = fetch()
    on_view(view)
    last_id: str | None = None
    stream_supported = True
    try:
        while not is_final(view):
            if time.monotonic() > deadline:
                raise Timeout(view, f"still not final after {timeout:.0f} s")
            if stream_supported:
                try:
                    view, last_id, stream_supported = _read_stream(
                        client, scheduler_url, params, last_id, fetch, is_final, on_view, deadline, view
                    )
                    continue
                except httpx.HTTPError:
                    pass  # dropped: poll once below, then reconnect with the last event id
            time.sleep(POLL_INTERVAL)
            view = fetch()
            on_view(view)
    finally:
        if http is None:
            client.close()
    return view


def _read_stream(
    client: httpx.Client,
    url: str,
    params: dict[str, str],
    last_id: str | None,
    fetch: Callable[[], T],
    is_final: Callable[[T], bool],
    on_view: Callable[[T], None],
    deadline: float,
    view: T,
) -> tuple[T, str | None, bool]:
    """Follows one connection of the stream. A reader thread queues its events as they come; the
    view is read again as soon as one arrives (events that arrive together are read once, and two
    reads are at least MIN_REFRESH apart), so a change shows within MIN_REFRESH, never at the next
    heartbeat."""
    headers = {"Accept": "text/event-stream"}
    if last_id:
        headers["Last-Event-ID"] = last_id
    query = {**params, "heartbeat": str(HEARTBEAT)}
    timeout = httpx.Timeout(10.0, read=HEARTBEAT * 3 + 5)
    with client.stream("GET", f"{url.rstrip('/')}/events", params=query, headers=headers, timeout=timeout) as response:
        if response.status_code != 200:
            return view, last_id, False  # no stream on this scheduler: poll
        events: queue.Queue[StreamEvent | None | BaseException] = queue.Queue()
        threading.Thread(target=_pump, args=(response, events), daemon=True).start()
        # The view may have changed between the first read and the connection.
        view = fetch()
        on_view(view)
        last_read = time.monotonic()
        while not is_final(view) and time.monotonic() <= deadline:
            try:
                item = events.get(timeout=max(min(HEARTBEAT, deadline - time.monotonic()), 0.01))
            except queue.Empty:
                continue  # the reader's own read timeout reports a silent stream
            changed = False
            while True:  # everything that came together counts once
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, StreamEvent):
                    last_id, changed = item.id or last_id, True
                try:
                    item = events.get_nowait()
                except queue.Empty:
                    break
            if not changed:
                continue  # a heartbeat: only the deadline is checked
            pause = MIN_REFRESH - (time.monotonic() - last_read)
            if pause > 0:
                time.sleep(pause)
            view = fetch()
            on_view(view)
            last_read = time.monotonic()
        return view, last_id, True


_STREAM_ENDED = httpx.RemoteProtocolError("the event stream ended")


def _pump(response: httpx.Response, events: queue.Queue[StreamEvent | None | BaseException]) -> None:
    """The reader thread: every event (None for a heartbeat) into `events`, then how the stream ended."""
    try:
        for event in iter_sse(response.iter_lines()):
            events.put(event)
        events.put(_STREAM_ENDED)
    except Exception as error:  # noqa: BLE001 - handed to the follower, which reconnects or gives up
        events.put(error if isinstance(error, httpx.HTTPError) else httpx.ReadError(str(error)))


def is_bought(chain: Chain, task_id: str) -> bool:
    """Whether a deal on chain holds the task, initialized or not: a task just bought is on chain
    before the scheduler has seen its deal. Reads the deals of the chain, newest first."""
    task_id = crypto.normalize_bytes32(task_id, "task id")
    for event in reversed(chain.events(0, None, ("SchedulerNotice",))):
        deal = chain.view_deal(str(event.args.get("dealid")))
        if deal is not None and any(crypto.task_id(deal.deal_id, i) == task_id for i in deal.task_index_range()):
            return True
    return False


def _workers(requester: Requester) -> list[WorkerView]:
    """The scheduler's `GET /workers`; empty when it does not answer (the view says less, no more)."""
    try:
        answer = requester.http.get(f"{requester.scheduler_url}/workers")
        if answer.status_code == 200:
            return [WorkerView.model_validate(entry) for entry in answer.json()]
    except (httpx.HTTPError, ValueError):
        pass
    return []


def _on_chain(onchain: dict[str, Any] | None) -> OnChainTask | None:
    """The task view's "onchain" part, typed for the pure functions of protocol/."""
    if not onchain or not onchain.get("status"):
        return None
    return OnChainTask(status=ChainTaskStatus(onchain["status"]), consensus_value=onchain.get("consensusValue"))


def task_insight(requester: Requester, view: dict[str, Any], *, consensus: bool = True) -> dict[str, Any]:
    """The view with "waitingFor", "timeline" and (if asked) "consensus" and "disagreement" added."""
    task_id = view["taskId"]
    model = requester.scheduler_task(task_id)
    now = time.time()
    workers = _workers(requester) if model is not None and not view.get("final") else []
    onchain = _on_chain(view.get("onchain"))
    view["waitingFor"] = waiting_for(model, workers, onchain, now)
    view["claim"] = refund_command(
        task_id, onchain.status if onchain else None, parse_time((view.get("onchain") or {}).get("finalDeadline")), now
    )
    view["timeline"] = timeline(model, now)
    if consensus:
        moves: list[StakeMove] = []
        score_moves: list[ScoreMove] = []
        scores: dict[str, int] = {}
        if model is not None:
            block = model.dealBlockNumber or 0
            for event in requester.chain.events(block, None, ("Reward", "Seize", *SCORE_EVENTS)):
                if event.name in SCORE_EVENTS:
                    score_moves.append(ScoreMove.from_event(event.name, event.args))
                else:
                    moves.append(StakeMove.from_event(event.name, event.args))
            scores = {r.walletAddress: requester.chain.view_score(r.walletAddress) for r in model.replicates}
        view["consensus"] = contributions(model, onchain, moves, scores, score_moves)
        view["disagreement"] = disagreement(model, view["consensus"]) if model is not None else None
    return view
