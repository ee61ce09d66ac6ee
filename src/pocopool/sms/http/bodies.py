"""Reading a request body no larger than a route accepts."""

from fastapi import Request

from ...service.errors import TooLarge


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body; TooLarge as soon as it is declared or found longer than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the value is {declared} bytes, more than the {limit} accepted")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the value is more than the {limit} bytes accepted")
        chunks.append(chunk)
    return b"".join(chunks)
