"""Live status events: `GET /events?task=ID` or `?deal=ID`, as server-sent events.

The stream is a view of the status histories, not a second source of truth: each event is one
stored row (a task status change or a replicate status update), read back from the database after
the commit that wrote it. The event id is `<last task change id>-<last replicate update id>`, so a
client that reconnects with `Last-Event-ID` (or `?after=`) gets exactly what it missed, even after a
scheduler restart. `StatusFeed` only wakes the open streams when the store says it wrote statuses;
streams also re-read the database every few seconds, so a write of another process is never missed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import StreamingResponse

from ..protocol.crypto import InvalidHex, normalize_bytes32
from .errors import Unprocessable

if TYPE_CHECKING:
    from .service import Scheduler

HEARTBEAT = 15.0  # seconds between ": heartbeat" comments on an idle stream
RECHECK = 2.0  # re-read the database this often even without a wake-up (writes of other processes)


class StatusFeed:
    """Wakes the open event streams after each commit of statuses; counts status writes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._closed = False
        self.status_writes = 0  # task status changes + replicate status updates written since start

    @property
    def closed(self) -> bool:
        return self._closed

    def written(self, count: int) -> None:
        self.status_writes += count
        event, self._event = self._event, asyncio.Event()
        event.set()

    def ticket(self) -> asyncio.Event:
        """Take it *before* reading the database: a write committed afterwards sets it."""
        return self._event

    async def wait(self, ticket: asyncio.Event, timeout: float) -> None:
        try:
            await asyncio.wait_for(ticket.wait(), timeout)
        except TimeoutError:
            pass

    def close(self) -> None:
        """Ends every open stream (shutdown)."""
        self._closed = True
        self._event.set()


def parse_cursor(value: str | None) -> tuple[int, int]:
    """`"12-40"` -> (12, 40); anything unreadable starts from the beginning."""
    if not value:
        return 0, 0
    try:
        task_part, replicate_part = value.strip().split("-", 1)
        return max(int(task_part), 0), max(int(replicate_part), 0)
    except ValueError:
        return 0, 0


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def merge_events(task_rows: list[Mapping[str, Any]], replicate_rows: list[Mapping[str, Any]],
                 cursor: tuple[int, int]) -> list[tuple[str, str, dict[str, Any]]]:
    """The rows as (event id, event name, data), in time order; each id covers everything before it."""
    items: list[tuple[Any, int, str, Mapping[str, Any]]] = (
        [(row["date"], 0, "task", row) for row in task_rows]
        + [(row["date"], 1, "replicate", row) for row in replicate_rows]
    )
    items.sort(key=lambda item: (item[0], item[1], item[3]["id"]))
    task_cursor, replicate_cursor = cursor
    events = []
    for _, _, kind, row in items:
        if kind == "task":
            task_cursor = max(task_cursor, row["id"])
            data = {"type": "task", "chainTaskId": row["task_id"], "dealId": row["deal_id"],
                    "status": row["status"], "date": _date(row["date"]), "cause": row["cause"],
                    "message": row["message"]}
        else:
            replicate_cursor = max(replicate_cursor, row["id"])
            data = {"type": "replicate", "chainTaskId": row["task_id"], "dealId": row["deal_id"],
                    "walletAddress": row["wallet"], "status": row["status"], "date": _date(row["date"]),
                    "cause": row["cause"]}
        events.append((f"{task_cursor}-{replicate_cursor}", kind, {k: v for k, v in data.items() if v is not None}))
    return events


def install(app: FastAPI, scheduler: Scheduler) -> None:
    s = scheduler

    @app.get("/events", tags=["tasks"], response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "one event per task status change or replicate status update"}})
    async def events(
        request: Request,
        task: Annotated[str | None, Query(description="only this task")] = None,
        deal: Annotated[str | None, Query(description="only the tasks of this deal")] = None,
        after: Annotated[str | None, Query(description="resume after this event id")] = None,
        heartbeat: Annotated[float, Query(ge=0.5, le=60, description="seconds between heartbeats")] = HEARTBEAT,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        try:
            task_id = normalize_bytes32(task) if task else None
            deal_id = normalize_bytes32(deal) if deal else None
        except InvalidHex:
            raise Unprocessable("task and deal must be 0x followed by 64 hex digits") from None
        cursor = parse_cursor(last_event_id or after)

        async def stream() -> AsyncIterator[str]:
            nonlocal cursor
            loop = asyncio.get_running_loop()
            yield "retry: 1000\n\n"
            last_sent = loop.time()
            while not s.feed.closed:
                ticket = s.feed.ticket()
                task_rows, replicate_rows = await s.store.status_events_after(
                    cursor[0], cursor[1], task_id=task_id, deal_id=deal_id)
                for event_id, kind, data in merge_events(task_rows, replicate_rows, cursor):
                    yield f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data)}\n\n"
                    last_sent = loop.time()
                if task_rows:
                    cursor = (task_rows[-1]["id"], cursor[1])
                if replicate_rows:
                    cursor = (cursor[0], replicate_rows[-1]["id"])
                if task_rows or replicate_rows:
                    continue  # there may be more than one page
                if await request.is_disconnected():
                    return
                if loop.time() - last_sent >= heartbeat:
                    yield ": heartbeat\n\n"
                    last_sent = loop.time()
                await s.feed.wait(ticket, min(RECHECK, heartbeat))

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
