"""`/workers/...`: login, registration, pings, the list of workers, the long-poll of notifications."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from ...protocol.models import NotificationBatch, PublicConfiguration, Signature, WorkerModel
from ..auth import Authenticator
from ..registry import WorkerRegistry
from .params import address, authenticated

MAX_POLL_TIMEOUT = 30.0


def router(auth: Authenticator, registry: WorkerRegistry) -> APIRouter:
    api = APIRouter(tags=["workers"])
    worker = authenticated(auth)

    @api.get("/workers/config", response_model=PublicConfiguration, response_model_exclude_none=True)
    async def worker_config() -> PublicConfiguration:
        return registry.configuration()

    @api.get("/workers/challenge", response_class=PlainTextResponse)
    async def challenge(walletAddress: str) -> str:
        return auth.challenge(address(walletAddress, "walletAddress"))

    @api.post("/workers/login", response_class=PlainTextResponse)
    async def login(walletAddress: str, signature: Signature) -> str:
        return auth.login(address(walletAddress, "walletAddress"), signature.value)

    @api.post("/workers/register")
    async def register(wallet: Annotated[str, worker], model: WorkerModel) -> dict[str, Any]:
        return await registry.register(wallet, model)

    @api.post("/workers/ping", response_class=PlainTextResponse)
    async def ping(wallet: Annotated[str, worker]) -> str:
        return await registry.ping(wallet)

    @api.get("/workers/computing")
    async def computing(wallet: Annotated[str, worker]) -> list[str]:
        return await registry.computing(wallet)

    @api.get("/workers")
    async def list_workers() -> list[dict[str, Any]]:
        return await registry.all()

    @api.get("/workers/notifications", response_model=NotificationBatch, response_model_exclude_none=True)
    async def notifications(
        wallet: Annotated[str, worker],
        after: Annotated[int, Query(ge=0, description="the last notification id already received")] = 0,
        timeout: Annotated[float, Query(ge=0, le=MAX_POLL_TIMEOUT, description="seconds to wait for one")] = 0,
    ) -> NotificationBatch:
        return await registry.notifications(wallet, after, timeout)

    return api
