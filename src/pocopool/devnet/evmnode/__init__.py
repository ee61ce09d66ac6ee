"""The built-in EVM node: py-evm (through eth-tester's chain setup) behind the Ethereum JSON-RPC methods
web3.py uses, served over HTTP on 127.0.0.1.

    python -m pocopool.devnet.evmnode --port 8545 [--chain-id 1337] [--genesis-time T] [--journal FILE]
        [--gas-price WEI] [--fund ADDRESS=WEI ...]
    python -m pocopool.devnet.evmnode --port 8546 --follow LEADER_URL [--lag N]

One transaction per block, mined as soon as it arrives (automine). Gas is free by default: the base fee
is 0 and `eth_gasPrice` answers 0, so any key can transact without being funded first. With
`--gas-price WEI` the node charges gas as real chains do (fees.py): every block's base fee is WEI,
`eth_gasPrice` answers it, a transaction offering less is refused ("transaction underpriced"), one whose
sender cannot pay gas × price + value is refused ("insufficient funds ..."), and the sender pays
gasUsed × price. `--fund ADDRESS=WEI` (repeated) gives those accounts ether at genesis, besides
eth-tester's ten test accounts. Calls and estimates pay nothing. Time is the wall clock
unless a test sets it: `evm_setNextBlockTimestamp(t)` stamps the next block, `evm_increaseTime(s)`
shifts the clock; blocks may share a timestamp (as LocalChain's do, docs/decisions.md 3) but never go
back. `evm_snapshot`/`evm_revert` restore an earlier head, `evm_mine` mines an empty block. Calls and
gas estimates run in the block the next transaction would go into, with its timestamp.

The chain lives in memory. With `--journal FILE` it also outlives the process: every mined block (its
timestamp, mix hash and raw transaction) is appended to FILE as one JSON line, flushed before the
transaction's hash is answered, and a node started on an existing FILE replays it first, so it holds
the same blocks, hashes, receipts and state as the one that wrote it (the devnet keeps one per home,
as LocalChain keeps HOME/chain.db). `evm_revert` rewrites the journal to the restored head. Snapshots
and a clock shifted by `evm_increaseTime` or `evm_setNextBlockTimestamp` are not kept. The journal's first
line holds the chain's chain id, genesis time, gas price and genesis funding: a replay uses them, and a
node started on it with other values refuses to start. `pocopool_blocks(first)` answers the journal's
header and its block lines from block `first`, with their hashes.

With `--follow LEADER_URL` the node keeps no chain of its own making: it replays the leader's blocks
(pocopool_blocks) as a journal is replayed, so its blocks are the leader's, hash for hash, answers every
read from its copy, and hands the transactions it is sent to the leader; it can be held back
(`pocopool_holdSync`) or kept `--lag N` blocks behind (follow.py).
"""

from .node import Node, RpcError
from .server import make_server

__all__ = ["Node", "RpcError", "make_server"]
