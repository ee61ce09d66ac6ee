"""Consensus per replicate: `contributions(model, onchain, events)`, pure.

For each replicate: its contribution hash, whether it agrees with the consensus, whether it
revealed, and what the chain paid or took (the Reward and Seize events whose `ref` is the task id,
as given by `Chain.events`, converted to plain dicts {name, owner, amount, ref}).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .crypto import same_address
from .statuses import ReplicateStatus as RS


def contributions(model: Mapping[str, Any] | None, onchain: Mapping[str, Any] | None,
                  events: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    if not model:
        return []
    task_id = model.get("chainTaskId")
    consensus = model.get("consensus") or (onchain or {}).get("consensusValue")
    if consensus and int(consensus, 16) == 0:
        consensus = None
    moves = [e for e in events if e.get("ref") == task_id and e.get("name") in ("Reward", "Seize")]
    rows = []
    for replicate in model.get("replicates", []):
        wallet = replicate.get("walletAddress")
        contribution = replicate.get("contributionHash")
        revealed = any(u.get("status") == RS.REVEALED.value for u in replicate.get("statusUpdateList", []))
        rewarded = sum(int(e["amount"]) for e in moves if e["name"] == "Reward" and same_address(e["owner"], wallet))
        seized = sum(int(e["amount"]) for e in moves if e["name"] == "Seize" and same_address(e["owner"], wallet))
        rows.append({
            "worker": wallet,
            "contributionHash": contribution,
            "agrees": (contribution == consensus) if (contribution and consensus) else None,
            "revealed": revealed,
            "reward": rewarded,
            "seized": seized,
        })
    return rows
