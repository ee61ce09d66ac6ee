"""Plain ether on an EVM node: a wallet's balance and transfers between wallets (the devnet's top-up of
keys made after its chain's genesis; tests that empty a worker's wallet). The ledger's own money (RLC)
is the contract's business, not this module's."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from ..base import ChainError
from .rpc import Rpc, gas_price, wait_receipt

TRANSFER_GAS = 21_000  # a plain transfer to an account without code


def balance(rpc_url: str, address: str) -> int:
    """The wei `address` holds."""
    return int(Rpc(rpc_url).call("eth_getBalance", to_checksum_address(address), "latest"), 16)


def send_ether(rpc_url: str, key: str, to: str, wei: int | None = None) -> dict[str, Any]:
    """Sends `wei` from `key`'s wallet to `to` (None: everything the wallet holds beyond this transfer's
    own gas, which leaves it with nothing) and returns the mined receipt; ChainError if it is refused."""
    rpc = Rpc(rpc_url)
    sender = Account.from_key(key)
    price = gas_price(rpc, sender.address, TRANSFER_GAS)
    if wei is None:
        wei = balance(rpc_url, sender.address) - TRANSFER_GAS * price
        if wei < 0:
            raise ChainError(f"{sender.address} cannot even pay the gas of a transfer ({TRANSFER_GAS * price} wei)")
    transaction = {
        "nonce": int(rpc.call("eth_getTransactionCount", sender.address, "pending"), 16),
        "gasPrice": price,
        "gas": TRANSFER_GAS,
        "to": to_checksum_address(to),
        "value": wei,
        "data": b"",
        "chainId": int(rpc.call("eth_chainId"), 16),
    }
    signed = Account.sign_transaction(transaction, sender.key)
    receipt = wait_receipt(rpc, rpc.call("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex()))
    if int(receipt["status"], 16) != 1:
        raise ChainError(f"the transfer of {wei} wei from {sender.address} to {to} failed: {receipt}")
    return receipt
