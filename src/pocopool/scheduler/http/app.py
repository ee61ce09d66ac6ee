"""The scheduler's HTTP API (docs/contracts.md "Scheduler HTTP API", spec/scheduler.md §6).

One router per concept, each built from the services it uses and nothing else; `create_app`
assembles them (the Scheduler calls it with its services). Routes only translate HTTP to the
services and back; errors are mapped in errors.py. The OpenAPI document is at /docs.
"""

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import PlainTextResponse

from ... import __version__
from ...chain.aio import chain_read
from ...chain.base import Chain
from ...protocol.time import Clock
from .. import ui
from ..auth import Authenticator
from ..logs_access import LogsChallenges
from ..metrics import SchedulerMetrics
from ..recovery import RecoveryService
from ..registry import WorkerRegistry
from ..replicates import ReplicateUpdateService
from ..store import Store
from ..supply import SupplyService
from ..wakeups import Wakeups
from . import events, logs, metrics, replicates, tasks, workers
from .errors import install_error_handlers


def service_router(chain: Chain) -> APIRouter:
    api = APIRouter(tags=["service"])

    @api.get("/version", response_class=PlainTextResponse)
    async def version() -> str:
        return __version__

    @api.get("/health")
    async def health() -> dict[str, Any]:
        block = await chain_read(chain, chain.latest_block)
        return {"status": "ok", "chainBlock": block.number}

    return api


def create_app(
    *,
    store: Store,
    chain: Chain,
    clock: Clock,
    auth: Authenticator,
    registry: WorkerRegistry,
    supply: SupplyService,
    recovery: RecoveryService,
    replicate_updates: ReplicateUpdateService,
    status_wakeups: Wakeups,
    logs_challenges: LogsChallenges,
    scheduler_metrics: SchedulerMetrics,
) -> FastAPI:
    """The whole API. `status_wakeups` wakes the event streams after status writes (closed at shutdown)."""
    app = FastAPI(
        title="pocopool scheduler",
        version=__version__,
        description="Hands replicates to workers, follows every task and replicate status, and shows the history.",
    )
    install_error_handlers(app)
    for router in (
        service_router(chain),
        workers.router(auth, registry),
        replicates.router(auth, supply, recovery, replicate_updates),
        tasks.router(store),
        logs.router(store, logs_challenges),
        events.router(store, status_wakeups),
        metrics.router(store, registry, scheduler_metrics),
        ui.router(store, chain, clock, registry),
    ):
        app.include_router(router)
    return app
