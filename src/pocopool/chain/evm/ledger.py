"""EvmChain: the Chain interface over an EVM node and the PocoLedger contract (DESIGN §1, docs/contracts.md).

Same dataclasses, same rules, same `ChainRevert(rule, message)` as LocalChain: the contract reverts
with the rule name as its reason string (optionally "rule: detail"), and this module turns it back
into the typed error with the shared sentence of chain/reverts.py (evm/reasons.py). Arguments are checked here first, with LocalChain's
own checks (chain/arguments.py), since the ABI cannot carry a negative amount or a malformed address.

Blocks: the ledger's block 0 is the block that deployed the contract; every block number this class
returns or accepts is relative to it (`genesisBlock()` on chain), so a ledger reads the same on a
fresh node and on one with a history.

Transactions go through connection.py (estimated first, so a revert costs no gas; signed locally;
nonces per sender); processes must use distinct senders. The view tuples are read in records.py.

Events: `events(a, b)` reads logs of blocks a..b by eth_getLogs; a reader keeps the last block it
processed as its cursor (the scheduler's deal watcher does), so a dropped connection or a restarted
reader neither misses nor repeats an event. Every RPC call is retried on connection errors.
"""

from __future__ import annotations

import time
from typing import Any

from eth_utils import to_checksum_address

from ...protocol.crypto import ZERO_ADDRESS, InvalidHex, normalize_address, normalize_bytes32
from ...protocol.time import Category, Clock
from .. import arguments as arg
from .. import errors as rule
from ..arguments import UINT256_MAX
from ..base import (
    AccountBalance,
    AppInfo,
    Block,
    Chain,
    ChainRevert,
    ChainTask,
    Contribution,
    DatasetInfo,
    Deal,
    DealRequest,
    Event,
    GasBudget,
    Receipt,
    Signer,
    WorkerpoolInfo,
)
from ..reverts import revert
from .abi import Abi, signature_bytes
from .connection import LedgerConnection
from .contract import compiled
from .deploy import deploy
from .records import contribution_of, deal_of, task_of
from .rpc import Rpc

EVM_SCHEME = "evm:"
# String and bytes bounds of the contract's ABI (PocoLedger.vy MAX_*): longer values are refused here.
MAX_NAME, MAX_TYPE, MAX_TEXT, MAX_PARAMS, MAX_RESULTS = 256, 64, 2048, 4096, 4096


def _text(value: Any, what: str, limit: int) -> str:
    value = arg.text(value, what)
    if len(value.encode()) > limit:
        raise revert(rule.INVALID_ARGUMENT, f"{what} must be at most {limit} bytes on the EVM ledger")
    return value


def _data(value: Any, what: str, limit: int) -> bytes:
    value = arg.data(value, what)
    if len(value) > limit:
        raise revert(rule.INVALID_ARGUMENT, f"{what} must be at most {limit} bytes on the EVM ledger")
    return value


def parse_url(url: str) -> tuple[str, str]:
    """`evm:<rpc url>#<ledger address>` → (rpc url, ledger address)."""
    if not url.startswith(EVM_SCHEME) or "#" not in url:
        raise ValueError(
            f"unsupported chain URL {url!r}: expected evm:http://HOST:PORT#0xLEDGER_ADDRESS "
            "or local:/absolute/path/to/chain.db"
        )
    rpc, _, address = url[len(EVM_SCHEME) :].rpartition("#")
    try:
        return rpc, normalize_address(address)
    except InvalidHex:
        raise ValueError(f"chain URL {url!r} must end with #0x and the 20-byte ledger address") from None


def chain_url(rpc_url: str, ledger: str) -> str:
    return f"{EVM_SCHEME}{rpc_url}#{ledger}"


class EvmChain(Chain):
    """The ledger contract at `ledger` on the node at `rpc_url`.

    `clock`: the time `now()` reports. With `control_time=True` (tests and the built-in node only),
    every transaction's block is stamped with max(clock, latest block time) through
    `evm_setNextBlockTimestamp`, as LocalChain stamps its blocks with its clock.
    """

    def __init__(
        self,
        rpc_url: str,
        ledger: str,
        clock: Clock | None = None,
        *,
        control_time: bool = False,
        test_build: bool = False,
    ) -> None:
        self._ledger = normalize_address(ledger)
        self._clock = clock
        self._connection = LedgerConnection(
            Rpc(rpc_url), self._ledger, Abi(compiled(test_build).abi), clock, control_time=control_time
        )
        self._rpc = self._connection.rpc
        self._view = self._connection.view
        self._transact = self._connection.transact
        self._chain_id = self._connection.chain_id
        self._genesis = self._connection.genesis
        self._owner = to_checksum_address(self._view("owner")[0])

    @classmethod
    def deploy(
        cls,
        rpc_url: str,
        owner_key: str,
        clock: Clock | None = None,
        *,
        control_time: bool = False,
        test_build: bool = False,
    ) -> EvmChain:
        timestamp = int(clock.now()) if (clock is not None and control_time) else None
        ledger = deploy(rpc_url, owner_key, test_build=test_build, timestamp=timestamp)
        return cls(rpc_url, ledger, clock, control_time=control_time, test_build=test_build)

    @property
    def url(self) -> str:
        return chain_url(self._rpc.url, self._ledger)

    @property
    def ledger_address(self) -> str:
        return self._ledger

    def close(self) -> None:
        self._connection.close()

    # ----- reads ----------------------------------------------------------------------------------
    def chain_id(self) -> int:
        return self._chain_id

    def owner(self) -> str:
        return self._owner

    def escrow_address(self) -> str:
        return self._ledger

    def latest_block(self) -> Block:
        block = self._connection.block("latest")
        return Block(int(block["number"], 16) - self._genesis, int(block["timestamp"], 16))

    def now(self) -> int:
        wall = self._clock.now() if self._clock is not None else time.time()
        return max(int(wall), self.latest_block().timestamp)

    def total_supply(self) -> int:
        return self._view("totalSupply")[0]

    def view_account(self, address: str) -> AccountBalance:
        balance, frozen = self._view("viewAccount", normalize_address(address))
        return AccountBalance(balance, frozen)

    def gas_budget(self, address: str) -> GasBudget:
        return self._connection.gas_budget(normalize_address(address))

    def view_score(self, worker: str) -> int:
        return self._view("viewScore", normalize_address(worker))[0]

    def category_count(self) -> int:
        return self._view("categoryCount")[0]

    def view_category(self, category_id: int) -> Category:
        if isinstance(category_id, bool) or not isinstance(category_id, int) or not 0 <= category_id <= UINT256_MAX:
            raise revert(rule.UNKNOWN_CATEGORY, f"category {category_id}")
        try:
            name, description, time_ref = self._view("viewCategory", category_id)[0]
        except ChainRevert as refused:
            raise revert(refused.rule, f"category {category_id}") from None
        return Category(category_id, name, description, time_ref)

    def view_app(self, address: str) -> AppInfo | None:
        address = normalize_address(address)
        (owner, price, checksum, _tee), (name, app_type, multiaddr, mrenclave) = self._view("viewApp", address)
        if owner == ZERO_ADDRESS or int(owner, 16) == 0:
            return None
        return AppInfo(
            address, to_checksum_address(owner), name, app_type, multiaddr, "0x" + checksum.hex(), mrenclave, price
        )

    def view_dataset(self, address: str) -> DatasetInfo | None:
        address = normalize_address(address)
        owner, price, checksum, name, multiaddr = self._view("viewDataset", address)[0]
        if int(owner, 16) == 0:
            return None
        return DatasetInfo(address, to_checksum_address(owner), name, multiaddr, "0x" + checksum.hex(), price)

    def view_workerpool(self, address: str) -> WorkerpoolInfo | None:
        address = normalize_address(address)
        owner, price, stake_ratio, reward_ratio, description = self._view("viewWorkerpool", address)[0]
        if int(owner, 16) == 0:
            return None
        return WorkerpoolInfo(address, to_checksum_address(owner), description, stake_ratio, reward_ratio, price)

    def view_deal(self, deal_id: str) -> Deal | None:
        deal_id = normalize_bytes32(deal_id, "deal id")
        fields, params = self._view("viewDeal", _b32(deal_id, "deal id"))
        return deal_of(deal_id, fields, params)

    def view_task(self, task_id: str) -> ChainTask:
        task_id = normalize_bytes32(task_id, "task id")
        return task_of(task_id, self._view("viewTask", _b32(task_id, "task id"))[0])

    def view_contribution(self, task_id: str, worker: str) -> Contribution:
        return contribution_of(self._view("viewContribution", _b32(task_id, "task id"), normalize_address(worker))[0])

    def events(
        self, from_block: int, to_block: int | None = None, names: tuple[str, ...] = (), *, task_id: str | None = None
    ) -> list[Event]:
        self._connection.check_open()
        first = self._genesis + max(from_block, 0)
        last = "latest" if to_block is None else hex(self._genesis + to_block)
        if to_block is not None and to_block < max(from_block, 0):
            return []
        query: dict[str, Any] = {"fromBlock": hex(first), "toBlock": last, "address": self._ledger}
        if task_id is not None:  # the node filters on the first indexed argument, the task's id
            query["topics"] = [None, normalize_bytes32(task_id, "task id")]
        logs = self._rpc.call("eth_getLogs", query)
        found = self._connection.events_of(logs or [])
        found.sort(key=lambda e: (e.block_number, e.log_index))
        return [e for e in found if e.name in names] if names else found

    # ----- transactions ---------------------------------------------------------------------------
    def mint(self, sender: Signer, account: str, amount: int) -> Receipt:
        return self._transact(sender, "mint", [arg.address(account, "account"), arg.uint(amount, "amount")])

    def transfer(self, sender: Signer, to: str, amount: int) -> Receipt:
        return self._transact(sender, "transfer", [arg.address(to, "recipient"), arg.uint(amount, "amount")])

    def create_category(self, sender: Signer, name: str, description: str, work_clock_time_ref: int) -> Receipt:
        return self._transact(
            sender,
            "createCategory",
            [
                _text(name, "name", MAX_NAME),
                _text(description, "description", MAX_TEXT),
                arg.uint(work_clock_time_ref, "work clock time ref"),
            ],
        )

    def create_app(
        self,
        sender: Signer,
        name: str,
        multiaddr: str,
        checksum: str,
        *,
        app_type: str = "BUNDLE",
        mrenclave: str = "",
        price: int = 0,
    ) -> Receipt:
        return self._transact(
            sender,
            "createApp",
            [
                _text(name, "name", MAX_NAME),
                _text(multiaddr, "multiaddr", MAX_TEXT),
                bytes.fromhex(arg.bytes32(checksum, "checksum")[2:]),
                _text(app_type, "app type", MAX_TYPE),
                _text(mrenclave, "mrenclave", MAX_TEXT),
                arg.uint(price, "price"),
            ],
        )

    def create_dataset(self, sender: Signer, name: str, multiaddr: str, checksum: str, *, price: int = 0) -> Receipt:
        return self._transact(
            sender,
            "createDataset",
            [
                _text(name, "name", MAX_NAME),
                _text(multiaddr, "multiaddr", MAX_TEXT),
                bytes.fromhex(arg.bytes32(checksum, "checksum")[2:]),
                arg.uint(price, "price"),
            ],
        )

    def create_workerpool(self, sender: Signer, description: str, *, price: int = 0) -> Receipt:
        return self._transact(
            sender, "createWorkerpool", [_text(description, "description", MAX_TEXT), arg.uint(price, "price")]
        )

    def change_workerpool_policy(
        self, sender: Signer, workerpool: str, worker_stake_ratio: int, scheduler_reward_ratio: int
    ) -> Receipt:
        return self._transact(
            sender,
            "changePolicy",
            [
                arg.address(workerpool, "workerpool"),
                arg.uint(worker_stake_ratio, "worker stake ratio"),
                arg.uint(scheduler_reward_ratio, "scheduler reward ratio"),
            ],
        )

    def create_deal(self, sender: Signer, request: DealRequest) -> Receipt:
        def max_price(value: int | None, what: str) -> int:
            return UINT256_MAX if value is None else arg.uint(value, f"{what} max price")

        return self._transact(
            sender,
            "createDeal",
            [
                arg.address(request.app, "app"),
                arg.address(request.dataset, "dataset"),
                arg.address(request.workerpool, "workerpool"),
                arg.uint(request.category, "category"),
                arg.uint(request.trust, "trust"),
                bytes.fromhex(arg.bytes32(request.tag, "tag")[2:]),
                _text(request.params, "params", MAX_PARAMS),
                arg.uint(request.volume, "volume"),
                arg.address(request.beneficiary or sender.address, "beneficiary"),
                arg.address(request.callback, "callback"),
                max_price(request.app_max_price, "app"),
                max_price(request.dataset_max_price, "dataset"),
                max_price(request.workerpool_max_price, "workerpool"),
            ],
        )

    def initialize(self, sender: Signer, deal_id: str, idx: int) -> Receipt:
        return self._transact(sender, "initialize", [_b32(deal_id, "deal id"), arg.uint(idx, "task index")])

    def contribute(
        self,
        sender: Signer,
        task_id: str,
        result_hash: str,
        result_seal: str,
        enclave_challenge: str,
        enclave_sign: str,
        authorization_sign: str,
    ) -> Receipt:
        return self._transact(
            sender,
            "contribute",
            [
                _b32(task_id, "task id"),
                _b32(result_hash, "result hash"),
                _b32(result_seal, "result seal"),
                arg.address(enclave_challenge, "enclave challenge"),
                signature_bytes(enclave_sign),
                signature_bytes(authorization_sign),
            ],
        )

    def reveal(self, sender: Signer, task_id: str, result_digest: str) -> Receipt:
        return self._transact(sender, "reveal", [_b32(task_id, "task id"), _b32(result_digest, "result digest")])

    def reopen(self, sender: Signer, task_id: str) -> Receipt:
        return self._transact(sender, "reopen", [_b32(task_id, "task id")])

    def finalize(self, sender: Signer, task_id: str, results: bytes, results_callback: bytes = b"") -> Receipt:
        return self._transact(
            sender,
            "finalize",
            [
                _b32(task_id, "task id"),
                _data(results, "results", MAX_RESULTS),
                _data(results_callback, "results callback", MAX_RESULTS),
            ],
        )

    def contribute_and_finalize(
        self,
        sender: Signer,
        task_id: str,
        result_digest: str,
        results: bytes,
        results_callback: bytes,
        enclave_challenge: str,
        enclave_sign: str,
        authorization_sign: str,
    ) -> Receipt:
        return self._transact(
            sender,
            "contributeAndFinalize",
            [
                _b32(task_id, "task id"),
                _b32(result_digest, "result digest"),
                _data(results, "results", MAX_RESULTS),
                _data(results_callback, "results callback", MAX_RESULTS),
                arg.address(enclave_challenge, "enclave challenge"),
                signature_bytes(enclave_sign),
                signature_bytes(authorization_sign),
            ],
        )

    def claim(self, sender: Signer, task_id: str) -> Receipt:
        return self._transact(sender, "claim", [_b32(task_id, "task id")])

    def initialize_and_claim(self, sender: Signer, deal_id: str, idx: int) -> Receipt:
        return self._transact(sender, "initializeAndClaim", [_b32(deal_id, "deal id"), arg.uint(idx, "task index")])

    # ----- test hook (test build only) ------------------------------------------------------------------
    def _set_score_for_tests(self, owner: Signer, worker: str, score: int) -> Receipt:
        """Sets a worker score through the owner-only hook of the test build (a transaction: one block)."""
        return self._transact(owner, "setScoreForTests", [normalize_address(worker), arg.uint(score, "score")])

    def _consensus_for_tests(self, task_id: str, result_hash: str) -> tuple[int, int]:
        return self._view("viewConsensus", _b32(task_id, "task id"), _b32(result_hash, "result hash"))


def _b32(value: Any, what: str) -> bytes:
    return bytes.fromhex(arg.bytes32(value, what)[2:])
