"""Typed refusals, mapped to HTTP once, with the one error body every pocopool service answers.

A service raises the refusal that says what happened (`NotFound("unknown task 0x…")`,
`Forbidden(...)`) and knows nothing of HTTP; `install_error_handlers` answers it with the status
of its kind and this body (docs/contracts.md, decision 105):

    {"error": "<one sentence>", "code": "<NAME>", "detail": <JSON>?, <extra fields>?}

- `error` is for people: one line, never a secret value.
- `code` is for programs: the kind's name (`NOT_FOUND`, `CONFLICT` …) unless the refusal names a
  finer one (the SMS's `ATTESTATION_FAILED`, a TEE session's cause). Always present.
- `detail` is JSON-safe data when there is some (e.g. every bad field of a request).
- Extra fields are named by the service's contract: the result store's `sha256` and `resultLink`,
  the scheduler's `nextAction` and `rule`.

Validation errors, unknown routes and unexpected failures (500, logged with their traceback)
answer the same body. What only one service knows, such as a ledger error, is mapped by that
service with `translate`: an exception type and the refusal it becomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..logs import EventLogger

RESERVED_FIELDS = frozenset({"error", "code", "detail"})
MAX_NAMED_FIELDS = 5  # a validation sentence names this many bad fields, then counts the rest


class Refused(Exception):
    """A request refused: nothing was stored or changed. Raise one of its kinds below.

    `message` is the body's `error`; `code` its `code` (the kind's by default); `detail` its
    `detail`; `extra` more fields of the body, spelt as the contract spells them."""

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, detail: Any = None, **extra: Any) -> None:
        clash = RESERVED_FIELDS & extra.keys()
        if clash:
            raise ValueError(f"extra fields {sorted(clash)} would hide the body's own")
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body of this refusal."""
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.detail is not None:
            body["detail"] = self.detail
        return {**body, **self.extra}

    def headers(self) -> dict[str, str] | None:
        """The headers this refusal's answer carries (None: none)."""
        return None


class BadRequest(Refused):
    """The request cannot be read: a malformed id, header or body."""


class Unauthorized(Refused):
    """The caller did not prove who it is (missing, bad or expired credentials).

    A service whose credential is a scheme (the scheduler's `Bearer` token) sets `scheme`: the
    answer then names it in `WWW-Authenticate`. A signature header is no scheme: none is named."""

    status = 401
    default_code = "UNAUTHORIZED"
    scheme: ClassVar[str | None] = None

    def headers(self) -> dict[str, str] | None:
        return None if self.scheme is None else {"WWW-Authenticate": self.scheme}


class Forbidden(Refused):
    """The caller is known but may not do this."""

    status = 403
    default_code = "FORBIDDEN"


class NotFound(Refused):
    """What the request names (a task, a result, a session …) does not exist here."""

    status = 404
    default_code = "NOT_FOUND"


class Conflict(Refused):
    """The request contradicts the current state (a status already past, a result already stored)."""

    status = 409
    default_code = "CONFLICT"


class TooLarge(Refused):
    """The body is larger than the service accepts."""

    status = 413
    default_code = "TOO_LARGE"


class Unprocessable(Refused):
    """The request is readable but an argument is malformed (not an address, not a task id …)."""

    status = 422
    default_code = "UNPROCESSABLE"


class Internal(Refused):
    """The service failed on its side; the request may be sent again."""

    status = 500
    default_code = "INTERNAL"


class Unavailable(Refused):
    """Something the answer needs cannot be reached now; retrying later may work."""

    status = 503
    default_code = "UNAVAILABLE"


KINDS: tuple[type[Refused], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    Unprocessable,
    Internal,
    Unavailable,
)
_KIND_OF_STATUS = {kind.status: kind for kind in KINDS}


def validation_refusal(errors: list[Any], kind: type[Refused] = Unprocessable) -> Refused:
    """One refusal for a request that does not fit its model: a sentence naming the bad fields, and
    every one of them in `detail` (`loc`, `msg`, `type`)."""
    found = [error for error in errors if isinstance(error, Mapping)]
    detail = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in found
    ]
    described = "; ".join(f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in found[:MAX_NAMED_FIELDS])
    more = f" (and {len(found) - MAX_NAMED_FIELDS} more)" if len(found) > MAX_NAMED_FIELDS else ""
    return kind(f"invalid request: {described or 'unreadable'}{more}", detail=detail)


def _location(loc: Any) -> str:
    parts = [str(part) for part in loc if part != "body"] if isinstance(loc, (list, tuple)) else [str(loc)]
    return ".".join(parts) or "body"


def http_refusal(status: int, detail: Any) -> tuple[dict[str, Any], int]:
    """The body and status of an HTTP exception raised by the framework (an unknown route, a method
    the route does not have) or by a route."""
    message = detail if isinstance(detail, str) and detail else "request refused"
    if status == 404 and message == "Not Found":
        message = "no such endpoint"
    kind = _KIND_OF_STATUS.get(status)
    if kind is not None:
        code = kind.default_code
    else:
        try:
            code = HTTPStatus(status).name
        except ValueError:
            code = f"HTTP_{status}"
    return {"error": message, "code": code}, status


def install_error_handlers(
    app: FastAPI,
    log: EventLogger,
    *,
    invalid_request: type[Refused] = Unprocessable,
    translate: Mapping[type[Exception], Callable[[Any], Refused]] | None = None,
    log_fields: Callable[[Request], Mapping[str, Any]] | None = None,
) -> None:
    """Answer every error of `app` with the one body.

    `invalid_request` is the kind a request that does not fit its model becomes (422 by default;
    the SMS has always answered 400). `translate` maps a service's own exceptions to refusals (the
    ledger's errors). `log_fields` adds fields to each refusal's log line (the result store: the
    worker). A refusal is logged at INFO (WARNING from 500 on), an unexpected error with its
    traceback; the answer says only the error's type."""

    def answer(request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None) -> JSONResponse:
        fields = dict(log_fields(request)) if log_fields is not None else {}
        (log.warning if status >= 500 else log.info)(
            "request-refused",
            method=request.method,
            path=request.url.path,
            status=status,
            code=body["code"],
            error=body["error"],
            **fields,
        )
        return JSONResponse(body, status_code=status, headers=headers)

    def refuse(request: Request, refusal: Refused) -> JSONResponse:
        return answer(request, refusal.body(), refusal.status, refusal.headers())

    @app.exception_handler(Refused)
    async def _refused(request: Request, error: Refused) -> JSONResponse:
        return refuse(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return refuse(request, validation_refusal(list(error.errors()), invalid_request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        body, status = http_refusal(error.status_code, error.detail)
        return answer(request, body, status, getattr(error, "headers", None))

    for exception, refusal_of in (translate or {}).items():
        app.add_exception_handler(exception, _translated(refuse, refusal_of))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("request-failed", method=request.method, path=request.url.path, error=type(error).__name__)
        return JSONResponse(Internal(f"internal error: {type(error).__name__}").body(), status_code=500)


def _translated(
    refuse: Callable[[Request, Refused], JSONResponse], refusal_of: Callable[[Any], Refused]
) -> Callable[[Request, Exception], Any]:
    async def handler(request: Request, error: Exception) -> JSONResponse:
        return refuse(request, refusal_of(error))

    return handler
