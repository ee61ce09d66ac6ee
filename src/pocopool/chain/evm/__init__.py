"""EvmChain: the Chain interface over an EVM node and the PocoLedger contract.

`ledger` is `EvmChain` (and the `evm:` chain URL); `rpc` the JSON-RPC client; `abi` the contract's
codec; `reasons` turns a node's revert back into the `ChainRevert` of chain/reverts.py; `contract`
compiles PocoLedger.vy; `deploy` deploys it. The nodes themselves (the built-in py-evm node, Hardhat)
are devnet processes: pocopool.devnet.evmnode and pocopool.devnet.evm_nodes.
"""

from .deploy import deploy
from .ledger import EVM_SCHEME, EvmChain, chain_url, parse_url
from .rpc import Rpc

__all__ = ["EVM_SCHEME", "EvmChain", "Rpc", "chain_url", "deploy", "parse_url"]
