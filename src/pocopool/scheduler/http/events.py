"""`GET /events?task=ID` or `?deal=ID`: live status events as server-sent events (see events.py)."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from ...protocol.crypto import InvalidHex, normalize_bytes32
from ...service.errors import Unprocessable
from ..events import merge_events, parse_cursor
from ..store import Store
from ..wakeups import Wakeups

HEARTBEAT = 15.0  # seconds between ": heartbeat" comments on an idle stream
RECHECK = 2.0  # re-read the database this often even without a wake-up (writes of other processes)


def router(store: Store, wakeups: Wakeups) -> APIRouter:
    """`wakeups` is woken after each commit of statuses (and closed at shutdown, which ends the streams)."""
    api = APIRouter(tags=["tasks"])

    @api.get(
        "/events",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "one event per task status change or replicate status update",
            }
        },
    )
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
            while not wakeups.closed:
                ticket = wakeups.ticket()
                task_rows, replicate_rows = await store.status_events_after(
                    cursor[0], cursor[1], task_id=task_id, deal_id=deal_id
                )
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
                await wakeups.wait(ticket, min(RECHECK, heartbeat))

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    return api
