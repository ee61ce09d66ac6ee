"""Every error the scheduler answers, mapped to HTTP in one place.

Domain errors (`scheduler/errors.py`), ledger errors, validation errors, unknown routes and
unexpected failures all become JSON `{"error": ..., "detail": ...}` here, plus `nextAction` where a
worker must be told what to do, and `rule` where the ledger refused a transaction.

A ledger revert (`ChainRevert`) is not an outage: the ledger answered, and refused. It is reported
with the rule it names: 422 when the arguments were malformed (`invalid-argument`), 409 otherwise
(the current state breaks the rule: retrying the same call will not help until the state changes).
Only a ledger that cannot be reached answers 503.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...chain.base import ChainError, ChainRevert
from ...chain.errors import INVALID_ARGUMENT
from ..errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Refused,
    Unauthorized,
    Unavailable,
    Unprocessable,
)
from ..logs_access import NotProven, NotRequester

logger = logging.getLogger("pocopool.scheduler")

STATUS: dict[type[Refused], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
    Unavailable: 503,
    NotProven: 401,  # logs: no WWW-Authenticate, the scheme is the logs challenge, not a bearer token
    NotRequester: 403,
}


def status_of(error: Refused) -> int:
    """The HTTP status of a domain error (its nearest mapped class; 400 for an unmapped one)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def body_of(error: Refused) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error.message}
    if error.detail is not None:
        body["detail"] = error.detail
    if error.next_action is not None:
        body["nextAction"] = error.next_action.value
    return body


def revert_status(error: ChainRevert) -> int:
    """422 when the ledger blames the arguments, 409 when the state breaks the rule."""
    return 422 if error.rule == INVALID_ARGUMENT else 409


def _location(loc: Any) -> str:
    parts = [str(part) for part in loc if part not in ("body",)] if isinstance(loc, (list, tuple)) else [str(loc)]
    return ".".join(parts) or "body"


def validation_message(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """One sentence naming every bad field, and a JSON-safe list of them."""
    detail = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors
    ]
    described = "; ".join(f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return f"invalid request: {described}{more}", detail


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def _refused(_: Request, error: Refused) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        return JSONResponse(body_of(error), status_code=status_of(error), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        message, detail = validation_message(list(error.errors()))
        return JSONResponse({"error": message, "detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else "request refused"
        if error.status_code == 404 and message == "Not Found":
            message = "no such endpoint"
        return JSONResponse({"error": message}, status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(ChainRevert)
    async def _revert(_: Request, error: ChainRevert) -> JSONResponse:
        return JSONResponse(
            {"error": f"the ledger refuses: {error.message}", "rule": error.rule}, status_code=revert_status(error)
        )

    @app.exception_handler(ChainError)
    async def _chain(_: Request, error: ChainError) -> JSONResponse:
        return JSONResponse({"error": f"the ledger cannot be reached: {error}"}, status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": f"internal error: {type(error).__name__}"}, status_code=500)
