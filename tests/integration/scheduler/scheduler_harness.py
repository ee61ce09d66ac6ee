"""A real LocalChain, an in-process scheduler on a free port, and simulated workers speaking HTTP.

Workers log in with real keys, drive real status sequences, and send real contribute/reveal
transactions with the authorization the scheduler signed for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from pocopool.chain import DealRequest, LocalChain
from pocopool.protocol import crypto
from pocopool.protocol.models import NotificationBatch, ReplicateTaskSummary
from pocopool.protocol.time import Clock
from pocopool.scheduler import Scheduler, SchedulerConfig

OWNER = Account.from_key("0x" + "01" * 32)
SCHEDULER = Account.from_key("0x" + "a1" * 32)
REQUESTER = Account.from_key("0x" + "c3" * 32)
APP_OWNER = Account.from_key("0x" + "d4" * 32)
WORKER_KEYS = [f"0x{0xBEEF00 + i:064x}" for i in range(8)]
SCHEDULER_KEY = crypto.key_hex(SCHEDULER)
FAKE_LINK = crypto.result_link("pocopool", "http://results.test/results/fake")


@dataclass
class Ledger:
    chain: LocalChain
    clock: Clock
    category: int
    workerpool: str
    app: str

    def new_deal(self, *, trust: int = 1, volume: int = 1, params: str = '{"iexec_args":"--hello world"}') -> str:
        request = DealRequest(
            app=self.app, workerpool=self.workerpool, category=self.category, trust=trust, volume=volume, params=params
        )
        return self.chain.create_deal(REQUESTER, request).return_value

    def task_ids(self, deal_id: str) -> list[str]:
        deal = self.chain.view_deal(deal_id)
        assert deal is not None
        return deal.task_ids()


def make_ledger(path: Path, clock: Clock, time_ref: int = 60) -> Ledger:
    chain = LocalChain.create(path, OWNER.address, clock=clock)
    category = chain.create_category(OWNER, "TEST", "short category for tests", time_ref).return_value
    workerpool = chain.create_workerpool(SCHEDULER, "test pool").return_value
    app = chain.create_app(APP_OWNER, "echo", "http://files.test/echo.tar.gz", "0x" + "ab" * 32).return_value
    return Ledger(chain, clock, category, workerpool, app)


def scheduler_config(ledger: Ledger, db_url: str, **overrides: Any) -> SchedulerConfig:
    settings: dict[str, Any] = dict(
        workerpool=ledger.workerpool,
        private_key=SCHEDULER_KEY,
        db_url=db_url,
        port=0,
        results_url="http://results.test",
        ask_period_ms=0,
        poll_interval=0.05,
        detector_period=0.2,
    )
    settings.update(overrides)
    return SchedulerConfig(**settings)


class FaultyChain:
    """The ledger, except that chosen calls fail the next times they are made."""

    def __init__(self, chain: LocalChain) -> None:
        self._chain = chain
        self._faults: dict[str, list[Exception]] = {}

    def fail(self, method: str, *errors: Exception) -> None:
        self._faults.setdefault(method, []).extend(errors)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._chain, name)
        faults = self._faults.get(name)
        if not faults:
            return target

        def failing(*args: Any, **kwargs: Any) -> Any:
            if faults:
                raise faults.pop(0)
            return target(*args, **kwargs)

        return failing


@asynccontextmanager
async def running_scheduler(
    ledger: Ledger, db_url: str, *, chain: Any = None, **overrides: Any
) -> AsyncIterator[Scheduler]:
    scheduler = Scheduler(scheduler_config(ledger, db_url, **overrides), chain or ledger.chain, ledger.clock)
    await scheduler.start()
    runner = asyncio.ensure_future(scheduler.run())
    try:
        await asyncio.wait_for(scheduler.wait_running(), 10)
        yield scheduler
    finally:
        scheduler.stop()
        await asyncio.wait_for(runner, 15)


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Polls an async predicate until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(interval)


class SimWorker:
    """A worker made of HTTP calls and chain transactions, driven step by step by the test."""

    def __init__(self, scheduler: Scheduler, ledger: Ledger, key: str, name: str = "sim") -> None:
        self.account: LocalAccount = Account.from_key(key)
        self.key = key
        self.wallet = self.account.address
        self.ledger = ledger
        self.name = name
        self.http = httpx.AsyncClient(base_url=scheduler.url, timeout=40)
        self.token: str | None = None
        self.cursor = 0
        self.authorizations: dict[str, dict[str, Any]] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def login(self) -> None:
        challenge = (await self.http.get("/workers/challenge", params={"walletAddress": self.wallet})).text
        signature = crypto.sign_login(self.key, challenge)
        answer = await self.http.post(
            "/workers/login", params={"walletAddress": self.wallet}, json={"value": signature}
        )
        assert answer.status_code == 200, answer.text
        self.token = answer.text

    async def register(self, cpu_nb: int = 2) -> dict[str, Any]:
        answer = await self.http.post(
            "/workers/register", headers=self.headers, json={"name": self.name, "cpuNb": cpu_nb, "os": "linux"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def join(self, cpu_nb: int = 2) -> SimWorker:
        await self.login()
        await self.register(cpu_nb)
        return self

    async def ask(self, block: int = 1, hold: float = 0) -> ReplicateTaskSummary | None:
        answer = await self.http.get(
            "/replicates/available", params={"blockNumber": block, "timeout": hold}, headers=self.headers
        )
        if answer.status_code == 204:
            return None
        assert answer.status_code == 200, answer.text
        summary = ReplicateTaskSummary.model_validate(answer.json())
        self.authorizations[summary.workerpoolAuthorization.chainTaskId] = answer.json()["workerpoolAuthorization"]
        return summary

    async def update(self, task_id: str, status: str, **details: Any) -> httpx.Response:
        body: dict[str, Any] = {"status": status}
        if details:
            body["details"] = details
        return await self.http.post(f"/replicates/{task_id}/updateStatus", json=body, headers=self.headers)

    async def report(self, task_id: str, status: str, expect: str | None = None, **details: Any) -> str:
        answer = await self.update(task_id, status, **details)
        assert answer.status_code == 200, f"{status}: {answer.status_code} {answer.text}"
        if expect is not None:
            assert answer.json() == expect, f"{status}: answered {answer.json()}, expected {expect}"
        return answer.json()

    async def compute(
        self, task_id: str, exit_code: int = 0, stdout: str | None = None, result_files: dict[str, str] | None = None
    ) -> None:
        await self.report(task_id, "STARTING", "PLEASE_CONTINUE")
        await self.report(task_id, "STARTED", "PLEASE_DOWNLOAD_APP")
        await self.report(task_id, "APP_DOWNLOADING", "PLEASE_CONTINUE")
        await self.report(task_id, "APP_DOWNLOADED", "PLEASE_DOWNLOAD_DATA")
        await self.report(task_id, "DATA_DOWNLOADING", "PLEASE_CONTINUE")
        await self.report(task_id, "DATA_DOWNLOADED", "PLEASE_COMPUTE")
        await self.report(task_id, "COMPUTING", "PLEASE_CONTINUE")
        await self.report(
            task_id,
            "COMPUTED",
            "PLEASE_CONTRIBUTE",
            exitCode=exit_code,
            computeLogs={"stdout": f"hello from {self.name}\n" if stdout is None else stdout, "stderr": ""},
            **({"resultFiles": result_files} if result_files is not None else {}),
        )

    def digest(self, result: str) -> str:
        return crypto.keccak_hex(result.encode())

    async def contribute(self, task_id: str, result: str = "good") -> dict[str, Any]:
        """CONTRIBUTING, the contribute transaction, CONTRIBUTED with its receipt."""
        await self.report(task_id, "CONTRIBUTING", "PLEASE_CONTINUE")
        digest = self.digest(result)
        authorization = self.authorizations[task_id]
        receipt = await asyncio.to_thread(
            self.ledger.chain.contribute,
            self.account,
            task_id,
            crypto.result_hash(task_id, digest),
            crypto.result_seal(self.wallet, task_id, digest),
            authorization["enclaveChallenge"],
            "",
            authorization["signature"]["value"],
        )
        chain_receipt = {"blockNumber": receipt.block_number, "txHash": receipt.tx_hash}
        await self.report_proven(task_id, "CONTRIBUTED", chain_receipt)
        return chain_receipt

    async def reveal(self, task_id: str, result: str = "good") -> None:
        await self.report(task_id, "REVEALING", "PLEASE_CONTINUE")
        receipt = await asyncio.to_thread(self.ledger.chain.reveal, self.account, task_id, self.digest(result))
        await self.report_proven(task_id, "REVEALED", {"blockNumber": receipt.block_number, "txHash": receipt.tx_hash})

    async def report_proven(self, task_id: str, status: str, chain_receipt: dict[str, Any]) -> None:
        """CONTRIBUTED or REVEALED after its transaction: 200 PLEASE_WAIT, or 208 PLEASE_WAIT when the
        unnotified-contribution/reveal detector (every 0.2 s here) saw it on chain first and recorded
        it itself, which is what those detectors are for."""
        answer = await self.update(task_id, status, chainReceipt=chain_receipt)
        assert (answer.status_code, answer.json()) in ((200, "PLEASE_WAIT"), (208, "PLEASE_WAIT")), (
            f"{status}: {answer.status_code} {answer.text}"
        )

    async def upload(self, task_id: str, link: str = FAKE_LINK) -> None:
        await self.report(task_id, "RESULT_UPLOADING", "PLEASE_CONTINUE")
        await self.report(task_id, "RESULT_UPLOADED", "PLEASE_WAIT", resultLink=link)

    async def complete(self, task_id: str) -> None:
        await self.report(task_id, "COMPLETING", "PLEASE_CONTINUE")
        await self.report(task_id, "COMPLETED", "PLEASE_WAIT")

    async def notifications(self, timeout: float = 0) -> NotificationBatch:
        answer = await self.http.get(
            "/workers/notifications", params={"after": self.cursor, "timeout": timeout}, headers=self.headers
        )
        assert answer.status_code == 200, answer.text
        batch = NotificationBatch.model_validate(answer.json())
        self.cursor = batch.cursor
        return batch

    async def next_notification(self, timeout: float = 10.0) -> Any:
        """The next notification for this worker (long-polls)."""
        batch = await self.notifications(timeout=timeout)
        assert batch.notifications, f"worker {self.name} got no notification within {timeout}s"
        if len(batch.notifications) > 1:  # keep the rest for later calls
            self.cursor = batch.notifications[0].id
        return batch.notifications[0]
