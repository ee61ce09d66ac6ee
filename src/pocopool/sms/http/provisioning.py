"""`/tee/sessions/{sessionId}/{stage}/secrets`: an attested enclave gets its stage's env, sealed to
it (every check is sms/provisioning.py's)."""

from fastapi import APIRouter

from ...chain.aio import chain_read
from ...chain.base import Chain
from ...logs import get_logger
from ...protocol.tee import Stage
from ...service.errors import NotFound
from ..provisioning import EnclaveTrust, ProvisioningRequest, provision
from ..store import SmsStore

log = get_logger("pocopool.sms")


def router(chain: Chain, store: SmsStore, trust: EnclaveTrust) -> APIRouter:
    api = APIRouter(tags=["provisioning"])

    @api.post("/tee/sessions/{session_id}/{stage}/secrets")
    async def provision_stage(session_id: str, stage: str, body: ProvisioningRequest) -> dict[str, str]:
        try:
            enclave_stage = Stage(stage)
        except ValueError:
            raise NotFound(f"unknown stage {stage!r} (pre-compute, app or post-compute)") from None
        now = await chain_read(chain, chain.now)
        sealed = await provision(store, trust, now, session_id, enclave_stage, body)
        log.info("enclave-provisioned", session=session_id, stage=enclave_stage.value)
        return {"sealed": sealed}

    return api
