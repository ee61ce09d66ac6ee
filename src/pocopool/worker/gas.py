"""The worker's ETH check (spec/worker.md §2.1 step 5, §6.9 step 2, §6.10 step 5): can the wallet pay
the gas of the transaction it is about to send?

The budget comes from the chain (`Chain.gas_budget`): on a chain without gas (LocalChain) its price is 0
and every check passes. The gas limits are protocol/gas.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..chain.base import Chain, GasBudget
from ..protocol.gas import CONTRIBUTE_AND_FINALIZE_GAS, CONTRIBUTE_GAS, ONE_TRANSACTION_GAS, REVEAL_GAS

__all__ = [
    "CONTRIBUTE_AND_FINALIZE_GAS",
    "CONTRIBUTE_GAS",
    "ONE_TRANSACTION_GAS",
    "REVEAL_GAS",
    "GasShortage",
    "shortage",
    "startup_check",
]

WARN_TRANSACTIONS = 10  # §2.1 step 5: below this many, the worker starts but warns


@dataclass(frozen=True)
class GasShortage:
    """The wallet cannot pay `gas` at the chain's price; `message` says who, what it holds, what it needs."""

    budget: GasBudget
    gas: int
    message: str


def shortage(chain: Chain, wallet: str, gas: int, what: str) -> GasShortage | None:
    """None if `wallet` can pay a transaction of `gas` on `chain` (always, on a chain without gas);
    else what it lacks, in words naming the wallet, its balance and the need (`what`: the transaction)."""
    return _lacking(chain.gas_budget(wallet), wallet, gas, what)


def _lacking(budget: GasBudget, wallet: str, gas: int, what: str) -> GasShortage | None:
    if budget.can_pay(gas):
        return None
    return GasShortage(
        budget,
        gas,
        f"the worker's wallet {wallet} holds {budget.balance} wei, and {what} may cost {budget.cost(gas)} wei "
        f"({gas} gas at {budget.price} wei): refill it with at least {budget.cost(gas) - budget.balance} wei",
    )


def startup_check(chain: Chain, wallet: str) -> str | None:
    """§2.1 step 5 at startup: raises ValueError (the worker does not start) if the wallet cannot pay one
    transaction; a warning to log if it can pay fewer than WARN_TRANSACTIONS, else None."""
    budget = chain.gas_budget(wallet)  # read once: the check and the warning judge the same balance
    lacking = _lacking(budget, wallet, ONE_TRANSACTION_GAS, "one transaction")
    if lacking is not None:
        raise ValueError(lacking.message)
    if budget.price and budget.balance < budget.cost(ONE_TRANSACTION_GAS) * WARN_TRANSACTIONS:
        return (
            f"the worker's wallet {wallet} holds {budget.balance} wei, enough for "
            f"{budget.balance // budget.cost(ONE_TRANSACTION_GAS)} transaction(s) of {ONE_TRANSACTION_GAS} gas at {budget.price} wei: "
            "refill it soon"
        )
    return None
