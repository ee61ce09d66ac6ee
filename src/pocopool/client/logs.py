"""A task's compute logs, read as its requester (spec/scheduler.md §7.2).

Each call gets a fresh EIP-712 challenge for the requester's address, signs it with the requester
key, and sends `Authorization: <challenge hash>_<signature>_<address>`; the scheduler accepts each
challenge once, so nothing is cached here.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..protocol import crypto
from ..protocol.http import error_message
from ..protocol.views import TaskLogsView
from .errors import ClientError, ServiceUnavailable


def authorization_header(http: httpx.Client, scheduler_url: str, private_key: str) -> str:
    address = crypto.address_of(private_key)
    try:
        answer = http.get(f"{scheduler_url}/tasks/logs/challenge", params={"address": address})
    except httpx.HTTPError as error:
        raise ServiceUnavailable(f"the scheduler at {scheduler_url} did not answer: {error}") from error
    if answer.status_code != 200:
        raise ServiceUnavailable(f"the scheduler refused a logs challenge ({answer.status_code}): {answer.text[:200]}")
    typed = answer.json()
    digest = crypto.typed_data_digest(typed).hex()
    return f"0x{digest}_{crypto.sign_typed_data(private_key, typed)}_{address}"


def task_logs(http: httpx.Client, scheduler_url: str, private_key: str, task_id: str) -> dict[str, dict[str, Any]]:
    """Each worker's {"stdout", "stderr"} (and "teeStages", a list, for a TEE run) by wallet; empty
    when no worker sent logs yet. A stream that was cut starts with its marker line, and the
    scheduler says the cut beside it ("stdoutCut", "stderrCut": protocol/applogs.py, LogCut.wire()).

    Raises ClientError when the key is not the requester's (the scheduler says nothing more).
    """
    header = authorization_header(http, scheduler_url, private_key)
    try:
        answer = http.get(f"{scheduler_url}/tasks/{task_id}/logs", headers={"Authorization": header})
    except httpx.HTTPError as error:
        raise ServiceUnavailable(f"the scheduler at {scheduler_url} did not answer: {error}") from error
    if answer.status_code == 404:
        return {}
    if answer.status_code in (401, 403):
        message = error_message(answer)
        raise ClientError(
            f"the scheduler refused the logs ({answer.status_code}): {message}; logs are for the "
            f"deal's requester only: pass its key with --key"
        )
    if answer.status_code != 200:
        raise ServiceUnavailable(f"the scheduler answered {answer.status_code} for the logs: {answer.text[:200]}")
    try:
        logs = TaskLogsView.model_validate(answer.json())
    except ValueError as error:
        raise ServiceUnavailable(f"the scheduler sent unreadable logs: {error}") from error
    return {
        entry.walletAddress: {
            "stdout": entry.stdout,
            "stderr": entry.stderr,
            **({"stdoutCut": entry.stdoutCut} if entry.stdoutCut else {}),
            **({"stderrCut": entry.stderrCut} if entry.stderrCut else {}),
            **({"teeStages": entry.teeStages} if entry.teeStages else {}),
        }
        for entry in logs.computeLogsList
        if entry.walletAddress
    }
