"""`POST /tee/sessions/{id}/{stage}/secrets`: give an attested enclave its stage's env, sealed to it.

The simulated quote must be signed by a trusted platform key and carry the measurement the SMS
expects for that stage: the pre/post-compute program's own (teesim.measurements) or, for the app,
the fingerprint pinned in the session from the app's on-chain mrenclave.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from ..protocol.crypto import same_address
from ..protocol.tee import Stage, recover_quote, seal
from ..service.errors import Forbidden, NotFound
from ..teesim.measurements import program_measurement
from .errors import ATTESTATION_FAILED, UNKNOWN_SESSION
from .store import SmsStore


class ProvisioningRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    measurement: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    enclavePublicKey: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="base64 of a 32-byte X25519 key")
    quote: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


def expected_measurement(stage: Stage, app_fingerprint: str) -> str:
    return app_fingerprint if stage == Stage.APP else program_measurement(stage)


async def provision(
    store: SmsStore, trusted: tuple[str, ...], now: int, session_id: str, stage: Stage, request: ProvisioningRequest
) -> str:
    """The sealed box `seal(enclavePublicKey, {"env": ...})`; NotFound (UNKNOWN_SESSION) or Forbidden
    (ATTESTATION_FAILED) otherwise."""
    found = await store.session_env(session_id, stage) if len(session_id) <= 64 else None
    if found is None or found[0].expires < now:
        raise NotFound(f"no live session {session_id!r}", code=UNKNOWN_SESSION)
    session, env = found
    platform = recover_quote(session_id, stage, request.measurement, request.enclavePublicKey, request.quote)
    if not any(same_address(platform, address) for address in trusted):
        raise Forbidden(f"the {stage.value} quote is not signed by a trusted platform key", code=ATTESTATION_FAILED)
    expected = expected_measurement(stage, session.app_fingerprint)
    if request.measurement.lower() != expected:
        raise Forbidden(
            f"the {stage.value} enclave measured {request.measurement.lower()}, expected {expected}",
            code=ATTESTATION_FAILED,
        )
    return seal(request.enclavePublicKey, json.dumps({"env": env}).encode())
