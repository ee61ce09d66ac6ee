"""Every error the scheduler answers, mapped to HTTP in one place.

Services raise `ApiError` subclasses with one clear sentence; `install_error_handlers` turns them,
validation errors, unknown routes and unexpected failures into JSON `{"error": ..., "detail": ...}`
(plus `nextAction` where a worker must be told what to do).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..chain.base import ChainError
from ..protocol.statuses import TaskNotificationType

logger = logging.getLogger("pocopool.scheduler")


class ApiError(Exception):
    status_code = 400

    def __init__(self, message: str, *, detail: Any = None, next_action: TaskNotificationType | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.next_action = next_action

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        if self.next_action is not None:
            body["nextAction"] = self.next_action.value
        return body


class BadRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class Unprocessable(ApiError):
    status_code = 422


class Unavailable(ApiError):
    status_code = 503


def _location(loc: Any) -> str:
    parts = [str(part) for part in loc if part not in ("body",)] if isinstance(loc, (list, tuple)) else [str(loc)]
    return ".".join(parts) or "body"


def validation_message(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """One sentence naming every bad field, and a JSON-safe list of them."""
    detail = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
              for e in errors]
    described = "; ".join(f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return f"invalid request: {described}{more}", detail


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        return JSONResponse(error.body(), status_code=error.status_code, headers=headers)

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

    @app.exception_handler(ChainError)
    async def _chain(_: Request, error: ChainError) -> JSONResponse:
        return JSONResponse({"error": f"the ledger cannot be reached: {error}"}, status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": f"internal error: {type(error).__name__}"}, status_code=500)
