"""A real `python -m pocopool.sms` process over a real LocalChain file, on SQLite and on PostgreSQL.

The PostgreSQL run uses its own fresh database on 127.0.0.1:5432 (dropped at the end), so it never
meets another test's tables. The machine's set-up runs PostgreSQL: if it does not answer, the test fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from pocopool.chain.base import DealRequest
from pocopool.chain.local import LocalChain
from pocopool.devnet.tee import pinned_programs
from pocopool.protocol.crypto import ZERO_ADDRESS, authorization_hash, key_hex, sign_authorization, sign_personal
from pocopool.protocol.tags import int_to_tag
from pocopool.protocol.tee import SIM_FRAMEWORK_TAG, EnclaveConfig, challenge_request_hash, sign_secret_push
from pocopool.protocol.time import SystemClock

PG_SERVER = dict(host="127.0.0.1", port=5432, user="postgres")
FINGERPRINT = "ab" * 32
RESULT_PROXY = "http://results.example:8090"


async def _pg(sql: str, database: str = "postgres") -> None:
    import asyncpg

    connection = await asyncpg.connect(database=database, timeout=3, **PG_SERVER)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@dataclass
class World:
    """The chain world of the SMS tests: a TEE app, a dataset, a pool, and who owns what."""

    path: Path
    chain: LocalChain
    owner: LocalAccount = field(default_factory=Account.create)
    pool_owner: LocalAccount = field(default_factory=Account.create)
    requester: LocalAccount = field(default_factory=Account.create)
    beneficiary: LocalAccount = field(default_factory=Account.create)
    app_owner: LocalAccount = field(default_factory=Account.create)
    dataset_owner: LocalAccount = field(default_factory=Account.create)
    stranger: LocalAccount = field(default_factory=Account.create)
    worker: LocalAccount = field(default_factory=Account.create)
    platform: LocalAccount = field(default_factory=Account.create)
    app: str = ZERO_ADDRESS
    dataset: str = ZERO_ADDRESS
    workerpool: str = ZERO_ADDRESS

    def setup(self) -> World:
        for account in (self.pool_owner, self.requester, self.worker):
            self.chain.mint(self.owner, account.address, 10**12)
        config = EnclaveConfig("GRAMINE", "tee-sim-1", "python3", 256 * 1024 * 1024, FINGERPRINT)
        self.app = self.new_app(config.to_json())
        self.dataset = self.chain.create_dataset(
            self.dataset_owner, "data", "http://files.example/data.bin", "0x" + "22" * 32
        ).return_value
        self.workerpool = self.chain.create_workerpool(self.pool_owner, "tee pool").return_value
        return self

    def new_app(self, mrenclave: str) -> str:
        return self.chain.create_app(
            self.app_owner,
            f"app-{secrets.token_hex(3)}",
            "http://files.example/app.tgz",
            "0x" + "11" * 32,
            mrenclave=mrenclave,
        ).return_value

    def deal_id(
        self,
        *,
        tee: bool = True,
        app: str | None = None,
        dataset: bool = True,
        params: dict | None = None,
        callback: str = ZERO_ADDRESS,
    ) -> str:
        return self.chain.create_deal(
            self.requester,
            DealRequest(
                app=app or self.app,
                workerpool=self.workerpool,
                category=0,
                dataset=self.dataset if dataset else ZERO_ADDRESS,
                tag=int_to_tag(SIM_FRAMEWORK_TAG if tee else 0),
                params=json.dumps(params or {}),
                beneficiary=self.beneficiary.address,
                callback=callback,
            ),
        ).return_value

    def task(self, **deal: object) -> str:
        """A one-task deal, initialized: its task id."""
        return self.chain.initialize(self.pool_owner, self.deal_id(**deal), 0).return_value  # type: ignore[arg-type]


@dataclass
class Sms:
    url: str
    home: Path
    db_url: str
    world: World
    http: httpx.Client
    log_path: Path

    def push(
        self, signer: LocalAccount, kind: str, address: str, name: str, value: str, signed_value: str | None = None
    ) -> httpx.Response:
        signature = sign_secret_push(key_hex(signer), kind, address, name, signed_value or value)
        return self.http.put(
            f"/secrets/{kind}/{address}/{name}", content=value.encode(), headers={"Authorization": signature}
        )

    def challenge(self, task_id: str, signer: LocalAccount | None = None) -> httpx.Response:
        signature = sign_personal(key_hex(signer or self.world.pool_owner), challenge_request_hash(task_id))
        return self.http.post(f"/tee/challenges/{task_id}", headers={"Authorization": signature})

    def authorization(
        self, task_id: str, challenge: str, *, signer: LocalAccount | None = None, deal_id: str | None = None
    ) -> dict:
        task = self.world.chain.view_task(task_id)
        worker = self.world.worker.address
        return {
            "chainTaskId": task_id,
            "dealId": deal_id or task.deal_id,
            "taskIndex": task.idx,
            "workerWallet": worker,
            "enclaveChallenge": challenge,
            "signature": {
                "value": sign_authorization(key_hex(signer or self.world.pool_owner), worker, task_id, challenge)
            },
        }

    def session(self, authorization: dict, worker_key: LocalAccount | None = None) -> httpx.Response:
        signature = sign_personal(
            key_hex(worker_key or self.world.worker),
            authorization_hash(
                authorization["workerWallet"], authorization["chainTaskId"], authorization["enclaveChallenge"]
            ),
        )
        return self.http.post("/tee/sessions", json=authorization, headers={"Authorization": signature})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sms-home') / 'sms.db'}"
        return
    name = f"pocopool_sms_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - the set-up runs PostgreSQL: missing is a failure
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 does not answer ({type(error).__name__}: {error})")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("sms-chain") / "chain.db"
    owner = Account.create()
    chain = LocalChain.create(path, owner.address, chain_id=65535, clock=SystemClock())
    world = World(path, chain, owner=owner).setup()
    yield world
    chain.close()


@pytest.fixture(scope="module")
def sms(world: World, db_url: str) -> Iterator[Sms]:
    home = Path(db_url[len("sqlite:///") :]).parent if db_url.startswith("sqlite") else world.path.parent / "pg-home"
    port = _free_port()
    log_path = world.path.parent / f"sms-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pocopool.sms",
            "--chain",
            f"local:{world.path}",
            "--home",
            str(home),
            "--db",
            db_url,
            "--port",
            str(port),
            "--result-proxy",
            RESULT_PROXY,
            "--trust-platform",
            world.platform.address,
            *pinned_programs(),
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=15) as http:
            for _ in range(300):
                if process.poll() is not None:
                    raise AssertionError(f"the SMS exited: {log_path.read_text()}")
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            else:
                raise AssertionError("the SMS did not answer /health")
            yield Sms(url, home, db_url, world, http, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        log_file.close()
        assert process.returncode == 0, log_path.read_text()
