"""The result store's refusals: one exception, mapped to `{"error": ...}` with its status in app.py."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A request the store refuses with a 4xx status; nothing was stored or changed."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra  # more JSON fields of the answer, beside "error"
