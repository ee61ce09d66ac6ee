"""Every error the scheduler answers, mapped to HTTP in one place: the service's mapping
(service/errors.py: typed refusals, validation errors, unknown routes, unexpected failures, one
body) and the ledger's two errors, which only the scheduler answers for.

A ledger revert (`ChainRevert`) is not an outage: the ledger answered, and refused. It is reported
with the rule it names in `rule`: 422 when the arguments were malformed (`invalid-argument`), 409
otherwise (the current state breaks the rule: retrying the same call will not help until the state
changes). Only a ledger that cannot be reached answers 503.
"""

from __future__ import annotations

from fastapi import FastAPI

from ...chain.base import ChainError, ChainRevert
from ...chain.errors import INVALID_ARGUMENT
from ...logs import get_logger
from ...service import errors
from ...service.errors import Conflict, Refused, Unavailable, Unprocessable

log = get_logger("pocopool.scheduler.http")


def revert_refusal(error: ChainRevert) -> Refused:
    """422 when the ledger blames the arguments, 409 when the state breaks the rule."""
    kind = Unprocessable if error.rule == INVALID_ARGUMENT else Conflict
    return kind(f"the ledger refuses: {error.message}", rule=error.rule)


def unreachable(error: ChainError) -> Refused:
    return Unavailable(f"the ledger cannot be reached: {error}")


def install_error_handlers(app: FastAPI) -> None:
    errors.install_error_handlers(app, log, translate={ChainRevert: revert_refusal, ChainError: unreachable})
