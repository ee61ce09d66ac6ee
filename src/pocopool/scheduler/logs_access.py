"""Task logs for the deal's requester only (spec/scheduler.md §6.3, §7.2), with single-use challenges.

    GET /tasks/logs/challenge?address=A          -> EIP-712 typed data to sign (chainId of the chain)
    GET /tasks/{id}/logs                         -> every worker's stdout/stderr of the task
    GET /tasks/{id}/replicates/{wallet}/logs     -> one worker's

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
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Header, Path
from fastapi.responses import JSONResponse

from ..protocol.crypto import (
    InvalidHex,
    logs_challenge_typed_data,
    normalize_address,
    normalize_bytes32,
    recover_typed_data,
    same_address,
    typed_data_digest,
)

if TYPE_CHECKING:
    from .service import Scheduler

CHALLENGE_TTL = 60.0  # seconds a logs challenge may be used (once)
MAX_OPEN_CHALLENGES = 16  # per address: older ones are dropped


class LogsAccessDenied(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
        open for `address`, and the signature must recover to `address`. Raises LogsAccessDenied(401)."""
        for entry in self._prune(address):
            typed = self.typed_data(entry.challenge)
            if typed_data_digest(typed).hex() != challenge_hash.lower().removeprefix("0x"):
                continue
            try:
                signer = recover_typed_data(typed, signature)
            except (ValueError, InvalidHex):
                signer = None
            if not same_address(signer, address):
                raise LogsAccessDenied(401, "the signature does not match the challenge and the address")
            self._open[address].remove(entry)
            return
        raise LogsAccessDenied(401, "unknown, used or expired challenge: get a new one at /tasks/logs/challenge")


def parse_authorization(header: str | None) -> tuple[str, str, str]:
    """`<challenge hash>_<signature>_<address>` -> its three parts (address checksummed)."""
    parts = (header or "").split("_")
    if len(parts) != 3 or not all(parts):
        raise LogsAccessDenied(401, "Authorization must be <challengeHash>_<signature>_<address>")
    try:
        return parts[0], parts[1], normalize_address(parts[2])
    except InvalidHex:
        raise LogsAccessDenied(401, "the address of the Authorization header is not an address") from None


def _denied(error: LogsAccessDenied) -> JSONResponse:
    return JSONResponse({"error": error.message}, status_code=error.status)


def install(app: FastAPI, scheduler: Scheduler) -> None:
    s = scheduler

    async def authorize(task_id: str, authorization: str | None) -> str:
        """The task id once the caller is proven to be its requester; LogsAccessDenied otherwise."""
        challenge_hash, signature, address = parse_authorization(authorization)
        try:
            task_id = normalize_bytes32(task_id)
        except InvalidHex:
            raise LogsAccessDenied(403, "only the requester of the task may read its logs") from None
        details = await s.store.task_details(task_id)
        requester = details.task["requester"] if details is not None else None
        # Unknown task and another address answer the same: nothing is learned about the task.
        if requester is None or not same_address(requester, address):
            raise LogsAccessDenied(403, "only the requester of the task may read its logs")
        s.logs_challenges.consume(address, challenge_hash, signature)
        return task_id

    @app.get("/tasks/logs/challenge", tags=["logs"])
    async def logs_challenge(address: str) -> Any:
        try:
            return s.logs_challenges.issue(normalize_address(address))
        except InvalidHex:
            return JSONResponse({"error": f"address must be 0x + 40 hex digits, got {address!r}"}, status_code=422)

    @app.get("/tasks/{chainTaskId}/logs", tags=["logs"],
             responses={401: {"description": "bad header or signature"}, 403: {"description": "not the requester"},
                        404: {"description": "no logs (answered to the requester only)"}})
    async def task_logs(chainTaskId: Annotated[str, Path()],
                        authorization: Annotated[str | None, Header()] = None) -> Any:
        try:
            task_id = await authorize(chainTaskId, authorization)
        except LogsAccessDenied as error:
            return _denied(error)
        rows = await s.store.task_logs(task_id)
        if not rows:
            return JSONResponse({"error": f"no logs for task {task_id}"}, status_code=404)
        return {"chainTaskId": task_id, "computeLogsList": [
            {"walletAddress": r["wallet"], "stdout": r["stdout"], "stderr": r["stderr"]} for r in rows]}

    @app.get("/tasks/{chainTaskId}/replicates/{walletAddress}/logs", tags=["logs"],
             responses={401: {"description": "bad header or signature"}, 403: {"description": "not the requester"},
                        404: {"description": "no logs of this worker (answered to the requester only)"}})
    async def replicate_logs(chainTaskId: Annotated[str, Path()], walletAddress: Annotated[str, Path()],
                             authorization: Annotated[str | None, Header()] = None) -> Any:
        try:
            task_id = await authorize(chainTaskId, authorization)
        except LogsAccessDenied as error:
            return _denied(error)
        try:
            wallet = normalize_address(walletAddress)
        except InvalidHex:
            return JSONResponse({"error": "walletAddress must be 0x + 40 hex digits"}, status_code=422)
        row = next((r for r in await s.store.task_logs(task_id) if same_address(r["wallet"], wallet)), None)
        if row is None:
            return JSONResponse({"error": f"no logs of worker {wallet} for task {task_id}"}, status_code=404)
        return {"walletAddress": row["wallet"], "stdout": row["stdout"], "stderr": row["stderr"]}
