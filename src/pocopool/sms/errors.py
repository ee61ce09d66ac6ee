"""What the SMS adds to the service's typed refusals (service/errors.py): its own codes, and the
refusal of a TEE session, whose code is the worker's replicate cause.

Every refusal is answered with the one error body (`{"error": <one line>, "code": <NAME>}`), its
code the kind's (`BAD_REQUEST`, `FORBIDDEN` …) unless named here. Messages name what is wrong (a
kind, an address, a secret *name*) and never hold a secret value.
"""

from __future__ import annotations

from typing import TypeVar

from ..protocol.statuses import ReplicateStatusCause
from ..protocol.tee import SESSION_ERROR_PREFIX
from ..service.errors import Refused

ATTESTATION_FAILED = "ATTESTATION_FAILED"  # 403: the quote is not a trusted platform's, or measures another program
UNKNOWN_SESSION = "UNKNOWN_SESSION"  # 404: no live session of that id
CHAIN_UNAVAILABLE = "CHAIN_UNAVAILABLE"  # 503: the chain could not be read

R = TypeVar("R", bound=Refused)


def session_error(cause: ReplicateStatusCause) -> str:
    """The session error name of a cause: the cause without TEE_SESSION_GENERATION_."""
    if not cause.value.startswith(SESSION_ERROR_PREFIX):
        raise ValueError(f"{cause.value} is not a TEE session cause")
    return cause.value[len(SESSION_ERROR_PREFIX) :]


def session_refusal(kind: type[R], cause: ReplicateStatusCause, message: str) -> R:
    """A `POST /tee/sessions` refusal of `kind` (its status): its code is the session error name of
    `cause`, from which the worker sets its replicate cause (docs/tee.md)."""
    return kind(message, code=session_error(cause))
