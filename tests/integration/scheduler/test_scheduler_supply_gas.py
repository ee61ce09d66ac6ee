"""The supply gate on the worker's gas (spec/scheduler.md §5.1 step 5, decision 127): on the built-in EVM
node charging gas (a real node process, the PocoLedger contract), a worker whose wallet cannot pay one
transaction gets no replicate, while a funded one gets the same task."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from pocopool.chain.evm import EvmChain
from pocopool.devnet.evm_nodes import start_builtin_node
from pocopool.protocol import crypto
from pocopool.protocol.time import SystemClock
from scheduler_harness import (
    APP_OWNER,
    OWNER,
    REQUESTER,
    SCHEDULER,
    WORKER_KEYS,
    Ledger,
    SimWorker,
    running_scheduler,
    wait_for,
)

pytestmark = pytest.mark.evm

PRICE = 10**9
ETHER = 10**18


async def test_a_worker_whose_wallet_cannot_pay_a_transaction_gets_no_replicate(tmp_path: Path) -> None:
    rich_key, poor_key = WORKER_KEYS[0], WORKER_KEYS[1]
    funded = [OWNER, SCHEDULER, REQUESTER, APP_OWNER, Account.from_key(rich_key)]
    node = start_builtin_node(
        gas_price=PRICE, funds={account.address: ETHER for account in funded}, log=tmp_path / "node.log"
    )
    chain = EvmChain.deploy(node.url, crypto.key_hex(OWNER))
    try:
        chain.mint(OWNER, REQUESTER.address, 10**12)
        category = chain.create_category(OWNER, "TEST", "short category for tests", 60).return_value
        workerpool = chain.create_workerpool(SCHEDULER, "test pool").return_value
        app = chain.create_app(APP_OWNER, "echo", "http://files.test/echo.tar.gz", "0x" + "ab" * 32).return_value
        ledger = Ledger(chain, SystemClock(), category, workerpool, app)  # type: ignore[arg-type]
        async with running_scheduler(ledger, f"sqlite:///{tmp_path / 'scheduler.db'}") as scheduler:
            [task_id] = ledger.task_ids(ledger.new_deal())
            poor, rich = SimWorker(scheduler, ledger, poor_key, "poor"), SimWorker(scheduler, ledger, rich_key, "rich")
            try:
                await poor.join()
                await rich.join()

                async def initialized() -> bool:
                    view = await poor.http.get(f"/tasks/{task_id}")
                    return view.status_code == 200 and view.json()["currentStatus"] == "INITIALIZED"

                await wait_for(initialized, timeout=60)
                assert await poor.ask() is None  # the task needs a worker, but not one that cannot pay
                summary = await rich.ask()
                assert summary is not None and summary.workerpoolAuthorization.chainTaskId == task_id
            finally:
                await poor.aclose()
                await rich.aclose()
    finally:
        chain.close()
        node.stop()
