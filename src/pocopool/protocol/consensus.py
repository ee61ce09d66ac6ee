"""Consensus math shared by the ledger and the scheduler's prediction (spec/poco.md §8, scheduler §5.4)."""

from __future__ import annotations

from collections.abc import Iterable


def worker_weight(score: int) -> int:
    """Consensus weight of a worker: max(score // 3, 3) - 1, so at least 2."""
    return max(score // 3, 3) - 1


def reward_weight(score: int) -> int:
    """floor(log2(weight)): the share of the winners' reward (≥ 1)."""
    return worker_weight(score).bit_length() - 1


def is_winning_group(group_weight: int, total: int, trust: int) -> bool:
    """The strict on-chain test: group × trust > total × (trust − 1), with trust ≥ 1."""
    trust = max(trust, 1)
    return group_weight * trust > total * (trust - 1)


def _product(values: Iterable[int]) -> int:
    result, seen = 1, False
    for value in values:
        result *= value
        seen = True
    return result if seen else 0


def needs_more_contributions(contributed: dict[str, list[int]], pending: list[int], trust: int) -> bool:
    """Whether the scheduler should hand out another replicate (spec/scheduler.md §5.4).

    `contributed` maps each contribution hash to the weights of the replicates that voted for it;
    `pending` holds the weights of replicates still running (not contributed, not failed, younger
    than one category period). Weights are multiplied, as in the reference.
    """
    trust = max(trust, 1)
    group_weights = {h: _product(w for w in ws if w > 0) for h, ws in contributed.items()}
    best_hash = max(group_weights, key=lambda h: group_weights[h], default=None)
    best_contributed = group_weights[best_hash] if best_hash is not None else 0
    pending_weight = _product(w for w in pending if w > 0)
    if best_contributed == 0:
        best = pending_weight
    elif pending_weight == 0:
        best = best_contributed
    else:
        best = best_contributed * pending_weight
    worst = sum(w for h, w in group_weights.items() if h != best_hash)
    possible = best * trust > (1 + best + worst) * (trust - 1)
    return not possible
