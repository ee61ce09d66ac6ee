"""Gas on the built-in EVM node: the price a transaction must offer, what its sender must hold, and the
accounts funded at genesis (the package docstring says how the node uses them).

The node charges gas the way post-London chains do, through the base fee: every block's base fee is the
node's gas price (held constant: with one transaction per block the protocol's rule would lower it by up
to 12.5 % a block, towards 0), so a transaction pays gasUsed × (base fee + its tip), the base fee burnt.
A gas price of 0 is the free gas the node had before (decision 126).
"""

from __future__ import annotations

from typing import Any

from eth.validation import validate_gas_limit
from eth_tester.backends.pyevm.main import generate_genesis_state_for_keys, get_default_account_keys
from eth_utils import is_address, to_canonical_address, to_checksum_address


def constant_base_fee(vm_class: Any) -> Any:
    """`vm_class` whose blocks all carry their parent's base fee (the genesis one: the node's price)."""

    class ConstantBaseFeeVM(vm_class):
        @classmethod
        def create_header_from_parent(cls, parent_header: Any, **header_params: Any) -> Any:
            header = super().create_header_from_parent(parent_header, **header_params)
            if parent_header is None:
                return header
            return header.copy(base_fee_per_gas=parent_header.base_fee_per_gas)

        @classmethod
        def validate_gas(cls, header: Any, parent_header: Any) -> None:
            validate_gas_limit(header.gas_limit, parent_header.gas_limit)
            if header.base_fee_per_gas != parent_header.base_fee_per_gas:
                raise ValueError(
                    f"block base fee {header.base_fee_per_gas} is not the node's {parent_header.base_fee_per_gas}"
                )

    ConstantBaseFeeVM.__name__ = vm_class.__name__
    return ConstantBaseFeeVM


def effective_price(transaction: Any, base_fee: int) -> int:
    """What each unit of gas the transaction uses costs its sender (EIP-1559; a legacy transaction's
    gas price is both its fee cap and its tip)."""
    return int(min(transaction.max_fee_per_gas, base_fee + transaction.max_priority_fee_per_gas))


def unpayable(transaction: Any, sender_balance: int, base_fee: int) -> str | None:
    """Why the node refuses the transaction, in geth's words (None: it may be mined): it offers less
    than the base fee, or its sender cannot pay its gas limit at its fee cap plus the value it sends
    (what the EVM reserves up front)."""
    offered = int(transaction.max_fee_per_gas)
    if offered < base_fee:
        return f"transaction underpriced: gas price {offered} wei is below the node's gas price {base_fee} wei"
    wanted = transaction.gas * offered + transaction.value
    if sender_balance < wanted:
        return (
            f"insufficient funds for gas * price + value: address {to_checksum_address(transaction.sender)} "
            f"have {sender_balance} want {wanted}"
        )
    return None


def parse_fund(text: str) -> tuple[str, int]:
    """`ADDRESS=WEI` (the node's --fund option) as (checksum address, wei); ValueError saying why not."""
    address, _, amount = text.partition("=")
    if not is_address(address.strip()):
        raise ValueError(f"--fund {text!r}: {address!r} is not an address (expected ADDRESS=WEI)")
    try:
        wei = int(amount.strip())
    except ValueError:
        raise ValueError(f"--fund {text!r}: {amount!r} is not a whole number of wei (expected ADDRESS=WEI)") from None
    if wei < 0:
        raise ValueError(f"--fund {text!r}: a balance cannot be negative")
    return to_checksum_address(address.strip()), wei


def genesis_state(funds: dict[str, int]) -> dict[bytes, dict[str, Any]]:
    """eth-tester's ten test accounts (as before funding existed, so old journals replay) and `funds`."""
    state: dict[bytes, dict[str, Any]] = dict(generate_genesis_state_for_keys(get_default_account_keys()))
    for address, wei in funds.items():
        state[to_canonical_address(address)] = {"balance": wei, "nonce": 0, "code": b"", "storage": {}}
    return state


def kept_in_journal(
    header: dict[str, Any], gas_price: int | None, funds: dict[str, int] | None, journal: object
) -> tuple[int, dict[str, int]]:
    """The gas price and genesis funding a journal's chain was started with (a journal written before
    they existed: free gas, nothing funded). Options given again must match: they are the chain's own
    (the base fee is in every block's header, the funding in its state), not a node's setting."""
    kept_price = int(header.get("gasPrice", 0))
    kept_funds: dict[str, int] = {
        to_checksum_address(address): int(wei) for address, wei in (header.get("fund") or {}).items()
    }
    if gas_price is not None and gas_price != kept_price:
        raise ValueError(
            f"the journal {journal} holds a chain with gas price {kept_price} wei, not {gas_price}: start without "
            "--gas-price, or remove the journal to start a new chain"
        )
    if funds is not None and funds != kept_funds:
        raise ValueError(
            f"the journal {journal} holds a chain whose genesis funds {len(kept_funds)} account(s), not the "
            f"{len(funds)} of --fund: start without --fund, or remove the journal to start a new chain"
        )
    return kept_price, kept_funds
