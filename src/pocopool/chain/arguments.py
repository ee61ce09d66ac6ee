"""Transaction arguments checked and normalized the way the ABI decoder of a contract would.

A malformed argument reverts with `invalid-argument` before any rule runs; a valid one comes back in
the ledger's canonical form (checksummed address, lowercase bytes32, exact int), so that the rules
can compare values with `==`.
"""

from __future__ import annotations

from typing import Any

from ..protocol.crypto import InvalidHex, normalize_address, normalize_bytes32
from . import errors as rule
from .base import ChainRevert
from .reverts import revert

UINT256_MAX = 2**256 - 1  # the largest uint256, the bound of every amount and index


def _invalid(what: str, expected: str, value: Any) -> ChainRevert:
    return revert(rule.INVALID_ARGUMENT, f"{what} must be {expected}, got {value!r}")


def address(value: Any, what: str) -> str:
    try:
        return normalize_address(value)
    except InvalidHex:
        raise _invalid(what, "a 0x-prefixed 20-byte address", value) from None


def bytes32(value: Any, what: str) -> str:
    try:
        return normalize_bytes32(value, what)
    except InvalidHex:
        raise _invalid(what, "0x-prefixed 32-byte hex", value) from None


def uint(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT256_MAX:
        raise _invalid(what, "an integer from 0 to 2^256 - 1", value)
    return value


def data(value: Any, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise _invalid(what, "bytes", value)
    return bytes(value)


def text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _invalid(what, "a string", value)
    return value
