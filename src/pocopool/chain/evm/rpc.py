"""JSON-RPC to an EVM node: one client, retried on connection errors, and the waits of a transaction."""

from __future__ import annotations

import time
from typing import Any

from ..base import ChainError

RPC_ATTEMPTS = 5


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
                return dict(self._provider.make_request(method, params))
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


def lowest_gas_price(rpc: Rpc) -> int:
    """The lowest price per gas the node takes: the latest block's base fee. 0 on nodes with free gas
    (ours without --gas-price, the Hardhat config of tools/hardhat, whose eth_gasPrice still suggests a
    tip); ours with --gas-price keeps every block's base fee at that price (devnet/evmnode/fees.py)."""
    return int(rpc.call("eth_getBlockByNumber", "latest", False).get("baseFeePerGas") or "0x0", 16)


def gas_price(rpc: Rpc, sender: str, gas: int) -> int:
    """The node's suggested price if the sender can pay it, else the lowest the node takes (its base
    fee). On a node with free gas that is 0, so test keys that hold no ether transact; on a node that
    charges it is still its price, so a sender that cannot pay is refused as such ("insufficient
    funds", OutOfGas), never with an underpriced transaction."""
    price = int(rpc.call("eth_gasPrice"), 16)
    if price and int(rpc.call("eth_getBalance", sender, "latest"), 16) < gas * price:
        return lowest_gas_price(rpc)
    return price


def wait_receipt(rpc: Rpc, tx_hash: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline, delay = time.monotonic() + timeout, 0.01
    while True:
        receipt = rpc.call("eth_getTransactionReceipt", tx_hash)
        if receipt:
            return receipt
        if time.monotonic() > deadline:
            raise ChainError(f"transaction {tx_hash} was not mined within {timeout} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
