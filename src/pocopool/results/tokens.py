"""The result-store tokens of TEE tasks: an HS256 JWT the store hands a worker, which the worker gives
the SMS, which gives it to the post-compute enclave, which uploads with it (docs/tee.md "Result store").

The token names the task, the worker and the task's enclave challenge, and expires at the task's
final deadline. Its signing secret is 32 random bytes kept in a 0600 file in the store's data
folder, created at first start (service/secrets.py), so that tokens survive a restart of the store. The secret and the
tokens are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jwt

from ..service.secrets import load_or_create_secret as load_or_create_secret_file

ALGORITHM = "HS256"
SECRET_FILE = ".tee-token.key"
_SECRET_BYTES = 32
_CLAIMS = ("task", "worker", "enclaveChallenge", "exp")


class InvalidToken(ValueError):
    """A bearer token this store did not issue, or no longer accepts; the message says why (no secret)."""


@dataclass(frozen=True)
class TokenClaims:
    task: str
    worker: str
    enclave_challenge: str
    exp: int


def load_or_create_secret(path: Path) -> bytes:
    """The signing secret in `path` (the store's data folder / SECRET_FILE), created at first start."""
    return load_or_create_secret_file(path, _SECRET_BYTES, "the TEE token secret")


def issue(secret: bytes, task: str, worker: str, enclave_challenge: str, exp: int) -> str:
    claims = {
        "task": task.lower(),
        "worker": worker.lower(),
        "enclaveChallenge": enclave_challenge.lower(),
        "exp": int(exp),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read(secret: bytes, token: str, now: float) -> TokenClaims:
    """The claims of `token` if this store signed it and it has not expired at `now` (unix s)."""
    try:
        # Expiry is checked against the store's clock below, not pyjwt's.
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": list(_CLAIMS), "verify_exp": False}
        )
    except jwt.InvalidSignatureError:
        raise InvalidToken("the bearer token was not issued by this result store") from None
    except jwt.MissingRequiredClaimError as error:
        raise InvalidToken(f"the bearer token has no {error.claim!r} claim") from None
    except jwt.PyJWTError:
        raise InvalidToken("the bearer token is not a readable JWT") from None
    task, worker, challenge, exp = (claims.get(name) for name in _CLAIMS)
    if not (isinstance(task, str) and isinstance(worker, str) and isinstance(challenge, str) and isinstance(exp, int)):
        raise InvalidToken("the bearer token's claims are malformed")
    if exp <= now:
        raise InvalidToken(f"the bearer token expired at {exp} (the task's final deadline)")
    return TokenClaims(task, worker, challenge, exp)
