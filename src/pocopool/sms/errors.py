"""The SMS's refusals: one exception, mapped once (app.py) to `{"error": NAME, "message": ...}`.

Messages name what is wrong (a kind, an address, a secret *name*) and never hold a secret value.
"""

from __future__ import annotations

from ..protocol.statuses import ReplicateStatusCause
from ..protocol.tee import SESSION_ERROR_PREFIX

BAD_REQUEST = "BAD_REQUEST"
UNAUTHORIZED = "UNAUTHORIZED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
TOO_LARGE = "TOO_LARGE"
CHAIN_UNAVAILABLE = "CHAIN_UNAVAILABLE"
ATTESTATION_FAILED = "ATTESTATION_FAILED"
UNKNOWN_SESSION = "UNKNOWN_SESSION"


class Refused(Exception):
    """A request the SMS refuses; nothing was stored or changed."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.status = status
        self.error = error
        self.message = message


def session_error(cause: ReplicateStatusCause) -> str:
    """The session error name of a cause: the cause without TEE_SESSION_GENERATION_."""
    if not cause.value.startswith(SESSION_ERROR_PREFIX):
        raise ValueError(f"{cause.value} is not a TEE session cause")
    return cause.value[len(SESSION_ERROR_PREFIX) :]


class SessionRefused(Refused):
    """A `POST /tee/sessions` refusal: its error is the worker's replicate cause, prefix removed."""

    def __init__(self, status: int, cause: ReplicateStatusCause, message: str) -> None:
        super().__init__(status, session_error(cause), message)
        self.cause = cause
