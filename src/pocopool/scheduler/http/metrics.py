"""`GET /metrics`: the scheduler's numbers in the Prometheus text format (see metrics.py)."""

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from ..metrics import CONTENT_TYPE, ChainTimings, StatusWrites, render
from ..registry import WorkerRegistry
from ..store import Store


def router(store: Store, registry: WorkerRegistry, writes: StatusWrites, timings: ChainTimings) -> APIRouter:
    api = APIRouter(tags=["service"])

    @api.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(await render(store, registry, writes, timings), media_type=CONTENT_TYPE)

    return api
