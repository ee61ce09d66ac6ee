"""Reading a request body no larger than a route accepts, the same way in every service."""

from __future__ import annotations

from fastapi import Request

from .errors import TooLarge


def check_declared_length(request: Request, limit: int, what: str) -> None:
    """TooLarge when the request's Content-Length is more than `limit` bytes, before anything is read.
    `what` names the body in the sentence ("the result zip")."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"{what} is {declared} bytes, more than the {limit} bytes accepted")


async def read_bounded(request: Request, limit: int, what: str) -> bytes:
    """The whole body; TooLarge as soon as it is declared or found longer than `limit` bytes."""
    check_declared_length(request, limit, what)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"{what} is more than the {limit} bytes accepted")
        chunks.append(chunk)
    return b"".join(chunks)
