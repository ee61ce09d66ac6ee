"""`POST /tee/sessions/{id}/{stage}/secrets`: give an attested enclave its stage's env, sealed to it.

The simulated quote must be signed by a trusted platform key and carry the measurement the SMS
expects for that stage: for pre- and post-compute, the measurement its operator pinned at start
(`--pre-compute-measurement`, `--post-compute-measurement`: a real SMS pins the MRENCLAVE of the
iExec pre/post-compute images the same way; the devnet pins tee-sim's); for the app, the fingerprint
pinned in the session from the app's on-chain mrenclave. The SMS never reads an enclave's program.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from ..protocol.crypto import same_address
from ..protocol.tee import Stage, recover_quote, seal
from ..service.errors import Forbidden, NotFound
from .errors import ATTESTATION_FAILED, UNKNOWN_SESSION
from .store import SmsStore


class ProvisioningRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    measurement: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    enclavePublicKey: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="base64 of a 32-byte X25519 key")
    quote: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


@dataclass(frozen=True)
class EnclaveTrust:
    """Whom the SMS believes: the platform keys that sign quotes, and the measurement of each enclave
    program it provisions besides the app (pre- and post-compute, 64 lower-case hex each)."""

    platforms: tuple[str, ...]
    programs: Mapping[Stage, str]

    def expected_measurement(self, stage: Stage, app_fingerprint: str) -> str:
        return app_fingerprint if stage == Stage.APP else self.programs[stage]


async def provision(
    store: SmsStore, trust: EnclaveTrust, now: int, session_id: str, stage: Stage, request: ProvisioningRequest
) -> str:
    """The sealed box `seal(enclavePublicKey, {"env": ...})`; NotFound (UNKNOWN_SESSION) or Forbidden
    (ATTESTATION_FAILED) otherwise."""
    found = await store.session_env(session_id, stage) if len(session_id) <= 64 else None
    if found is None or found[0].expires < now:
        raise NotFound(f"no live session {session_id!r}", code=UNKNOWN_SESSION)
    session, env = found
    platform = recover_quote(session_id, stage, request.measurement, request.enclavePublicKey, request.quote)
    if not any(same_address(platform, address) for address in trust.platforms):
        raise Forbidden(f"the {stage.value} quote is not signed by a trusted platform key", code=ATTESTATION_FAILED)
    expected = trust.expected_measurement(stage, session.app_fingerprint)
    if request.measurement.lower() != expected:
        raise Forbidden(
            f"the {stage.value} enclave measured {request.measurement.lower()}, expected {expected}",
            code=ATTESTATION_FAILED,
        )
    return seal(request.enclavePublicKey, json.dumps({"env": env}).encode())
