"""One ledger contract on one EVM node, at the level of its ABI: read a view, send a transaction and
wait for its receipt, decode the ledger's events. EvmChain (ledger.py) builds the Chain interface on it.

Transactions: one at a time per connection (a lock), each one first run with eth_estimateGas in the
block it will go into, so a revert costs no gas and leaves no block; then signed locally (legacy
transaction, node's gas price (rpc.gas_price), estimate + 25 %), sent, and its receipt awaited; a node
that refuses it because the sender cannot pay the gas raises OutOfGas. Nonces are kept per
sender and re-read from the node after any send error. Block numbers are relative to the block that
deployed the contract (`genesis`).
"""

from __future__ import annotations

import threading
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from ...protocol.time import Clock
from ..base import ChainError, Event, GasBudget, OutOfGas, Receipt, Signer
from .abi import Abi
from .reasons import is_revert, revert_of
from .rpc import Rpc, gas_price, lowest_gas_price, wait_receipt

# How nodes say a sender cannot pay: geth and ours ("insufficient funds for gas * price + value"), Hardhat.
_UNPAID = ("insufficient funds", "doesn't have enough funds")


class LedgerConnection:
    def __init__(self, rpc: Rpc, ledger: str, abi: Abi, clock: Clock | None, *, control_time: bool) -> None:
        self.rpc = rpc
        self._ledger = ledger
        self._abi = abi
        self._clock = clock
        self._control_time = control_time
        self._lock = threading.RLock()
        self._nonces: dict[str, int] = {}
        self._closed = False
        self.chain_id = int(self.rpc.call("eth_chainId"), 16)
        code = self.rpc.call("eth_getCode", self._ledger, "latest")
        if not code or code == "0x":
            raise ChainError(f"no ledger contract at {self._ledger} on {rpc.url}")
        self.genesis: int = self.view("genesisBlock")[0]

    def close(self) -> None:
        self._closed = True

    def check_open(self) -> None:
        if self._closed:
            raise ChainError(f"the ledger {self._ledger} is closed")

    def view(self, name: str, *args: Any) -> tuple[Any, ...]:
        self.check_open()
        answer = self.rpc.request(
            "eth_call", [{"to": self._ledger, "data": "0x" + self._abi.encode(name, list(args)).hex()}, "latest"]
        )
        if "error" in answer:
            if is_revert(answer["error"]):
                raise revert_of(answer["error"])
            raise ChainError(f"EVM node: {name} failed: {answer['error']}")
        return self._abi.decode_output(name, bytes.fromhex(answer["result"][2:]))

    def block(self, number: Any) -> dict[str, Any]:
        block = self.rpc.call("eth_getBlockByNumber", number, False)
        if block is None:
            raise ChainError(f"EVM node has no block {number}")
        return block

    def gas_budget(self, address: str) -> GasBudget:
        """The sender's ether and the lowest price per gas the node takes, which is what our
        transactions pay when the sender cannot pay the node's suggestion (rpc.gas_price)."""
        self.check_open()
        balance = int(self.rpc.call("eth_getBalance", to_checksum_address(address), "latest"), 16)
        return GasBudget(balance, lowest_gas_price(self.rpc))

    def _next_timestamp(self) -> None:
        if self._control_time and self._clock is not None:
            latest = int(self.block("latest")["timestamp"], 16)
            self.rpc.call("evm_setNextBlockTimestamp", max(int(self._clock.now()), latest))

    def transact(self, sender: Signer, name: str, args: list[Any]) -> Receipt:
        self.check_open()
        data = "0x" + self._abi.encode(name, args).hex()
        address = to_checksum_address(sender.address)
        with self._lock:
            for attempt in range(2):
                self._next_timestamp()
                call = {"from": address, "to": self._ledger, "data": data}
                estimate = self.rpc.request("eth_estimateGas", [call])
                if "error" in estimate:
                    if is_revert(estimate["error"]):
                        raise revert_of(estimate["error"])
                    raise ChainError(f"EVM node: estimating {name} failed: {estimate['error']}")
                gas = int(estimate["result"], 16)
                nonce = self._nonces.get(address)
                if nonce is None:
                    nonce = int(self.rpc.call("eth_getTransactionCount", address, "pending"), 16)
                gas = gas + gas // 4 + 10_000
                transaction = {
                    "nonce": nonce,
                    "gasPrice": gas_price(self.rpc, address, gas),
                    "gas": gas,
                    "to": self._ledger,
                    "value": 0,
                    "data": data,
                    "chainId": self.chain_id,
                }
                signed = Account.sign_transaction(transaction, sender.key)
                sent = self.rpc.request("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])
                if "error" in sent:
                    self._nonces.pop(address, None)  # re-read the nonce from the node, then try once more
                    if attempt == 0 and "nonce" in str(sent["error"]).lower():
                        continue
                    if any(words in str(sent["error"]).lower() for words in _UNPAID):
                        raise OutOfGas(f"EVM node refused the {name} transaction of {address}: {sent['error']}")
                    raise ChainError(f"EVM node refused the {name} transaction: {sent['error']}")
                self._nonces[address] = nonce + 1
                raw = wait_receipt(self.rpc, sent["result"])
                if int(raw["status"], 16) != 1:
                    raise self._mined_revert(name, call, raw)
                return self._receipt(name, raw)
        raise AssertionError("unreachable")

    def _mined_revert(self, name: str, call: dict[str, Any], raw: dict[str, Any]) -> ChainError:
        """Another sender's transaction changed the state between our estimate and our block (a race
        LocalChain cannot have): the transaction reverted on chain, in a block. A reverted transaction
        changes nothing but the nonce, so running it again now names the rule it broke."""
        answer = self.rpc.request("eth_call", [call, "latest"])
        if "error" in answer and is_revert(answer["error"]):
            return revert_of(answer["error"])
        return ChainError(
            f"the {name} transaction {raw['transactionHash']} reverted in block "
            f"{int(raw['blockNumber'], 16) - self.genesis}"
        )

    def _receipt(self, name: str, raw: dict[str, Any]) -> Receipt:
        number = int(raw["blockNumber"], 16)
        timestamp = int(self.block(hex(number))["timestamp"], 16)
        events = tuple(self.events_of(raw["logs"]))
        return Receipt(number - self.genesis, raw["transactionHash"], timestamp, events, _return_value(name, events))

    def events_of(self, logs: list[dict[str, Any]]) -> list[Event]:
        found = []
        for log in logs:
            if log["address"].lower() != self._ledger.lower():
                continue
            decoded = self._abi.decode_log(log)
            if decoded is None:
                continue
            found.append(
                Event(
                    int(log["blockNumber"], 16) - self.genesis,
                    int(log["logIndex"], 16),
                    log["transactionHash"],
                    decoded[0],
                    decoded[1],
                )
            )
        return found


# The value a transaction returns, read from its events (the node may not keep return data).
_RETURNED_BY = {
    "createCategory": ("CreateCategory", "catid"),
    "createApp": ("CreateApp", "app"),
    "createDataset": ("CreateDataset", "dataset"),
    "createWorkerpool": ("CreateWorkerpool", "workerpool"),
    "createDeal": ("SchedulerNotice", "dealid"),
    "initialize": ("TaskInitialize", "taskid"),
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
