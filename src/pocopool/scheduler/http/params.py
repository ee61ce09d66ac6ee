"""Path and query values every router reads the same way, and the worker's bearer token."""

# No `from __future__ import annotations` in the router modules: FastAPI reads the annotations of
# route functions at definition time, and `Wallet` types built inside a router factory are locals.

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Path

from ...protocol.crypto import InvalidHex, normalize_address, normalize_bytes32
from ...service.errors import Unprocessable
from ..auth import Authenticator

TaskId = Annotated[str, Path(description="the chain task id, 0x + 64 hex")]


def address(value: str, what: str) -> str:
    """The checksummed address; Unprocessable naming `what` otherwise."""
    try:
        return normalize_address(value)
    except InvalidHex:
        raise Unprocessable(f"{what} must be a 0x-prefixed 20-byte hex address, got {value!r}") from None


def bytes32(value: str, what: str) -> str:
    """The lower-case 0x + 64 hex value; Unprocessable naming `what` otherwise."""
    try:
        return normalize_bytes32(value)
    except InvalidHex:
        raise Unprocessable(f"{what} must be 0x followed by 64 hex digits, got {value!r}") from None


def bearer_wallet(auth: Authenticator) -> Callable[..., Coroutine[Any, Any, str]]:
    """The dependency giving the wallet of `Authorization: Bearer <token>` (Unauthorized otherwise)."""

    async def authenticated_wallet(authorization: Annotated[str | None, Header()] = None) -> str:
        return auth.verify(authorization)

    return authenticated_wallet


def authenticated(auth: Authenticator) -> Any:
    """The dependency of a route parameter holding the authenticated worker's wallet:
    `wallet: Annotated[str, authenticated(auth)]`."""
    return Depends(bearer_wallet(auth))
