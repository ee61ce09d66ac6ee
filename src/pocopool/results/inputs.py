"""Reading the parts of a result-store request: path ids, signed headers; draining an unread body.

Each reader raises the typed refusal (service/errors.py) and one-line message the API documents
(results/http/results.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import Request

from ..protocol.crypto import InvalidHex, normalize_bytes32
from ..service.errors import BadRequest, Unauthorized

SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def parse_task_id(raw: str) -> str:
    try:
        return normalize_bytes32(raw, "task id")
    except InvalidHex:
        raise BadRequest(f"{raw!r} is not a task id (0x followed by 64 hex digits)") from None


def header(request: Request, name: str, shape: re.Pattern[str] | Callable[[str], str], what: str) -> str:
    """The stripped value of header `name`: 401 if it is missing, 400 if it does not have the
    `shape` (a pattern, or an id normaliser such as `normalize_address` that raises InvalidHex)."""
    value = request.headers.get(name)
    if value is None or value == "":
        raise Unauthorized(f"the {name} header is missing")
    value = value.strip()
    if isinstance(shape, re.Pattern):
        valid = shape.fullmatch(value) is not None
    else:
        try:
            shape(value)
            valid = True
        except InvalidHex:
            valid = False
    if not valid:
        raise BadRequest(f"the {name} header is not {what}")
    return value


def signature_header(request: Request, name: str) -> str:
    return header(request, name, SIGNATURE, "a 65-byte 0x-hex signature")


async def drain(request: Request, limit: int) -> None:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return
