"""What the SMS tests share: the ledger world, a running `python -m pocopool.sms` (`Sms`), constants.
Imported by name (`from sms_world import …`): a `from conftest import` finds whichever conftest
was loaded first.

A real `python -m pocopool.sms` process over a real LocalChain file, on SQLite and on PostgreSQL.

The PostgreSQL run uses its own fresh database on 127.0.0.1:5432 (dropped at the end), so it never
meets another test's tables. The machine's set-up runs PostgreSQL: if it does not answer, the test fails.
"""

from __future__ import annotations

import json
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from pocopool.chain.base import DealRequest
from pocopool.chain.local import LocalChain
from pocopool.protocol.crypto import ZERO_ADDRESS, authorization_hash, key_hex, sign_authorization, sign_personal
from pocopool.protocol.tags import int_to_tag
from pocopool.protocol.tee import SIM_FRAMEWORK_TAG, EnclaveConfig, challenge_request_hash, sign_secret_push

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
