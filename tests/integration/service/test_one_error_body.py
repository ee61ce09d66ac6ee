"""The scheduler, the result store and the SMS refuse with one body (docs/contracts.md "Errors"):
the same kind of refusal reads the same from each of them."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scheduler"))

from pocopool.protocol.crypto import key_hex, sign_personal
from pocopool.protocol.tee import challenge_request_hash
from pocopool.protocol.time import SystemClock
from pocopool.results import ResultStore, auth
from pocopool.results import create_app as results_app
from pocopool.service.database import open_database
from pocopool.sms.http import create_app as sms_app
from pocopool.sms.provisioning import EnclaveTrust
from pocopool.sms.store import SmsStore
from pocopool.sms.tables import schema
from pocopool.sms.vault import Vault, load_or_create_master_key
from scheduler_harness import Ledger, make_ledger, running_scheduler

UNKNOWN_TASK = "0x" + "ab" * 32
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service.test")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    made = make_ledger(tmp_path / "chain.db", SystemClock())
    yield made
    made.chain.close()


@pytest.fixture
async def services(ledger: Ledger, tmp_path: Path) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    db = open_database(f"sqlite:///{tmp_path / 'sms.db'}", schema)
    await db.migrate()
    sms = sms_app(
        ledger.chain,
        SmsStore(db, Vault(load_or_create_master_key(tmp_path))),
        public_url="http://sms.test",
        result_proxy="http://results.test",
        trust=EnclaveTrust((), {}),
    )
    results = results_app(ledger.chain, ResultStore(tmp_path / "results"), "http://results.test")
    async with running_scheduler(ledger, f"sqlite:///{tmp_path / 'scheduler.db'}") as scheduler:
        clients = {"scheduler": client(scheduler.app), "results": client(results), "sms": client(sms)}
        try:
            yield clients
        finally:
            for http in clients.values():
                await http.aclose()
            await db.dispose()


def assert_one_body(body: object, code: str) -> None:
    assert isinstance(body, dict) and set(body) <= {"error", "code", "detail"}, body
    assert isinstance(body["error"], str) and body["error"] and "\n" not in body["error"]
    assert body["code"] == code and CODE.match(body["code"])


async def test_an_unknown_route_answers_the_same_on_every_service(services: dict[str, httpx.AsyncClient]) -> None:
    for name, http in services.items():
        answer = await http.get("/no/such/thing")
        assert answer.status_code == 404, name
        assert answer.json() == {"error": "no such endpoint", "code": "NOT_FOUND"}, name


async def test_a_task_unknown_on_chain_is_a_404_not_found_on_every_service(
    services: dict[str, httpx.AsyncClient],
) -> None:
    someone = Account.create()
    answers = {
        "scheduler": await services["scheduler"].get(f"/tasks/{UNKNOWN_TASK}"),
        "results": await services["results"].get(
            f"/results/{UNKNOWN_TASK}",
            headers=auth.download_headers(key_hex(someone), UNKNOWN_TASK, int(time.time())),
        ),
        "sms": await services["sms"].post(
            f"/tee/challenges/{UNKNOWN_TASK}",
            headers={"Authorization": sign_personal(key_hex(someone), challenge_request_hash(UNKNOWN_TASK))},
        ),
    }
    for name, answer in answers.items():
        assert answer.status_code == 404, (name, answer.text)
        assert_one_body(answer.json(), "NOT_FOUND")
        assert set(answer.json()) == {"error", "code"} and UNKNOWN_TASK in answer.json()["error"], name


async def test_a_malformed_request_is_one_sentence_with_its_code_on_every_service(
    services: dict[str, httpx.AsyncClient],
) -> None:
    # A body that does not fit its model: the scheduler answers 422, the SMS (as always) 400; both
    # name every bad field in `detail`. The result store reads no model: a bad task id is its 400.
    login = await services["scheduler"].post(
        "/workers/login", params={"walletAddress": Account.create().address}, json={"value": 12}
    )
    provision = await services["sms"].post("/tee/sessions/s1/pre-compute/secrets", json={"measurement": "zz"})
    bad_id = await services["results"].get("/results/0x12")
    assert login.status_code == 422 and provision.status_code == 400 and bad_id.status_code == 400
    assert_one_body(login.json(), "UNPROCESSABLE")
    assert_one_body(provision.json(), "BAD_REQUEST")
    assert_one_body(bad_id.json(), "BAD_REQUEST")
    for body in (login.json(), provision.json()):
        assert body["error"].startswith("invalid request: ")
        assert body["detail"] and all(set(field) == {"loc", "msg", "type"} for field in body["detail"])
