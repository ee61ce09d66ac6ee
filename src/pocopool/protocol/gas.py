"""The gas limits of a worker's transactions, the reference's (spec/worker.md §2.1 step 5, §6.9, §6.10,
§6.12): the worker's ETH check and the scheduler's supply gate (spec/scheduler.md §5.1 step 5) compare a
wallet's ether with them at the chain's price. Our EvmChain sets each transaction's own limit from an
estimate (chain/evm/connection.py), below these (bench/RESULTS.md's gas report), so a wallet that passes
can pay what is actually sent."""

from __future__ import annotations

CONTRIBUTE_GAS = 500_000  # worker.md §6.9 step 5: the reference's gas limit of contribute
CONTRIBUTE_AND_FINALIZE_GAS = 500_000  # §6.12: an estimate in the reference; contribute's bound here
REVEAL_GAS = 100_000  # §6.10 step 6
ONE_TRANSACTION_GAS = 1_000_000  # §2.1 step 5: "one transaction" at startup, and the supply gate's
