"""The result store's HTTP API (docs/contracts.md "Result store HTTP API", docs/tee.md "Result store").

One router per concept, each built from what it uses; `create_app` assembles them. Every check
refuses with a typed error of service/errors.py, answered with the one error body and its status
having stored nothing; a chain that cannot be read is 503.
"""

import os
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from ...chain.base import Chain, ChainError
from ...logs import get_logger
from ...protocol.http import WORKER_HEADER
from ...protocol.time import Clock, SystemClock
from ...service.errors import Refused, Unavailable, install_error_handlers
from ..archive import ArchiveLimits
from ..context import DEFAULT_LIMITS, MAX_UPLOAD_BYTES, ResultContext
from ..store import ResultStore
from ..tee import TeeResults
from . import results, tee

log = get_logger("pocopool.results")


def service_router() -> APIRouter:
    api = APIRouter(tags=["service"])

    @api.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return api


def _unreadable_chain(error: ChainError) -> Refused:
    return Unavailable(f"the chain could not be read: {error}")


def _worker(request: Request) -> dict[str, Any]:
    return {"worker": request.headers.get(WORKER_HEADER)}


def create_app(
    chain: Chain,
    store: ResultStore,
    public_url: str,
    *,
    clock: Clock | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    archive_limits: ArchiveLimits = DEFAULT_LIMITS,
    token_secret: bytes | None = None,
) -> FastAPI:
    """The result store application over `chain` and `store`.

    `public_url` is the base URL clients reach this service at; result links point under it.
    `clock` dates download signatures and TEE tokens (the system clock by default).
    `token_secret` signs the TEE upload tokens (random for this app's life by default; the process
    keeps it in a file, tokens.load_or_create_secret).
    """
    context = ResultContext(
        chain=chain,
        store=store,
        clock=clock or SystemClock(),
        base_url=public_url.rstrip("/"),
        max_upload_bytes=max_upload_bytes,
        archive_limits=archive_limits,
    )
    tee_results = TeeResults(secret=token_secret or os.urandom(32), context=context)
    app = FastAPI(title="pocopool result store", version="1")
    install_error_handlers(app, log, translate={ChainError: _unreadable_chain}, log_fields=_worker)
    for router in (service_router(), results.router(context, tee_results), tee.router(tee_results)):
        app.include_router(router)
    return app
