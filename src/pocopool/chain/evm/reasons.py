"""A node's revert answer turned back into the typed `ChainRevert` LocalChain raises.

The contract reverts with the rule name as its reason string, optionally "rule: a b" with the
values its sentence needs (`reverts.REASON_FIELDS`); the sentence itself is the shared one of
`chain/reverts.py`. Nodes wrap the reason differently (geth, Hardhat, ours): it is found either as
Error(string) data anywhere in the error object or in the message text.
"""

from __future__ import annotations

from typing import Any

from eth_abi import decode as abi_decode

from .. import errors as rule
from ..base import ChainRevert
from ..reverts import REASON_FIELDS, revert


def revert_from_reason(reason: str | None) -> ChainRevert:
    """The ChainRevert a revert reason "rule[: a b]" stands for."""
    if not reason:  # Vyper's checked arithmetic reverts without a reason
        return revert(rule.ARITHMETIC_OVERFLOW)
    name, _, detail = reason.partition(": ")
    if name not in rule.ALL_RULES:
        return revert(rule.INVALID_ARGUMENT, f"the contract reverted: {reason}")
    values = detail.strip().split(" ") if detail.strip() else []
    return revert(name, **dict(zip(REASON_FIELDS.get(name, ()), values, strict=False)))


def _find_revert_data(value: Any) -> str | None:
    """The Error(string) payload somewhere in a node's error object (geth, hardhat and ours differ)."""
    if isinstance(value, str) and value.startswith("0x08c379a0"):
        return value
    if isinstance(value, dict):
        for item in value.values():
            found = _find_revert_data(item)
            if found:
                return found
    return None


def revert_reason(error: dict[str, Any]) -> str | None:
    data = _find_revert_data(error)
    if data:
        try:
            return abi_decode(["string"], bytes.fromhex(data[10:]))[0]
        except Exception:  # noqa: BLE001 - undecodable: fall back to the message text
            pass
    message = str(error.get("message", ""))
    for marker in ("reverted with reason string '", "execution reverted: "):
        if marker in message:
            return message.split(marker, 1)[1].rstrip("'")
    return None


def is_revert(error: dict[str, Any]) -> bool:
    text = str(error).lower()
    return "revert" in text or error.get("code") == 3


def revert_of(error: dict[str, Any]) -> ChainRevert:
    """The ChainRevert a node's revert error stands for (check `is_revert(error)` first)."""
    return revert_from_reason(revert_reason(error))
