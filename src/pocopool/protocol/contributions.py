"""Consensus per replicate: `contributions(task, onchain, moves, scores, score_moves)`, pure.

For each replicate: its contribution hash, whether it agrees with the consensus, whether it
revealed, and what the chain paid or took (the Reward and Seize events whose `ref` is the task id,
as given by `Chain.events`, each as a `StakeMove`); then the worker's weight in the consensus and
its score (spec/poco.md §8): when it contributed (recorded by the scheduler), now (read from the
chain by the caller), and what this task's finalize did to it (the AccurateContribution and
FaultyContribution events, each as a `ScoreMove`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .crypto import same_address
from .statuses import ChainTaskStatus
from .statuses import ReplicateStatus as RS
from .views import SCORE_EVENTS, OnChainTask, ScoreMove, StakeMove, TaskView


def contributions(
    task: TaskView | None,
    onchain: OnChainTask | None,
    moves: Iterable[StakeMove] = (),
    scores: Mapping[str, int] | None = None,
    score_moves: Iterable[ScoreMove] = (),
) -> list[dict[str, Any]]:
    """One row per replicate: `worker`, `contributionHash`, `agrees` (None when either hash is
    unknown), `revealed`, `reward` and `seized` (sums of this task's moves for that wallet);
    `weight` (its weight in the consensus, None without a contribution), `scoreBefore` (its score
    when the contribution was recorded), `scoreAfter` (`scores`: the chain's score now, by wallet)
    and `scoreChange` ("+1", "×2/3", "none" once the task completed without moving it, None before)."""
    if task is None:
        return []
    task_id = task.chainTaskId
    consensus = task.consensus or (onchain.consensus_value if onchain else None)
    if consensus and int(consensus, 16) == 0:
        consensus = None
    mine = [m for m in moves if m.ref == task_id and m.name in ("Reward", "Seize")]
    scored = [m for m in score_moves if m.task_id == task_id and m.name in SCORE_EVENTS]
    # finalized or claimed: the task moved every score it ever will (a claim moves none)
    finalized = onchain is not None and onchain.status in (ChainTaskStatus.COMPLETED, ChainTaskStatus.FAILED)
    now = {wallet.lower(): score for wallet, score in (scores or {}).items()}
    rows = []
    for replicate in task.replicates:
        wallet = replicate.walletAddress
        contribution = replicate.contributionHash
        revealed = any(u.status is RS.REVEALED for u in replicate.statusUpdateList)
        rewarded = sum(m.amount for m in mine if m.name == "Reward" and same_address(m.owner, wallet))
        seized = sum(m.amount for m in mine if m.name == "Seize" and same_address(m.owner, wallet))
        rows.append(
            {
                "worker": wallet,
                "contributionHash": contribution,
                "agrees": (contribution == consensus) if (contribution and consensus) else None,
                "revealed": revealed,
                "reward": rewarded,
                "seized": seized,
                "weight": replicate.workerWeight if contribution else None,
                "scoreBefore": replicate.workerScore if contribution else None,
                "scoreAfter": now.get(wallet.lower()),
                "scoreChange": _score_change(wallet, scored, finalized) if contribution else None,
            }
        )
    return rows


def _score_change(wallet: str, scored: list[ScoreMove], finalized: bool) -> str | None:
    """What the task did to a contributor's score: "+1", "×2/3", "none" (finalized without a score
    event: a single contributor, or contributeAndFinalize; or claimed), None while it still may."""
    change = next((SCORE_EVENTS[m.name] for m in scored if same_address(m.worker, wallet)), None)
    return change or ("none" if finalized else None)


_SCORE_CHANGES = {
    "+1": "+1, an accurate contribution",
    "×2/3": "×2/3, a faulty contribution (another result, or not revealed)",
    "none": "unchanged (a single contribution, or a claimed task)",
}


def describe_score_change(change: str | None) -> str:
    """A row's `scoreChange` in words, for people: the CLI and the dashboard."""
    return _SCORE_CHANGES.get(change or "", "none yet: the task is not finalized")
