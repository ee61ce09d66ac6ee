"""The scheduler's domain errors: what a service refuses, in one clear sentence.

Services raise these; they know nothing of HTTP. The HTTP layer maps each class to its status and
JSON body in one place (`http/errors.py`). `next_action` is what a worker must do next, when a
refusal tells it (e.g. PLEASE_ABORT).
"""

from __future__ import annotations

from typing import Any

from ..protocol.statuses import TaskNotificationType


class Refused(Exception):
    """A refusal: `message` for people, `detail` (JSON-safe) for programs, `next_action` for workers."""

    def __init__(self, message: str, *, detail: Any = None, next_action: TaskNotificationType | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.next_action = next_action


class BadRequest(Refused):
    """The request cannot be read."""


class Unauthorized(Refused):
    """The caller did not prove who it is (missing, bad or expired credentials)."""


class Forbidden(Refused):
    """The caller is known but may not do this."""


class NotFound(Refused):
    """The task, replicate, deal or worker named does not exist here."""


class Conflict(Refused):
    """The request contradicts the current state (e.g. a status already past)."""


class Unprocessable(Refused):
    """An argument is malformed (not an address, not a task id ...)."""


class Unavailable(Refused):
    """Something the answer needs cannot be reached now; retrying later may work."""
