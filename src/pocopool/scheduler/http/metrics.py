"""`GET /metrics`: the scheduler's numbers in the Prometheus text format (see metrics.py)."""

from fastapi import APIRouter
from fastapi.responses import Response

from ..metrics import CONTENT_TYPE, SchedulerMetrics
from ..registry import WorkerRegistry
from ..store import Store


def router(store: Store, registry: WorkerRegistry, numbers: SchedulerMetrics) -> APIRouter:
    api = APIRouter(tags=["service"])

    @api.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(await numbers.scrape(store, registry), media_type=CONTENT_TYPE)

    return api
