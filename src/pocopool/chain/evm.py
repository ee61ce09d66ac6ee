"""EvmChain: the Chain interface over an EVM node and the PocoLedger contract (DESIGN §1, docs/contracts.md).

Same dataclasses, same rules, same `ChainRevert(rule, message)` as LocalChain: the contract reverts
with the rule name as its reason string (optionally "rule: detail"), and this module turns it back
into the typed error with a sentence for people. Arguments are checked here first, with LocalChain's
own checks (local_args), since the ABI cannot carry a negative amount or a malformed address.

Blocks: the ledger's block 0 is the block that deployed the contract; every block number this class
returns or accepts is relative to it (`genesisBlock()` on chain), so a ledger reads the same on a
fresh node and on one with a history.

Transactions: one at a time per EvmChain object (a lock), each one first run with eth_estimateGas in
the block it will go into, so a revert costs no gas and leaves no block; then signed locally (legacy
transaction, node's gas price, estimate + 25 %), sent, and its receipt awaited. Nonces are kept per
sender and re-read from the node after any send error. Processes must use distinct senders.

Events: `events(a, b)` reads logs of blocks a..b by eth_getLogs; a reader keeps the last block it
processed as its cursor (the scheduler's deal watcher does), so a dropped connection or a restarted
reader neither misses nor repeats an event. Every RPC call is retried on connection errors.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from ..protocol.crypto import ZERO_ADDRESS, InvalidHex, hex_to_bytes, normalize_address, normalize_bytes32
from ..protocol.statuses import ChainContributionStatus, ChainTaskStatus
from ..protocol.time import Category, Clock
from . import errors as rule
from . import local_args as arg
from .base import (
    AccountBalance,
    AppInfo,
    Block,
    Chain,
    ChainError,
    ChainRevert,
    ChainTask,
    Contribution,
    DatasetInfo,
    Deal,
    DealRequest,
    Event,
    Receipt,
    Resource,
    Signer,
    WorkerpoolInfo,
)
from .evm_contract import compiled

EVM_SCHEME = "evm:"
UINT256_MAX = 2**256 - 1
# String and bytes bounds of the contract's ABI (PocoLedger.vy MAX_*): longer values are refused here.
MAX_NAME, MAX_TYPE, MAX_TEXT, MAX_PARAMS, MAX_RESULTS = 256, 64, 2048, 4096, 4096
TASK_STATUSES = list(ChainTaskStatus)
CONTRIBUTION_STATUSES = list(ChainContributionStatus)
RPC_ATTEMPTS = 5

# A sentence per rule, for reverts whose reason carries no detail (the contract keeps its code small).
MESSAGES = {
    rule.ARITHMETIC_OVERFLOW: "the amounts overflow the contract's uint256 arithmetic",
    rule.ZERO_ADDRESS_NOT_ALLOWED: "tokens cannot move to or from the zero address",
    rule.ONLY_OWNER: "only the ledger owner may do this",
    rule.ONLY_WORKERPOOL_OWNER: "only the workerpool owner may change its policy",
    rule.ONLY_SCHEDULER: "only the deal's scheduler (its workerpool owner) may do this",
    rule.UNKNOWN_CATEGORY: "this category does not exist",
    rule.UNKNOWN_APP: "no app is registered at this address",
    rule.UNKNOWN_DATASET: "no dataset is registered at this address",
    rule.UNKNOWN_WORKERPOOL: "no workerpool is registered at this address",
    rule.INVALID_REWARD_RATIO: "the scheduler reward ratio must be at most 100 %",
    rule.INVALID_VOLUME: "volume must be from 1 to 2^63 - 1 tasks",
    rule.TEE_APP_REQUIRED: "the tag asks for TEE but the app has no mrenclave",
    rule.UNKNOWN_DEAL: "this deal does not exist",
    rule.TASK_INDEX_OUT_OF_RANGE: "the task index is outside the deal's bag of tasks",
    rule.TASK_ALREADY_INITIALIZED: "this task is already initialized",
    rule.TASK_NOT_ACTIVE: "the task must be ACTIVE",
    rule.TASK_NOT_REVEALING: "the task must be REVEALING",
    rule.TASK_NOT_CLAIMABLE: "the task must be ACTIVE or REVEALING",
    rule.CONTRIBUTION_DEADLINE_PASSED: "the contribution deadline must be after the block time",
    rule.REVEAL_DEADLINE_PASSED: "the reveal deadline must be after the block time",
    rule.REVEAL_DEADLINE_NOT_REACHED: "the reveal deadline must be reached",
    rule.FINAL_DEADLINE_PASSED: "the final deadline must be after the block time",
    rule.FINAL_DEADLINE_NOT_REACHED: "the final deadline must be reached",
    rule.ALREADY_CONTRIBUTED: "this worker already contributed to the task",
    rule.ENCLAVE_CHALLENGE_REQUIRED: "this TEE deal needs an enclave challenge",
    rule.INVALID_AUTHORIZATION: "the authorization is not signed by the deal's scheduler for this worker and task",
    rule.INVALID_ENCLAVE_SIGNATURE: "the result is not signed by the enclave challenge",
    rule.NOT_IN_CONSENSUS: "this worker did not vote for the consensus",
    rule.WRONG_RESULT_HASH: "the digest does not give the contributed result hash",
    rule.WRONG_RESULT_SEAL: "the digest does not give the contributed result seal",
    rule.TASK_HAS_REVEALS: "a winner revealed: finalize instead",
    rule.REVEALS_PENDING: "finalize needs every winner revealed, or at least one and the reveal deadline reached",
    rule.WRONG_RESULTS_CALLBACK: "keccak of the results callback must be the result digest",
    rule.TASK_ALREADY_CONTRIBUTED: "the task already has contributors",
    rule.TRUST_NOT_1: "contributeAndFinalize needs a deal of trust 1",
    rule.INVALID_ARGUMENT: "an argument is out of the contract's bounds",
}


def _message(rule_name: str, detail: str) -> str:
    """The sentence for a revert reason "rule[: detail]"."""
    if rule_name == rule.INSUFFICIENT_BALANCE and detail:
        needed, _, has = detail.partition(" ")
        return f"the account needs {needed} nRLC of free balance, it has {has}"
    if rule_name == rule.MAX_PRICE_EXCEEDED and detail:
        return f"the {detail} costs more than the requester accepts"
    if rule_name == rule.ALREADY_CONTRIBUTED and detail:
        return f"this worker already contributed to the task ({detail})"
    if rule_name == rule.REVEALS_PENDING and detail:
        winners, _, revealed = detail.partition(" ")
        return (f"finalize needs all {winners} winners revealed, or at least one and the reveal deadline "
                f"reached; {revealed} revealed")
    if rule_name == rule.NOT_CONTRIBUTED and detail:
        return f"only a CONTRIBUTED contribution can be revealed, this one is {detail}"
    return MESSAGES.get(rule_name, f"the ledger contract refused the transaction ({rule_name})")


def _revert_from_reason(reason: str | None) -> ChainRevert:
    if not reason:  # Vyper's checked arithmetic reverts without a reason
        return ChainRevert(rule.ARITHMETIC_OVERFLOW, MESSAGES[rule.ARITHMETIC_OVERFLOW])
    name, _, detail = reason.partition(": ")
    if name not in rule.ALL_RULES:
        return ChainRevert(rule.INVALID_ARGUMENT, f"the contract reverted: {reason}")
    return ChainRevert(name, _message(name, detail.strip()))


def _find_revert_data(value: Any) -> str | None:
    """The Error(string) payload somewhere in a node's error object (geth, hardhat and ours differ)."""
    if isinstance(value, str) and value.startswith("0x08c379a0"):
        return value
    if isinstance(value, dict):
        for item in value.values():
            found = _find_revert_data(item)
            if found:
                return found
    return None


def _revert_reason(error: dict[str, Any]) -> str | None:
    data = _find_revert_data(error)
    if data:
        try:
            return abi_decode(["string"], bytes.fromhex(data[10:]))[0]
        except Exception:  # noqa: BLE001 - undecodable: fall back to the message text
            pass
    message = str(error.get("message", ""))
    for marker in ("reverted with reason string '", "execution reverted: "):
        if marker in message:
            return message.split(marker, 1)[1].rstrip("'")
    return None


def _is_revert(error: dict[str, Any]) -> bool:
    text = str(error).lower()
    return "revert" in text or error.get("code") == 3


def _abi_type(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + kind[len("tuple"):]
    return kind


def _python_value(kind: str, value: Any) -> Any:
    """ABI values as LocalChain writes them: checksummed addresses, 0x-hex bytes32, raw bytes, ints."""
    if kind == "address":
        return to_checksum_address(value)
    if kind == "bytes32":
        return "0x" + bytes(value).hex()
    if kind == "bytes":
        return bytes(value)
    return value


class _Abi:
    """Function selectors and types, event topics, from the compiled ABI."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.functions: dict[str, tuple[bytes, list[str], list[str]]] = {}
        self.events: dict[bytes, tuple[str, list[dict[str, Any]]]] = {}
        for entry in abi:
            if entry["type"] == "function":
                inputs = [_abi_type(p) for p in entry["inputs"]]
                outputs = [_abi_type(p) for p in entry["outputs"]]
                selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(inputs)})")
                self.functions[entry["name"]] = (selector, inputs, outputs)
            elif entry["type"] == "event":
                signature = f"{entry['name']}({','.join(_abi_type(p) for p in entry['inputs'])})"
                self.events[keccak(text=signature)] = (entry["name"], entry["inputs"])

    def encode(self, name: str, args: list[Any]) -> bytes:
        selector, inputs, _ = self.functions[name]
        return selector + abi_encode(inputs, args)

    def decode_output(self, name: str, data: bytes) -> tuple[Any, ...]:
        return tuple(abi_decode(self.functions[name][2], data))

    def decode_log(self, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
        if not topics or topics[0] not in self.events:
            return None
        name, inputs = self.events[topics[0]]
        plain = [p for p in inputs if not p["indexed"]]
        values = list(abi_decode([_abi_type(p) for p in plain], bytes.fromhex(log["data"][2:])))
        args: dict[str, Any] = {}
        indexed = iter(topics[1:])
        for param in inputs:
            if param["indexed"]:
                raw = next(indexed)
                value = abi_decode([param["type"]], raw)[0] if param["type"] != "bytes32" else raw
            else:
                value = values.pop(0)
            args[param["name"]] = _python_value(param["type"], value)
        return name, args


def _signature_bytes(signature: Any) -> bytes:
    """A 65-byte signature, or b"" for anything else (which the contract treats as recovering nobody)."""
    if not isinstance(signature, str) or not signature:
        return b""
    try:
        return hex_to_bytes(signature, 65, "signature")
    except InvalidHex:
        return b""


def _text(value: Any, what: str, limit: int) -> str:
    value = arg.text(value, what)
    if len(value.encode()) > limit:
        raise ChainRevert(rule.INVALID_ARGUMENT, f"{what} must be at most {limit} bytes on the EVM ledger")
    return value


def _data(value: Any, what: str, limit: int) -> bytes:
    value = arg.data(value, what)
    if len(value) > limit:
        raise ChainRevert(rule.INVALID_ARGUMENT, f"{what} must be at most {limit} bytes on the EVM ledger")
    return value


def parse_url(url: str) -> tuple[str, str]:
    """`evm:<rpc url>#<ledger address>` → (rpc url, ledger address)."""
    if not url.startswith(EVM_SCHEME) or "#" not in url:
        raise ValueError(
            f"unsupported chain URL {url!r}: expected evm:http://HOST:PORT#0xLEDGER_ADDRESS "
            "or local:/absolute/path/to/chain.db"
        )
    rpc, _, address = url[len(EVM_SCHEME):].rpartition("#")
    try:
        return rpc, normalize_address(address)
    except InvalidHex:
        raise ValueError(f"chain URL {url!r} must end with #0x and the 20-byte ledger address") from None


def chain_url(rpc_url: str, ledger: str) -> str:
    return f"{EVM_SCHEME}{rpc_url}#{ledger}"


class Rpc:
    """JSON-RPC over HTTP through web3.py's provider, retried on connection errors."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        from web3 import HTTPProvider

        self.url = url
        self._provider = HTTPProvider(url, request_kwargs={"timeout": timeout})

    def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        """The raw answer ({"result": ...} or {"error": ...}); ChainError if the node cannot be reached."""
        delay = 0.1
        for attempt in range(RPC_ATTEMPTS):
            try:
                return dict(self._provider.make_request(method, params))  # type: ignore[arg-type]
            except Exception as error:
                if attempt == RPC_ATTEMPTS - 1:
                    raise ChainError(f"EVM node {self.url} did not answer {method}: {error}") from error
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def call(self, method: str, *params: Any) -> Any:
        answer = self.request(method, list(params))
        if "error" in answer:
            raise ChainError(f"EVM node {self.url}: {method} failed: {answer['error']}")
        return answer.get("result")


def deploy(rpc_url: str, owner_key: str, *, test_build: bool = False, timestamp: int | None = None) -> str:
    """Deploys a new PocoLedger owned by `owner_key`'s address: its address.

    `timestamp` stamps the deployment block (nodes with evm_setNextBlockTimestamp only).
    """
    rpc = Rpc(rpc_url)
    contract = compiled(test_build)
    owner = Account.from_key(owner_key)
    if timestamp is not None:
        rpc.call("evm_setNextBlockTimestamp", timestamp)
    call = {"from": owner.address, "data": "0x" + contract.bytecode.hex()}
    gas = int(rpc.call("eth_estimateGas", call), 16)
    transaction = {
        "nonce": int(rpc.call("eth_getTransactionCount", owner.address, "pending"), 16),
        "gasPrice": _gas_price(rpc, owner.address, gas + gas // 4), "gas": gas + gas // 4, "data": contract.bytecode,
        "value": 0, "chainId": int(rpc.call("eth_chainId"), 16),
    }
    signed = Account.sign_transaction(transaction, owner.key)
    tx_hash = rpc.call("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())
    receipt = _wait_receipt(rpc, tx_hash)
    if int(receipt["status"], 16) != 1 or not receipt.get("contractAddress"):
        raise ChainError(f"the PocoLedger deployment failed: {receipt}")
    return to_checksum_address(receipt["contractAddress"])


def _gas_price(rpc: Rpc, sender: str, gas: int) -> int:
    """The node's suggested price if the sender can pay it, else the latest base fee: 0 on dev nodes
    with free gas (ours, the Hardhat config of tools/hardhat), where test keys hold no ether."""
    price = int(rpc.call("eth_gasPrice"), 16)
    if price and int(rpc.call("eth_getBalance", sender, "latest"), 16) < gas * price:
        return int(rpc.call("eth_getBlockByNumber", "latest", False).get("baseFeePerGas") or "0x0", 16)
    return price


def _wait_receipt(rpc: Rpc, tx_hash: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline, delay = time.monotonic() + timeout, 0.01
    while True:
        receipt = rpc.call("eth_getTransactionReceipt", tx_hash)
        if receipt:
            return receipt
        if time.monotonic() > deadline:
            raise ChainError(f"transaction {tx_hash} was not mined within {timeout} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


class EvmChain(Chain):
    """The ledger contract at `ledger` on the node at `rpc_url`.

    `clock`: the time `now()` reports. With `control_time=True` (tests and the built-in node only),
    every transaction's block is stamped with max(clock, latest block time) through
    `evm_setNextBlockTimestamp`, as LocalChain stamps its blocks with its clock.
    """

    def __init__(self, rpc_url: str, ledger: str, clock: Clock | None = None, *, control_time: bool = False,
                 test_build: bool = False) -> None:
        self._rpc = Rpc(rpc_url)
        self._ledger = normalize_address(ledger)
        self._abi = _Abi(compiled(test_build).abi)
        self._clock = clock
        self._control_time = control_time
        self._lock = threading.RLock()
        self._nonces: dict[str, int] = {}
        self._closed = False
        self._chain_id = int(self._rpc.call("eth_chainId"), 16)
        code = self._rpc.call("eth_getCode", self._ledger, "latest")
        if not code or code == "0x":
            raise ChainError(f"no ledger contract at {self._ledger} on {rpc_url}")
        self._genesis = self._view("genesisBlock")[0]
        self._owner = to_checksum_address(self._view("owner")[0])

    @classmethod
    def deploy(cls, rpc_url: str, owner_key: str, clock: Clock | None = None, *, control_time: bool = False,
               test_build: bool = False) -> EvmChain:
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
        self._closed = True

    # ----- low level ------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise ChainError(f"the ledger {self._ledger} is closed")

    def _view(self, name: str, *args: Any) -> tuple[Any, ...]:
        self._check_open()
        answer = self._rpc.request("eth_call", [
            {"to": self._ledger, "data": "0x" + self._abi.encode(name, list(args)).hex()}, "latest"])
        if "error" in answer:
            if _is_revert(answer["error"]):
                raise _revert_from_reason(_revert_reason(answer["error"]))
            raise ChainError(f"EVM node: {name} failed: {answer['error']}")
        return self._abi.decode_output(name, bytes.fromhex(answer["result"][2:]))

    def _block(self, number: Any) -> dict[str, Any]:
        block = self._rpc.call("eth_getBlockByNumber", number, False)
        if block is None:
            raise ChainError(f"EVM node has no block {number}")
        return block

    def _next_timestamp(self) -> None:
        if self._control_time and self._clock is not None:
            latest = int(self._block("latest")["timestamp"], 16)
            self._rpc.call("evm_setNextBlockTimestamp", max(int(self._clock.now()), latest))

    def _transact(self, sender: Signer, name: str, args: list[Any]) -> Receipt:
        self._check_open()
        data = "0x" + self._abi.encode(name, args).hex()
        address = to_checksum_address(sender.address)
        with self._lock:
            for attempt in range(2):
                self._next_timestamp()
                call = {"from": address, "to": self._ledger, "data": data}
                estimate = self._rpc.request("eth_estimateGas", [call])
                if "error" in estimate:
                    if _is_revert(estimate["error"]):
                        raise _revert_from_reason(_revert_reason(estimate["error"]))
                    raise ChainError(f"EVM node: estimating {name} failed: {estimate['error']}")
                gas = int(estimate["result"], 16)
                nonce = self._nonces.get(address)
                if nonce is None:
                    nonce = int(self._rpc.call("eth_getTransactionCount", address, "pending"), 16)
                gas = gas + gas // 4 + 10_000
                transaction = {
                    "nonce": nonce, "gasPrice": _gas_price(self._rpc, address, gas), "gas": gas, "to": self._ledger, "value": 0, "data": data,
                    "chainId": self._chain_id,
                }
                signed = Account.sign_transaction(transaction, sender.key)
                sent = self._rpc.request("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])
                if "error" in sent:
                    self._nonces.pop(address, None)  # re-read the nonce from the node, then try once more
                    if attempt == 0 and "nonce" in str(sent["error"]).lower():
                        continue
                    raise ChainError(f"EVM node refused the {name} transaction: {sent['error']}")
                self._nonces[address] = nonce + 1
                raw = _wait_receipt(self._rpc, sent["result"])
                if int(raw["status"], 16) != 1:
                    raise self._mined_revert(name, call, raw)
                return self._receipt(name, raw)
        raise AssertionError("unreachable")

    def _mined_revert(self, name: str, call: dict[str, Any], raw: dict[str, Any]) -> ChainError:
        """Another sender's transaction changed the state between our estimate and our block (a race
        LocalChain cannot have): the transaction reverted on chain, in a block. A reverted transaction
        changes nothing but the nonce, so running it again now names the rule it broke."""
        answer = self._rpc.request("eth_call", [call, "latest"])
        if "error" in answer and _is_revert(answer["error"]):
            return _revert_from_reason(_revert_reason(answer["error"]))
        return ChainError(f"the {name} transaction {raw['transactionHash']} reverted in block "
                          f"{int(raw['blockNumber'], 16) - self._genesis}")

    def _receipt(self, name: str, raw: dict[str, Any]) -> Receipt:
        number = int(raw["blockNumber"], 16)
        timestamp = int(self._block(hex(number))["timestamp"], 16)
        events = tuple(self._events_of(raw["logs"]))
        return Receipt(number - self._genesis, raw["transactionHash"], timestamp, events, _return_value(name, events))

    def _events_of(self, logs: list[dict[str, Any]]) -> list[Event]:
        found = []
        for log in logs:
            if log["address"].lower() != self._ledger.lower():
                continue
            decoded = self._abi.decode_log(log)
            if decoded is None:
                continue
            found.append(Event(int(log["blockNumber"], 16) - self._genesis, int(log["logIndex"], 16),
                               log["transactionHash"], decoded[0], decoded[1]))
        return found

    # ----- reads ----------------------------------------------------------------------------------
    def chain_id(self) -> int:
        return self._chain_id

    def owner(self) -> str:
        return self._owner

    def escrow_address(self) -> str:
        return self._ledger

    def latest_block(self) -> Block:
        block = self._block("latest")
        return Block(int(block["number"], 16) - self._genesis, int(block["timestamp"], 16))

    def now(self) -> int:
        wall = self._clock.now() if self._clock is not None else time.time()
        return max(int(wall), self.latest_block().timestamp)

    def total_supply(self) -> int:
        return self._view("totalSupply")[0]

    def view_account(self, address: str) -> AccountBalance:
        balance, frozen = self._view("viewAccount", normalize_address(address))
        return AccountBalance(balance, frozen)

    def view_score(self, worker: str) -> int:
        return self._view("viewScore", normalize_address(worker))[0]

    def category_count(self) -> int:
        return self._view("categoryCount")[0]

    def view_category(self, category_id: int) -> Category:
        if isinstance(category_id, bool) or not isinstance(category_id, int) or not 0 <= category_id <= UINT256_MAX:
            raise ChainRevert(rule.UNKNOWN_CATEGORY, f"category {category_id} does not exist")
        try:
            name, description, time_ref = self._view("viewCategory", category_id)[0]
        except ChainRevert as revert:
            raise ChainRevert(revert.rule, f"category {category_id} does not exist") from None
        return Category(category_id, name, description, time_ref)

    def view_app(self, address: str) -> AppInfo | None:
        address = normalize_address(address)
        (owner, price, checksum, _tee), (name, app_type, multiaddr, mrenclave) = self._view("viewApp", address)
        if owner == ZERO_ADDRESS or int(owner, 16) == 0:
            return None
        return AppInfo(address, to_checksum_address(owner), name, app_type, multiaddr, "0x" + checksum.hex(),
                       mrenclave, price)

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
        (app, dataset, pool, trust, category, tag, requester, beneficiary, callback, start_time, bot_first,
         bot_size, worker_stake, reward_ratio, sponsor) = fields
        if bot_size == 0:
            return None

        def resource(value: tuple[str, str, int]) -> Resource:
            return Resource(to_checksum_address(value[0]), to_checksum_address(value[1]), value[2])

        return Deal(
            deal_id=deal_id, app=resource(app), dataset=resource(dataset), workerpool=resource(pool),
            trust=trust, category=category, tag="0x" + tag.hex(), requester=to_checksum_address(requester),
            beneficiary=to_checksum_address(beneficiary), callback=to_checksum_address(callback), params=params,
            start_time=start_time, bot_first=bot_first, bot_size=bot_size, worker_stake=worker_stake,
            scheduler_reward_ratio=reward_ratio, sponsor=to_checksum_address(sponsor),
        )

    def view_task(self, task_id: str) -> ChainTask:
        task_id = normalize_bytes32(task_id, "task id")
        (status, deal_id, idx, timeref, contribution_deadline, reveal_deadline, final_deadline, consensus,
         reveal_counter, winner_counter, contributors, digest, results, callback) = self._view("viewTask", _b32(task_id, "task id"))[0]
        return ChainTask(
            task_id=task_id, status=TASK_STATUSES[status], deal_id="0x" + deal_id.hex(), idx=idx, timeref=timeref,
            contribution_deadline=contribution_deadline, reveal_deadline=reveal_deadline,
            final_deadline=final_deadline, consensus_value="0x" + consensus.hex(), reveal_counter=reveal_counter,
            winner_counter=winner_counter, contributors=tuple(to_checksum_address(c) for c in contributors),
            result_digest="0x" + digest.hex(), results=bytes(results), results_callback=bytes(callback),
        )

    def view_contribution(self, task_id: str, worker: str) -> Contribution:
        status, result_hash, result_seal, challenge, weight = self._view(
            "viewContribution", _b32(task_id, "task id"), normalize_address(worker))[0]
        return Contribution(CONTRIBUTION_STATUSES[status], "0x" + result_hash.hex(), "0x" + result_seal.hex(),
                            to_checksum_address(challenge), weight)

    def events(self, from_block: int, to_block: int | None = None, names: tuple[str, ...] = ()) -> list[Event]:
        self._check_open()
        first = self._genesis + max(from_block, 0)
        last = "latest" if to_block is None else hex(self._genesis + to_block)
        if to_block is not None and to_block < max(from_block, 0):
            return []
        logs = self._rpc.call("eth_getLogs", {"fromBlock": hex(first), "toBlock": last, "address": self._ledger})
        found = self._events_of(logs or [])
        found.sort(key=lambda e: (e.block_number, e.log_index))
        return [e for e in found if e.name in names] if names else found

    # ----- transactions ---------------------------------------------------------------------------
    def mint(self, sender: Signer, account: str, amount: int) -> Receipt:
        return self._transact(sender, "mint", [arg.address(account, "account"), arg.uint(amount, "amount")])

    def transfer(self, sender: Signer, to: str, amount: int) -> Receipt:
        return self._transact(sender, "transfer", [arg.address(to, "recipient"), arg.uint(amount, "amount")])

    def create_category(self, sender: Signer, name: str, description: str, work_clock_time_ref: int) -> Receipt:
        return self._transact(sender, "createCategory", [
            _text(name, "name", MAX_NAME), _text(description, "description", MAX_TEXT),
            arg.uint(work_clock_time_ref, "work clock time ref")])

    def create_app(
        self, sender: Signer, name: str, multiaddr: str, checksum: str, *,
        app_type: str = "BUNDLE", mrenclave: str = "", price: int = 0,
    ) -> Receipt:
        return self._transact(sender, "createApp", [
            _text(name, "name", MAX_NAME), _text(multiaddr, "multiaddr", MAX_TEXT),
            bytes.fromhex(arg.bytes32(checksum, "checksum")[2:]), _text(app_type, "app type", MAX_TYPE),
            _text(mrenclave, "mrenclave", MAX_TEXT), arg.uint(price, "price")])

    def create_dataset(self, sender: Signer, name: str, multiaddr: str, checksum: str, *, price: int = 0) -> Receipt:
        return self._transact(sender, "createDataset", [
            _text(name, "name", MAX_NAME), _text(multiaddr, "multiaddr", MAX_TEXT),
            bytes.fromhex(arg.bytes32(checksum, "checksum")[2:]), arg.uint(price, "price")])

    def create_workerpool(self, sender: Signer, description: str, *, price: int = 0) -> Receipt:
        return self._transact(sender, "createWorkerpool", [
            _text(description, "description", MAX_TEXT), arg.uint(price, "price")])

    def change_workerpool_policy(
        self, sender: Signer, workerpool: str, worker_stake_ratio: int, scheduler_reward_ratio: int
    ) -> Receipt:
        return self._transact(sender, "changePolicy", [
            arg.address(workerpool, "workerpool"), arg.uint(worker_stake_ratio, "worker stake ratio"),
            arg.uint(scheduler_reward_ratio, "scheduler reward ratio")])

    def create_deal(self, sender: Signer, request: DealRequest) -> Receipt:
        def max_price(value: int | None, what: str) -> int:
            return UINT256_MAX if value is None else arg.uint(value, f"{what} max price")

        return self._transact(sender, "createDeal", [
            arg.address(request.app, "app"), arg.address(request.dataset, "dataset"),
            arg.address(request.workerpool, "workerpool"), arg.uint(request.category, "category"),
            arg.uint(request.trust, "trust"), bytes.fromhex(arg.bytes32(request.tag, "tag")[2:]),
            _text(request.params, "params", MAX_PARAMS), arg.uint(request.volume, "volume"),
            arg.address(request.beneficiary or sender.address, "beneficiary"),
            arg.address(request.callback, "callback"),
            max_price(request.app_max_price, "app"), max_price(request.dataset_max_price, "dataset"),
            max_price(request.workerpool_max_price, "workerpool")])

    def initialize(self, sender: Signer, deal_id: str, idx: int) -> Receipt:
        return self._transact(sender, "initialize", [_b32(deal_id, "deal id"), arg.uint(idx, "task index")])

    def contribute(
        self, sender: Signer, task_id: str, result_hash: str, result_seal: str,
        enclave_challenge: str, enclave_sign: str, authorization_sign: str,
    ) -> Receipt:
        return self._transact(sender, "contribute", [
            _b32(task_id, "task id"), _b32(result_hash, "result hash"), _b32(result_seal, "result seal"),
            arg.address(enclave_challenge, "enclave challenge"), _signature_bytes(enclave_sign),
            _signature_bytes(authorization_sign)])

    def reveal(self, sender: Signer, task_id: str, result_digest: str) -> Receipt:
        return self._transact(sender, "reveal", [_b32(task_id, "task id"), _b32(result_digest, "result digest")])

    def reopen(self, sender: Signer, task_id: str) -> Receipt:
        return self._transact(sender, "reopen", [_b32(task_id, "task id")])

    def finalize(self, sender: Signer, task_id: str, results: bytes, results_callback: bytes = b"") -> Receipt:
        return self._transact(sender, "finalize", [
            _b32(task_id, "task id"), _data(results, "results", MAX_RESULTS),
            _data(results_callback, "results callback", MAX_RESULTS)])

    def contribute_and_finalize(
        self, sender: Signer, task_id: str, result_digest: str, results: bytes, results_callback: bytes,
        enclave_challenge: str, enclave_sign: str, authorization_sign: str,
    ) -> Receipt:
        return self._transact(sender, "contributeAndFinalize", [
            _b32(task_id, "task id"), _b32(result_digest, "result digest"), _data(results, "results", MAX_RESULTS),
            _data(results_callback, "results callback", MAX_RESULTS),
            arg.address(enclave_challenge, "enclave challenge"), _signature_bytes(enclave_sign),
            _signature_bytes(authorization_sign)])

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


# The value a transaction returns, read from its events (the node may not keep return data).
_RETURNED_BY = {
    "createCategory": ("CreateCategory", "catid"), "createApp": ("CreateApp", "app"),
    "createDataset": ("CreateDataset", "dataset"), "createWorkerpool": ("CreateWorkerpool", "workerpool"),
    "createDeal": ("SchedulerNotice", "dealid"), "initialize": ("TaskInitialize", "taskid"),
    "initializeAndClaim": ("TaskInitialize", "taskid"),
}


def _return_value(name: str, events: tuple[Event, ...]) -> Any:
    if name not in _RETURNED_BY:
        return None
    event_name, field = _RETURNED_BY[name]
    for event in events:
        if event.name == event_name:
            return event.args[field]
    return None
