"""The worker's ETH check before its transactions (spec/worker.md §6.9 step 2, §6.10 step 5), on the
built-in EVM node charging gas (a real node process, the PocoLedger contract, real transactions): a
wallet emptied by a real transfer fails the stage with OUT_OF_GAS, saying what it holds and needs, and
sends nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account

from pocopool.chain import DealRequest
from pocopool.chain.evm import EvmChain
from pocopool.chain.evm.ether import balance, send_ether
from pocopool.devnet.evm_nodes import NodeProcess, start_builtin_node
from pocopool.protocol.crypto import ZERO_ADDRESS, sha256_hex, sign_authorization
from pocopool.protocol.models import Signature, TaskNotification, TaskNotificationExtra, WorkerpoolAuthorization
from pocopool.protocol.statuses import ChainContributionStatus, ChainTaskStatus
from pocopool.protocol.statuses import ReplicateStatus as RS
from pocopool.protocol.statuses import ReplicateStatusCause as Cause
from pocopool.protocol.statuses import TaskNotificationType as Next
from pocopool.protocol.time import SystemClock
from pocopool.worker.bundle import BundleCache
from pocopool.worker.config import WorkerConfig
from pocopool.worker.context import ReplicateContext, WorkerServices
from pocopool.worker.downloads import Downloader
from pocopool.worker.gas import CONTRIBUTE_GAS, ONE_TRANSACTION_GAS, REVEAL_GAS
from pocopool.worker.logs import get_logger
from pocopool.worker.runtimes import ProcessRuntime
from pocopool.worker.stages import contribute, reveal
from pocopool.worker.state import ReplicateState
from pocopool.worker.workspace import Workspace
from proving import assert_reported

pytestmark = pytest.mark.evm

PRICE = 10**9
KEYS = {name: "0x" + byte * 32 for name, byte in (("owner", "01"), ("scheduler", "a1"), ("requester", "c3"))}
WORKER_KEY = "0x" + "b2" * 32
ETHER = 10**18
POOL_PRICE = 10**9


@dataclass
class World:
    node: NodeProcess
    chain: EvmChain
    ctx: ReplicateContext
    task_id: str

    @property
    def worker(self) -> str:
        return self.ctx.wallet

    def empty_the_workers_wallet(self) -> None:
        send_ether(self.node.url, WORKER_KEY, Account.from_key(KEYS["owner"]).address)
        assert balance(self.node.url, self.worker) == 0


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    accounts = {name: Account.from_key(key) for name, key in KEYS.items()}
    worker = Account.from_key(WORKER_KEY)
    funds = {account.address: ETHER for account in [*accounts.values(), worker]}
    node = start_builtin_node(gas_price=PRICE, funds=funds, log=tmp_path / "node.log")
    chain = EvmChain.deploy(node.url, KEYS["owner"])
    for who in ("scheduler", "requester"):
        chain.mint(accounts["owner"], accounts[who].address, 100 * POOL_PRICE)
    chain.mint(accounts["owner"], worker.address, 100 * POOL_PRICE)
    workerpool = chain.create_workerpool(accounts["scheduler"], "pool", price=POOL_PRICE).return_value
    app = chain.create_app(accounts["owner"], "app", "http://127.0.0.1:1/app.tar.gz", sha256_hex(b"app")).return_value
    request = DealRequest(app=app, workerpool=workerpool, category=0, params=json.dumps({}), trust=1)
    deal_id = chain.create_deal(accounts["requester"], request).return_value
    task_id = chain.initialize(accounts["scheduler"], deal_id, 0).return_value
    workspace = Workspace(tmp_path / "workdir")
    workspace.open()
    downloads = Downloader(timeout=10)
    config = WorkerConfig(scheduler_url="http://unused", workdir=workspace.root, private_key=WORKER_KEY)
    services = WorkerServices(
        config=config,
        account=worker,
        chain=chain,
        clock=SystemClock(),
        workspace=workspace,
        bundles=BundleCache(workspace.bundles, downloads, 2**20, 2**24),
        downloads=downloads,
        runtime=ProcessRuntime(),
    )
    authorization = WorkerpoolAuthorization(
        chainTaskId=task_id,
        dealId=deal_id,
        taskIndex=0,
        workerWallet=worker.address,
        enclaveChallenge=ZERO_ADDRESS,
        signature=Signature(value=sign_authorization(KEYS["scheduler"], worker.address, task_id)),
    )
    paths = workspace.task(task_id)
    paths.root.mkdir(parents=True, exist_ok=True)
    state = ReplicateState(task_id, authorization.wire())
    state.result_digest = sha256_hex(b"the result")
    ctx = ReplicateContext(services, task_id, paths, state, get_logger("test", task=task_id))
    yield World(node, chain, ctx, task_id)
    await downloads.close()
    workspace.close()
    chain.close()
    node.stop()


def push(task_id: str, action: Next, **extra: object) -> TaskNotification:
    return TaskNotification(
        chainTaskId=task_id,
        taskNotificationType=action,
        taskNotificationExtra=TaskNotificationExtra(**extra) if extra else None,
    )


async def test_a_worker_whose_wallet_was_emptied_does_not_contribute_and_says_what_it_needs(world: World) -> None:
    world.empty_the_workers_wallet()
    outcome = await contribute.run(world.ctx, push(world.task_id, Next.PLEASE_CONTRIBUTE))
    assert (outcome.status, outcome.cause) == (RS.CONTRIBUTE_FAILED, Cause.OUT_OF_GAS)
    need = CONTRIBUTE_GAS * PRICE
    assert outcome.details.errorMessage == (
        f"the worker's wallet {world.worker} holds 0 wei, and the contribute transaction may cost {need} wei "
        f"({CONTRIBUTE_GAS} gas at {PRICE} wei): refill it with at least {need} wei"
    )
    assert world.chain.view_contribution(world.task_id, world.worker).status is ChainContributionStatus.UNSET
    report = (outcome.status.value, outcome.cause.value, outcome.details.errorMessage)
    assert_reported(
        [report],
        status="CONTRIBUTE_FAILED",
        cause="OUT_OF_GAS",
        error="holds 0 wei",
        component="worker",
        fix="Refill the worker's wallet",
    )


async def test_a_worker_whose_wallet_was_emptied_after_it_contributed_does_not_reveal(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reveal, "PAUSE", 0.01)
    contributed = await contribute.run(world.ctx, push(world.task_id, Next.PLEASE_CONTRIBUTE))
    assert contributed.status is RS.CONTRIBUTED, contributed
    assert world.chain.view_task(world.task_id).status is ChainTaskStatus.REVEALING  # trust 1
    world.empty_the_workers_wallet()
    block = contributed.details.chainReceipt.blockNumber
    outcome = await reveal.run(world.ctx, push(world.task_id, Next.PLEASE_REVEAL, blockNumber=block))
    assert (outcome.status, outcome.cause) == (RS.REVEAL_FAILED, Cause.OUT_OF_GAS)
    assert f"the reveal transaction may cost {REVEAL_GAS * PRICE} wei" in outcome.details.errorMessage
    assert world.chain.view_contribution(world.task_id, world.worker).status is ChainContributionStatus.CONTRIBUTED


async def test_a_funded_worker_passes_the_check_and_pays_for_its_contribution(world: World) -> None:
    before = balance(world.node.url, world.worker)
    outcome = await contribute.run(world.ctx, push(world.task_id, Next.PLEASE_CONTRIBUTE))
    assert outcome.status is RS.CONTRIBUTED, outcome
    assert 0 < before - balance(world.node.url, world.worker) < CONTRIBUTE_GAS * PRICE


def test_a_worker_whose_wallet_cannot_pay_one_transaction_does_not_start(world: World, tmp_path: Path) -> None:
    """§2.1 step 5, before the login (no scheduler needed to refuse): one line, exit 2."""
    world.empty_the_workers_wallet()
    key_file = tmp_path / "worker.key"
    key_file.write_text(WORKER_KEY + "\n")
    argv = [
        sys.executable,
        "-m",
        "pocopool.worker",
        "--scheduler",
        "http://127.0.0.1:1",
        "--chain",
        world.chain.url,
        "--key-file",
        str(key_file),
        "--workdir",
        str(tmp_path / "work"),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    need = ONE_TRANSACTION_GAS * PRICE
    assert done.returncode == 2, done
    assert done.stderr.strip() == (
        f"pocopool worker: cannot pass the ETH check: the worker's wallet {world.worker} holds 0 wei, and one "
        f"transaction may cost {need} wei ({ONE_TRANSACTION_GAS} gas at {PRICE} wei): refill it with at least {need} wei"
    )
