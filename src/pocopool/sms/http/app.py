"""The SMS HTTP API (docs/tee.md "SMS HTTP API").

One router per concept, each built from what it uses; `create_app` assembles them. Refusals are the
typed errors of service/errors.py, answered once with the one error body; a TEE session's code is
the worker's replicate cause (sms/errors.py). No answer and no log line ever holds a secret value.
"""

from fastapi import APIRouter, FastAPI

from ...chain.base import Chain, ChainError
from ...logs import get_logger
from ...protocol.tee import SIM_FRAMEWORK, SIMULATION_LABEL
from ...service.errors import BadRequest, Refused, Unavailable, install_error_handlers
from ..errors import CHAIN_UNAVAILABLE
from ..provisioning import EnclaveTrust
from ..store import SmsStore
from . import provisioning, secrets, sessions

log = get_logger("pocopool.sms")


def service_router() -> APIRouter:
    api = APIRouter(tags=["service"])

    @api.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/tee/framework")
    async def framework() -> str:
        return SIM_FRAMEWORK

    return api


def _unreadable_chain(error: ChainError) -> Refused:
    return Unavailable(f"the chain could not be read: {error}", code=CHAIN_UNAVAILABLE)


def create_app(chain: Chain, store: SmsStore, *, public_url: str, result_proxy: str, trust: EnclaveTrust) -> FastAPI:
    """The SMS over `chain` and `store`. `public_url` is given to workers as secretProvisioningUrl;
    `result_proxy` is the default RESULT_STORAGE_PROXY; enclaves are provisioned as `trust` says."""
    app = FastAPI(title="pocopool SMS", version="1", description=SIMULATION_LABEL)
    # A body that does not fit its model has always been a 400 here (docs/tee.md).
    install_error_handlers(app, log, invalid_request=BadRequest, translate={ChainError: _unreadable_chain})
    for router in (
        service_router(),
        secrets.router(chain, store),
        sessions.router(chain, store, public_url=public_url, result_proxy=result_proxy),
        provisioning.router(chain, store, trust),
    ):
        app.include_router(router)
    return app
