"""Reading the parts of a result-store request: path ids, signed headers, a bounded body.

Each reader raises Refused with the status and one-line message the API documents (app.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import Request

from ..protocol.crypto import InvalidHex, normalize_bytes32
from .errors import Refused

SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def parse_task_id(raw: str) -> str:
    try:
        return normalize_bytes32(raw, "task id")
    except InvalidHex:
        raise Refused(400, f"{raw!r} is not a task id (0x followed by 64 hex digits)") from None


def header(request: Request, name: str, shape: re.Pattern[str] | Callable[[str], str], what: str) -> str:
    """The stripped value of header `name`: 401 if it is missing, 400 if it does not have the
    `shape` (a pattern, or an id normaliser such as `normalize_address` that raises InvalidHex)."""
    value = request.headers.get(name)
    if value is None or value == "":
        raise Refused(401, f"the {name} header is missing")
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
        raise Refused(400, f"the {name} header is not {what}")
    return value


def signature_header(request: Request, name: str) -> str:
    return header(request, name, SIGNATURE, "a 65-byte 0x-hex signature")


def check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the result zip is {declared} bytes, more than the {limit} bytes accepted")


async def read_body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"the result zip is more than the {limit} bytes accepted")
        chunks.append(chunk)
    return b"".join(chunks)


async def drain(request: Request, limit: int) -> None:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return
