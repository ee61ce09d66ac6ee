"""Every service refuses through service/errors.py: a typed refusal, its status, one body."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

import pocopool
from pocopool.logs import get_logger
from pocopool.service.bodies import read_bounded
from pocopool.service.errors import (
    KINDS,
    BadRequest,
    Conflict,
    Forbidden,
    Internal,
    NotFound,
    Refused,
    TooLarge,
    Unauthorized,
    Unavailable,
    Unprocessable,
    install_error_handlers,
)

LOG = get_logger("pocopool.test.service")


class Ledger(Exception):
    pass


class Bearer(Unauthorized):
    scheme = "Bearer"


class Item(BaseModel):
    name: str
    size: int


def make_app(**options: object) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, LOG, **options)  # type: ignore[arg-type]

    @app.get("/refuse/{kind}")
    async def refuse(kind: str) -> None:
        raise next(k for k in KINDS if k.__name__ == kind)(f"refused as {kind}")

    @app.get("/stored")
    async def stored() -> None:
        raise Conflict("a result is already stored", sha256="ab" * 32, resultLink="0x12")

    @app.get("/session")
    async def session() -> None:
        raise NotFound("no key was pushed", code="PRE_COMPUTE_GET_DATASET_SECRET_FAILED")

    @app.get("/bearer")
    async def bearer() -> None:
        raise Bearer("the token expired")

    @app.get("/ledger")
    async def ledger() -> None:
        raise Ledger("node down")

    @app.get("/crash")
    async def crash() -> None:
        raise ZeroDivisionError("secret 0x5ec")

    @app.put("/body")
    async def body(request: Request) -> dict[str, int]:
        return {"read": len(await read_bounded(request, 8, "the value"))}

    @app.post("/items")
    async def items(item: Item) -> Item:
        return item

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        (BadRequest, 400, "BAD_REQUEST"),
        (Unauthorized, 401, "UNAUTHORIZED"),
        (Forbidden, 403, "FORBIDDEN"),
        (NotFound, 404, "NOT_FOUND"),
        (Conflict, 409, "CONFLICT"),
        (TooLarge, 413, "TOO_LARGE"),
        (Unprocessable, 422, "UNPROCESSABLE"),
        (Internal, 500, "INTERNAL"),
        (Unavailable, 503, "UNAVAILABLE"),
    ],
)
async def test_each_kind_answers_its_status_its_sentence_and_its_code(
    kind: type[Refused], status: int, code: str
) -> None:
    async with client(make_app()) as http:
        answer = await http.get(f"/refuse/{kind.__name__}")
    assert answer.status_code == status
    assert answer.json() == {"error": f"refused as {kind.__name__}", "code": code}
    assert "www-authenticate" not in answer.headers


async def test_extra_fields_and_a_finer_code_travel_in_the_same_body() -> None:
    async with client(make_app()) as http:
        stored = await http.get("/stored")
        session = await http.get("/session")
    assert stored.status_code == 409
    assert stored.json() == {
        "error": "a result is already stored",
        "code": "CONFLICT",
        "sha256": "ab" * 32,
        "resultLink": "0x12",
    }
    assert session.status_code == 404
    assert session.json() == {"error": "no key was pushed", "code": "PRE_COMPUTE_GET_DATASET_SECRET_FAILED"}


def test_an_extra_field_may_not_hide_the_bodys_own() -> None:
    with pytest.raises(ValueError, match="error"):
        Conflict("x", error="y")


async def test_an_unauthorized_with_a_scheme_names_it_in_www_authenticate() -> None:
    async with client(make_app()) as http:
        answer = await http.get("/bearer")
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {"error": "the token expired", "code": "UNAUTHORIZED"}


async def test_a_request_that_does_not_fit_its_model_is_one_sentence_and_every_bad_field() -> None:
    async with client(make_app()) as http:
        answer = await http.post("/items", json={"size": "big"})
        as_400 = await client(make_app(invalid_request=BadRequest)).post("/items", json={"size": "big"})
    assert answer.status_code == 422
    body = answer.json()
    assert set(body) == {"error", "code", "detail"} and body["code"] == "UNPROCESSABLE"
    assert body["error"].startswith("invalid request: ") and "name" in body["error"] and "size" in body["error"]
    assert [field["loc"][-1] for field in body["detail"]] == ["name", "size"]
    assert as_400.status_code == 400 and as_400.json() == {**body, "code": "BAD_REQUEST"}


async def test_an_unknown_route_or_method_answers_the_same_body() -> None:
    async with client(make_app()) as http:
        missing = await http.get("/nowhere")
        wrong = await http.delete("/stored")
    assert missing.status_code == 404 and missing.json() == {"error": "no such endpoint", "code": "NOT_FOUND"}
    assert wrong.status_code == 405 and wrong.json() == {"error": "Method Not Allowed", "code": "METHOD_NOT_ALLOWED"}


async def test_a_service_translates_its_own_exceptions_into_refusals() -> None:
    app = make_app(translate={Ledger: lambda error: Unavailable(f"the ledger cannot be reached: {error}")})
    async with client(app) as http:
        answer = await http.get("/ledger")
    assert answer.status_code == 503
    assert answer.json() == {"error": "the ledger cannot be reached: node down", "code": "UNAVAILABLE"}


async def test_an_unexpected_error_is_a_500_naming_only_its_type_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="pocopool.test.service"):
        async with client(make_app()) as http:
            answer = await http.get("/crash")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error: ZeroDivisionError", "code": "INTERNAL"}
    failed = [record for record in caplog.records if record.getMessage() == "request-failed"]
    assert len(failed) == 1 and failed[0].exc_info is not None


async def test_a_refusal_is_logged_with_its_status_code_and_sentence_and_the_services_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(log_fields=lambda request: {"worker": request.headers.get("X-Worker")})
    with caplog.at_level(logging.INFO, logger="pocopool.test.service"):
        async with client(app) as http:
            await http.get("/refuse/Forbidden", headers={"X-Worker": "0xabc"})
    (record,) = [record for record in caplog.records if record.getMessage() == "request-refused"]
    assert record.levelno == logging.INFO
    fields = record.__dict__
    assert (fields["status"], fields["code"], fields["error"], fields["worker"]) == (
        403,
        "FORBIDDEN",
        "refused as Forbidden",
        "0xabc",
    )


async def test_a_body_over_the_limit_is_too_large_whether_declared_or_streamed() -> None:
    async def stream(data: bytes):  # no Content-Length: read until it passes the limit
        yield data

    async with client(make_app()) as http:
        fits = await http.put("/body", content=b"12345678")
        declared = await http.put("/body", content=b"123456789")
        streamed = await http.put("/body", content=stream(b"123456789"))
    assert fits.json() == {"read": 8}
    assert declared.status_code == 413
    assert declared.json() == {"error": "the value is 9 bytes, more than the 8 bytes accepted", "code": "TOO_LARGE"}
    assert streamed.status_code == 413
    assert streamed.json() == {"error": "the value is more than the 8 bytes accepted", "code": "TOO_LARGE"}


def test_the_service_skeleton_imports_no_service() -> None:
    """DESIGN §2: service/ is a leaf below the services; it imports protocol, logs, integrity and libraries."""
    root = Path(pocopool.__file__).resolve().parent
    allowed = ("pocopool.protocol", "pocopool.logs", "pocopool.integrity", "pocopool.service")
    found: list[str] = []
    for path in sorted((root / "service").rglob("*.py")):
        package = ["pocopool", *path.relative_to(root).parent.parts]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                names = [".".join([*base, *([node.module] if node.module else [])])]
            else:
                continue
            found += [f"{path.name} imports {name}" for name in names if name.split(".")[0] == "pocopool"]
    found = [line for line in found if not line.split(" imports ")[1].startswith(allowed)]
    assert found == []
