"""A node that follows another: it keeps its own copy of the leader's chain by replaying the leader's
blocks (`pocopool_blocks`, the leader's journal entries), so its blocks are the leader's, hash for hash,
and it answers every read from its own copy. A client of a follower sees the chain only as far as the
follower has synced, as a worker whose own node syncs from the network does (BLOCK_NOT_REACHED).

- Sync: at start it replays the leader's whole chain before it listens; then a thread asks the leader
  every `period` seconds for the blocks after its head and replays them. With `lag` it stays that many
  blocks behind the leader's head. `pocopool_holdSync(true)` stops the sync until
  `pocopool_holdSync(false)` (a devnet and test control, like evm_increaseTime); `pocopool_syncStatus`
  says where it stands.
- Transactions: `eth_sendRawTransaction` is handed to the leader, whose answer (the hash or its refusal)
  is answered, as a real node propagates a transaction; its receipt is read here once the follower
  has synced its block.
- The chain's parameters (chain id, genesis time, gas price, genesis funding) are the leader's journal
  header. The clock follows the leader's (its `evm_increaseTime` offset), so calls and estimates run
  at the time the leader would mine them. The test controls that make blocks or move the clock
  (evm_mine, evm_snapshot, ...) are refused: they belong to the leader.
- A leader whose chain no longer extends the follower's (an `evm_revert` below the follower's head)
  cannot be followed further: the follower stops syncing and says so in its status and its log.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import httpx

from .node import Node, RpcError

SYNC_PERIOD = 0.2  # s between two asks to the leader
LEADER_TIMEOUT = 10.0  # s for one answer of the leader
_LEADER_ONLY = ("evm_setNextBlockTimestamp", "evm_increaseTime", "evm_mine", "evm_snapshot", "evm_revert")


class LeaderError(Exception):
    """The leader cannot be followed (unreachable, not a pocopool node, another chain): one line why."""


class Leader:
    """JSON-RPC to the leader node."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client = httpx.Client(timeout=LEADER_TIMEOUT)

    def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        """The raw answer ({"result": ...} or {"error": ...}); LeaderError if there is none."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        try:
            answer = self._client.post(self.url, json=body)
            answer.raise_for_status()
            decoded = answer.json()
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
            reason = (str(error).splitlines() or [type(error).__name__])[0]  # one line, whatever httpx says
            raise LeaderError(f"the leader node {self.url} did not answer {method}: {reason}") from None
        if not isinstance(decoded, dict):
            raise LeaderError(f"the leader node {self.url} answered {method} with {decoded!r}")
        return decoded

    def blocks(self, first: int) -> dict[str, Any]:
        answer = self.request("pocopool_blocks", [first])
        if "error" in answer:
            raise LeaderError(
                f"the node at {self.url} does not serve its blocks ({answer['error'].get('message')}): "
                "only a pocopool EVM node can be followed"
            )
        return dict(answer["result"])


class Follower(Node):
    """The leader's chain, replayed here; reads are answered from it, transactions go to the leader."""

    def __init__(self, leader_url: str, *, lag: int = 0, period: float = SYNC_PERIOD) -> None:
        if lag < 0:
            raise ValueError(f"a lag of {lag} blocks: it cannot be negative")
        self.leader = Leader(leader_url)
        first = self.leader.blocks(1)
        header = first["header"]
        super().__init__(
            header["chainId"], header["genesisTime"], gas_price=header["gasPrice"], funds=dict(header["fund"])
        )
        self.lag, self.period = lag, period
        self.held, self.diverged = False, ""
        self._stop = threading.Event()
        self._apply(first)
        while self.sync_once():  # caught up before it listens, as a replayed journal is
            pass

    # ----- sync -------------------------------------------------------------------------------
    def sync_once(self) -> int:
        """Replays what the leader has after this node's head (up to `lag` blocks behind it); returns
        how many blocks it replayed. LeaderError if the leader does not answer."""
        if self.held or self.diverged:
            return 0
        with self.lock:
            head = self._head().block_number
        return self._apply(self.leader.blocks(head + 1))

    def _apply(self, answer: dict[str, Any]) -> int:
        replayed = 0
        with self.lock:
            if self.held or self.diverged:
                return 0
            self.time_offset = int(answer.get("timeOffset") or 0)
            head = self._head().block_number
            if answer["head"] < head:
                return self._diverge(f"the leader's head {answer['head']} is below this node's {head}")
            parent = answer.get("parentHash")
            if answer.get("from") == head + 1 and parent is not None and parent != _hex_hash(self.blocks[head]["hash"]):
                return self._diverge(f"the leader's block {head} is {parent}, this node's is not")
            last = answer["head"] - self.lag
            for block in answer["blocks"]:
                number = block["number"]
                if number <= head:
                    continue
                if number > last:
                    break
                if number != head + 1:
                    return self._diverge(f"the leader sent block {number} after block {head}")
                mined = _hex_hash(self.replay(block))
                if mined != block["hash"]:
                    return self._diverge(f"block {number} replayed as {mined}, the leader's is {block['hash']}")
                head, replayed = number, replayed + 1
        return replayed

    def _diverge(self, why: str) -> int:
        self.diverged = f"stopped following {self.leader.url}: {why}"
        _log("evmnode-follow-diverged", reason=self.diverged)
        return 0

    def run(self) -> None:
        """Syncs every `period` seconds until `stop()`; a leader that does not answer is asked again."""
        failing = False
        while not self._stop.wait(self.period):
            try:
                while self.sync_once():
                    pass
                if failing:
                    _log("evmnode-follow-resumed", leader=self.leader.url)
                failing = False
            except LeaderError as error:
                if not failing:  # once per outage, not once per period
                    _log("evmnode-follow-failed", error=str(error))
                failing = True

    def stop(self) -> None:
        self._stop.set()

    # ----- RPC methods ------------------------------------------------------------------------
    def handle(self, method: str, params: list[Any]) -> Any:
        if method in _LEADER_ONLY:
            raise RpcError(-32601, f"this node follows {self.leader.url}: send {method} to that node")
        if method == "eth_sendRawTransaction":  # outside the lock: the sync goes on meanwhile
            return self._forward(method, params)
        return super().handle(method, params)

    def _forward(self, method: str, params: list[Any]) -> Any:
        try:
            answer = self.leader.request(method, params)
        except LeaderError as error:
            raise RpcError(-32000, str(error)) from None
        if "error" in answer:
            refusal = answer["error"]
            raise RpcError(int(refusal.get("code", -32000)), str(refusal.get("message")), refusal.get("data"))
        return answer.get("result")

    def rpc_pocopool_holdSync(self, hold: bool) -> bool:
        """Stops (true) or resumes (false) the sync; answers whether it is held now."""
        with self.lock:
            self.held = bool(hold)
        return self.held

    def rpc_pocopool_syncStatus(self) -> dict[str, Any]:
        return {
            "leader": self.leader.url,
            "head": self._head().block_number,
            "held": self.held,
            "lag": self.lag,
            "diverged": self.diverged or None,
        }


def _hex_hash(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _log(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), file=sys.stderr, flush=True)
