"""Task logs for the deal's requester only (see logs_access.py for the challenges and the rules)."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path

from ...protocol.applogs import cut_of
from ...protocol.crypto import InvalidHex, normalize_address, normalize_bytes32, same_address
from ...service.errors import NotFound, Unprocessable
from ..logs_access import LogsChallenges, NotRequester, parse_authorization
from ..store import Store


def router(store: Store, challenges: LogsChallenges) -> APIRouter:
    api = APIRouter(tags=["logs"])

    async def authorize(task_id: str, authorization: str | None) -> str:
        """The task id once the caller is proven to be its requester; LogsAccessDenied otherwise."""
        challenge_hash, signature, address = parse_authorization(authorization)
        try:
            task_id = normalize_bytes32(task_id)
        except InvalidHex:
            raise NotRequester("only the requester of the task may read its logs") from None
        details = await store.task_details(task_id)
        requester = details.task["requester"] if details is not None else None
        # Unknown task and another address answer the same: nothing is learned about the task.
        if requester is None or not same_address(requester, address):
            raise NotRequester("only the requester of the task may read its logs")
        challenges.consume(address, challenge_hash, signature)
        return task_id

    @api.get("/tasks/logs/challenge")
    async def logs_challenge(address: str) -> Any:
        try:
            return challenges.issue(normalize_address(address))
        except InvalidHex:
            raise Unprocessable(f"address must be 0x + 40 hex digits, got {address!r}") from None

    @api.get(
        "/tasks/{chainTaskId}/logs",
        responses={
            401: {"description": "bad header or signature"},
            403: {"description": "not the requester"},
            404: {"description": "no logs (answered to the requester only)"},
        },
    )
    async def task_logs(
        chainTaskId: Annotated[str, Path()], authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        task_id = await authorize(chainTaskId, authorization)
        rows = await store.task_logs(task_id)
        if not rows:
            raise NotFound(f"no logs for task {task_id}")
        return {"chainTaskId": task_id, "computeLogsList": [_entry(r) for r in rows]}

    @api.get(
        "/tasks/{chainTaskId}/replicates/{walletAddress}/logs",
        responses={
            401: {"description": "bad header or signature"},
            403: {"description": "not the requester"},
            404: {"description": "no logs of this worker (answered to the requester only)"},
        },
    )
    async def replicate_logs(
        chainTaskId: Annotated[str, Path()],
        walletAddress: Annotated[str, Path()],
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        task_id = await authorize(chainTaskId, authorization)
        try:
            wallet = normalize_address(walletAddress)
        except InvalidHex:
            raise Unprocessable("walletAddress must be 0x + 40 hex digits") from None
        row = next((r for r in await store.task_logs(task_id) if same_address(r["wallet"], wallet)), None)
        if row is None:
            raise NotFound(f"no logs of worker {wallet} for task {task_id}")
        return _entry(row)

    return api


def _with_cuts(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with "stdoutCut"/"stderrCut" where its text starts with a cut marker (protocol/applogs.py)."""
    for stream in ("stdout", "stderr"):
        cut = cut_of(entry.get(stream))
        if cut is not None:
            entry[f"{stream}Cut"] = cut
    return entry


def _entry(row: Any) -> dict[str, Any]:
    entry = _with_cuts({"walletAddress": row["wallet"], "stdout": row["stdout"], "stderr": row["stderr"]})
    if row.get("tee_stages"):
        # pre-compute, app, post-compute of a TEE run
        entry["teeStages"] = [_with_cuts(stage) for stage in json.loads(row["tee_stages"])]
    return entry
