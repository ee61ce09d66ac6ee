"""Deploying a new PocoLedger contract on a node."""

from __future__ import annotations

from eth_account import Account
from eth_utils import to_checksum_address

from ..base import ChainError
from .contract import compiled
from .rpc import Rpc, gas_price, wait_receipt


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
        "gasPrice": gas_price(rpc, owner.address, gas + gas // 4),
        "gas": gas + gas // 4,
        "data": contract.bytecode,
        "value": 0,
        "chainId": int(rpc.call("eth_chainId"), 16),
    }
    signed = Account.sign_transaction(transaction, owner.key)
    tx_hash = rpc.call("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())
    receipt = wait_receipt(rpc, tx_hash)
    if int(receipt["status"], 16) != 1 or not receipt.get("contractAddress"):
        raise ChainError(f"the PocoLedger deployment failed: {receipt}")
    return to_checksum_address(receipt["contractAddress"])
