"""The scheduler's HTTP API (docs/contracts.md "Scheduler HTTP API", spec/scheduler.md §6).

Routes only translate HTTP to the services of the Scheduler and back; errors are mapped in
errors.py. The OpenAPI document is at /docs.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ..chain.aio import chain_read
from .. import __version__
from ..protocol.crypto import InvalidHex, keccak_hex, normalize_address, normalize_bytes32
from ..protocol.models import (
    MAX_STATUS_BATCH,
    NotificationBatch,
    PublicConfiguration,
    ReplicateStatusUpdate,
    ReplicateTaskSummary,
    Signature,
    StoredNotification,
    TaskNotification,
    TaskNotificationExtra,
    WorkerModel,
)
from ..protocol.statuses import TaskNotificationType
from .errors import NotFound, Unprocessable, install_error_handlers
from .views import DealTask, DealView, ReplicateView, TaskView, replicate_view, task_view

if TYPE_CHECKING:
    from .service import Scheduler

ALIVE_WINDOW = 60.0  # a worker that pinged within a minute is alive (spec §4.3)
MAX_POLL_TIMEOUT = 30.0
POLL_FALLBACK = 1.0  # re-read the database this often while long-polling (pushes of other processes)


def _address(value: str, what: str) -> str:
    try:
        return normalize_address(value)
    except InvalidHex:
        raise Unprocessable(f"{what} must be a 0x-prefixed 20-byte hex address, got {value!r}") from None


def _bytes32(value: str, what: str) -> str:
    try:
        return normalize_bytes32(value)
    except InvalidHex:
        raise Unprocessable(f"{what} must be 0x followed by 64 hex digits, got {value!r}") from None


def public_configuration(scheduler: Scheduler) -> PublicConfiguration:
    return PublicConfiguration(
        workerPoolAddress=scheduler.workerpool,
        schedulerPublicAddress=scheduler.address,
        resultRepositoryURL=scheduler.config.results_url,
        askForReplicatePeriod=scheduler.config.ask_period_ms,
        chainId=scheduler.chain_id,
    )


def configuration_hash(configuration: PublicConfiguration) -> str:
    """keccak of the canonical JSON of the public configuration: workers restart when it changes."""
    return keccak_hex(json.dumps(configuration.wire(), sort_keys=True, separators=(",", ":")).encode())


def _worker_json(row: Any, memberships: list[tuple[str, bool]], now: float,
                 alive_window: float = ALIVE_WINDOW) -> dict[str, Any]:
    last_alive = row["last_alive"]
    return {
        "walletAddress": row["wallet"],
        "name": row["name"],
        "os": row["os"],
        "cpu": row["cpu"],
        "cpuNb": row["cpu_nb"],
        "memorySize": row["memory_size"],
        "gpuEnabled": row["gpu_enabled"],
        "teeEnabled": row["tee_enabled"],
        "tdxEnabled": row["tdx_enabled"],
        "maxNbTasks": row["max_nb_tasks"],
        "alive": last_alive is not None and last_alive.timestamp() > now - alive_window,
        "lastAliveDate": last_alive.isoformat() if last_alive else None,
        "lastReplicateDemandDate": row["last_replicate_demand"].isoformat() if row["last_replicate_demand"] else None,
        "participatingChainTaskIds": [task for task, _ in memberships],
        "computingChainTaskIds": [task for task, computing in memberships if computing],
    }


async def authenticated_wallet(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The wallet of the JWT in `Authorization: Bearer <token>`; 401 otherwise."""
    return request.app.state.scheduler.auth.verify(authorization)


Wallet = Annotated[str, Depends(authenticated_wallet)]
TaskId = Annotated[str, Path(description="the chain task id, 0x + 64 hex")]


def create_app(scheduler: Scheduler) -> FastAPI:
    app = FastAPI(
        title="pocopool scheduler",
        version=__version__,
        description="Hands replicates to workers, follows every task and replicate status, and shows the history.",
    )
    install_error_handlers(app)
    app.state.scheduler = scheduler
    s = scheduler

    # ----- service --------------------------------------------------------------------------------
    @app.get("/version", response_class=PlainTextResponse, tags=["service"])
    async def version() -> str:
        return __version__

    @app.get("/health", tags=["service"])
    async def health() -> dict[str, Any]:
        block = await chain_read(s.chain, s.chain.latest_block)
        return {"status": "ok", "chainBlock": block.number}

    # ----- workers --------------------------------------------------------------------------------
    @app.get("/workers/config", response_model=PublicConfiguration, response_model_exclude_none=True, tags=["workers"])
    async def worker_config() -> PublicConfiguration:
        return public_configuration(s)

    @app.get("/workers/challenge", response_class=PlainTextResponse, tags=["workers"])
    async def challenge(walletAddress: str) -> str:
        return s.auth.challenge(_address(walletAddress, "walletAddress"))

    @app.post("/workers/login", response_class=PlainTextResponse, tags=["workers"])
    async def login(walletAddress: str, signature: Signature) -> str:
        return s.auth.login(_address(walletAddress, "walletAddress"), signature.value)

    @app.post("/workers/register", tags=["workers"])
    async def register(wallet: Wallet, model: WorkerModel) -> dict[str, Any]:
        now = s.clock.now()
        await s.store.register_worker(wallet, model, now)
        return await _worker(wallet, now)

    async def _worker(wallet: str, now: float) -> dict[str, Any]:
        row = await s.store.worker_row(wallet)
        if row is None:
            raise NotFound(f"worker {wallet} is not registered")
        worker = await s.store.worker(wallet)
        assert worker is not None
        computing = set(await s.store.worker_tasks(wallet, computing_only=True))
        return _worker_json(row, [(t, t in computing) for t in worker.participating], now, s.config.worker_lost_after)

    @app.post("/workers/ping", response_class=PlainTextResponse, tags=["workers"])
    async def ping(wallet: Wallet) -> str:
        if not await s.store.touch_alive(wallet, s.clock.now()):
            raise NotFound(f"worker {wallet} is not registered: POST /workers/register first")
        return configuration_hash(public_configuration(s))

    @app.get("/workers/computing", tags=["workers"])
    async def computing(wallet: Wallet) -> list[str]:
        return await s.store.worker_tasks(wallet, computing_only=True)

    @app.get("/workers", tags=["workers"])
    async def list_workers() -> list[dict[str, Any]]:
        now = s.clock.now()
        return [_worker_json(row, memberships, now, s.config.worker_lost_after) for row, memberships in await s.store.all_workers()]

    @app.get("/workers/notifications", response_model=NotificationBatch, response_model_exclude_none=True,
             tags=["workers"])
    async def notifications(
        wallet: Wallet,
        after: Annotated[int, Query(ge=0, description="the last notification id already received")] = 0,
        timeout: Annotated[float, Query(ge=0, le=MAX_POLL_TIMEOUT, description="seconds to wait for one")] = 0,
    ) -> NotificationBatch:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            ticket = s.hub.ticket(wallet)
            rows = await s.store.notifications_after(wallet, after)
            remaining = deadline - loop.time()
            if rows or remaining <= 0 or s.hub.closed:
                break
            await s.hub.wait(ticket, min(remaining, POLL_FALLBACK))
        items = [
            StoredNotification(
                id=row["id"], chainTaskId=row["task_id"], workersAddress=[row["wallet"]],
                taskNotificationType=TaskNotificationType(row["type"]),
                taskNotificationExtra=TaskNotificationExtra.model_validate(row["extra"]),
            )
            for row in rows
        ]
        return NotificationBatch(notifications=items, cursor=items[-1].id if items else after)

    # ----- replicates -----------------------------------------------------------------------------
    @app.get("/replicates/available", response_model=ReplicateTaskSummary, response_model_exclude_none=True,
             responses={204: {"description": "no work for this worker now"}}, tags=["replicates"])
    async def available(wallet: Wallet, blockNumber: int = 0) -> Any:
        summary = await s.supply.next_replicate(wallet, blockNumber)
        if summary is None:
            return Response(status_code=204)
        return summary

    @app.get("/replicates/interrupted", response_model=list[TaskNotification], response_model_exclude_none=True,
             tags=["replicates"])
    async def interrupted(wallet: Wallet, blockNumber: int = 0) -> list[TaskNotification]:
        return await s.recovery.interrupted(wallet)

    @app.post("/replicates/{chainTaskId}/updateStatus", tags=["replicates"],
              responses={200: {"description": "accepted: the next action"},
                         208: {"description": "already reported: PLEASE_WAIT"}})
    async def update_status(chainTaskId: TaskId, wallet: Wallet, update: ReplicateStatusUpdate) -> JSONResponse:
        task_id = _bytes32(chainTaskId, "chainTaskId")
        answer = await s.replicates.update_status(task_id, wallet, update)
        return JSONResponse(answer.next_action.value, status_code=answer.http_status)

    @app.post("/replicates/{chainTaskId}/updateStatuses", tags=["replicates"],
              responses={200: {"description": "all accepted: the next action after the last one"},
                         208: {"description": "the last one was already reported: PLEASE_WAIT"}})
    async def update_statuses(
        chainTaskId: TaskId, wallet: Wallet,
        updates: Annotated[list[ReplicateStatusUpdate], Body(min_length=1, max_length=MAX_STATUS_BATCH)],
    ) -> JSONResponse:
        """Several updates of one replicate, applied in order as if sent one by one; the first
        refusal stops the batch (those before it stay accepted) and is the answer."""
        task_id = _bytes32(chainTaskId, "chainTaskId")
        answer = await s.replicates.update_statuses(task_id, wallet, updates)
        return JSONResponse(answer.next_action.value, status_code=answer.http_status)

    # ----- tasks and deals ------------------------------------------------------------------------
    @app.get("/tasks/{chainTaskId}", response_model=TaskView, response_model_exclude_none=True,
             response_model_by_alias=True, tags=["tasks"])
    async def get_task(chainTaskId: TaskId, request: Request) -> TaskView:
        task_id = _bytes32(chainTaskId, "chainTaskId")
        details = await s.store.task_details(task_id)
        if details is None:
            raise NotFound(f"unknown task {task_id}")
        return task_view(details, str(request.base_url))

    @app.get("/tasks/{chainTaskId}/replicates/{walletAddress}", response_model=ReplicateView,
             response_model_exclude_none=True, response_model_by_alias=True, tags=["tasks"])
    async def get_replicate(chainTaskId: TaskId, walletAddress: str, request: Request) -> ReplicateView:
        task_id = _bytes32(chainTaskId, "chainTaskId")
        wallet = _address(walletAddress, "walletAddress")
        details = await s.store.task_details(task_id)
        if details is None:
            raise NotFound(f"unknown task {task_id}")
        replicate = next((r for r in details.replicates if r["wallet"] == wallet), None)
        if replicate is None:
            raise NotFound(f"worker {wallet} holds no replicate of task {task_id}")
        return replicate_view(details, replicate, str(request.base_url))

    @app.get("/deals/{dealId}", response_model=DealView, tags=["tasks"])
    async def get_deal(dealId: str) -> DealView:
        deal_id = _bytes32(dealId, "dealId")
        rows = await s.store.deal_tasks(deal_id)
        if not rows:
            raise NotFound(f"unknown deal {deal_id}")
        return DealView(dealId=deal_id, tasks=[
            DealTask(chainTaskId=r["chain_task_id"], taskIndex=r["task_index"], currentStatus=r["status"]) for r in rows
        ])

    # ----- logs, live events, metrics, dashboard (each in its own module) -------------------------
    from . import events, logs_access, metrics, ui

    logs_access.install(app, s)
    events.install(app, s)
    metrics.install(app, s)
    ui.install(app, s)
    return app
