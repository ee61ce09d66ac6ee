"""Task logs for the deal's requester only (spec/scheduler.md §6.3, §7.2), with single-use challenges.

    GET /tasks/logs/challenge?address=A          -> EIP-712 typed data to sign (chainId of the chain)
    GET /tasks/{id}/logs                         -> every worker's stdout/stderr of the task
    GET /tasks/{id}/replicates/{wallet}/logs     -> one worker's   (routes: http/logs.py)

with `Authorization: <challenge hash>_<signature>_<address>`. Unlike the reference (one challenge
per address, reusable for an hour), a challenge here is consumed by its first successful use and
lives CHALLENGE_TTL seconds, so a captured header cannot be replayed (docs/decisions.md).

Nothing about the logs is said before the caller is proven to be the requester: a bad header, an
unknown task, a wrong address and a wrong signature all answer before any logs row is read, and a
task without logs answers 404 only to its requester.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..protocol.crypto import (
    InvalidHex,
    logs_challenge_typed_data,
    normalize_address,
    recover_typed_data,
    same_address,
    typed_data_digest,
)
from ..service.errors import Forbidden, Refused, Unauthorized

CHALLENGE_TTL = 60.0  # seconds a logs challenge may be used (once)
MAX_OPEN_CHALLENGES = 16  # per address: older ones are dropped


class LogsAccessDenied(Refused):
    """The caller may not read these logs (nothing about them was read or said)."""


class NotProven(LogsAccessDenied, Unauthorized):
    """The Authorization header does not prove the address: malformed, unknown or used challenge,
    or a signature of someone else. 401 without WWW-Authenticate: the scheme is the logs challenge."""


class NotRequester(LogsAccessDenied, Forbidden):
    """The proven address is not the task's requester (or the task is unknown: they answer alike)."""


@dataclass
class _Open:
    challenge: str
    created: float


@dataclass
class LogsChallenges:
    """Open challenges by address. `issue` makes a new one; `consume` checks and removes it."""

    chain_id: Callable[[], int]
    ttl: float = CHALLENGE_TTL
    now: Callable[[], float] = time.monotonic
    _open: dict[str, list[_Open]] = field(default_factory=dict)

    def typed_data(self, challenge: str) -> dict[str, Any]:
        return logs_challenge_typed_data(challenge, self.chain_id())

    def _prune(self, address: str) -> list[_Open]:
        alive = [c for c in self._open.get(address, []) if self.now() - c.created < self.ttl]
        if alive:
            self._open[address] = alive[-MAX_OPEN_CHALLENGES:]
        else:
            self._open.pop(address, None)
        return self._open.get(address, [])

    def issue(self, address: str) -> dict[str, Any]:
        self._prune(address)
        # base64url of 32 random bytes never starts with "0x" (the Java encoder quirk of §7.2)
        challenge = secrets.token_urlsafe(32)
        self._open.setdefault(address, []).append(_Open(challenge, self.now()))
        self._prune(address)
        return self.typed_data(challenge)

    def consume(self, address: str, challenge_hash: str, signature: str) -> None:
        """Accepts the signature once: the challenge whose EIP-712 digest is `challenge_hash` must be
        open for `address`, and the signature must recover to `address`. Raises NotProven."""
        for entry in self._prune(address):
            typed = self.typed_data(entry.challenge)
            if typed_data_digest(typed).hex() != challenge_hash.lower().removeprefix("0x"):
                continue
            try:
                signer = recover_typed_data(typed, signature)
            except (ValueError, InvalidHex):
                signer = None
            if not same_address(signer, address):
                raise NotProven("the signature does not match the challenge and the address")
            self._open[address].remove(entry)
            return
        raise NotProven("unknown, used or expired challenge: get a new one at /tasks/logs/challenge")


def parse_authorization(header: str | None) -> tuple[str, str, str]:
    """`<challenge hash>_<signature>_<address>` -> its three parts (address checksummed)."""
    parts = (header or "").split("_")
    if len(parts) != 3 or not all(parts):
        raise NotProven("Authorization must be <challengeHash>_<signature>_<address>")
    try:
        return parts[0], parts[1], normalize_address(parts[2])
    except InvalidHex:
        raise NotProven("the address of the Authorization header is not an address") from None
