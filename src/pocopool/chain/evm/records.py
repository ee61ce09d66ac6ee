"""The ledger's view tuples (viewDeal, viewTask, viewContribution) read into the Chain dataclasses."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from ...protocol.statuses import ChainContributionStatus, ChainTaskStatus
from ..base import ChainTask, Contribution, Deal, Resource

TASK_STATUSES = list(ChainTaskStatus)
CONTRIBUTION_STATUSES = list(ChainContributionStatus)


def deal_of(deal_id: str, fields: tuple[Any, ...], params: str) -> Deal | None:
    """The deal `viewDeal` answered (None for a deal that does not exist: an empty bag)."""
    (
        app,
        dataset,
        pool,
        trust,
        category,
        tag,
        requester,
        beneficiary,
        callback,
        start_time,
        bot_first,
        bot_size,
        worker_stake,
        reward_ratio,
        sponsor,
    ) = fields
    if bot_size == 0:
        return None

    def resource(value: tuple[str, str, int]) -> Resource:
        return Resource(to_checksum_address(value[0]), to_checksum_address(value[1]), value[2])

    return Deal(
        deal_id=deal_id,
        app=resource(app),
        dataset=resource(dataset),
        workerpool=resource(pool),
        trust=trust,
        category=category,
        tag="0x" + tag.hex(),
        requester=to_checksum_address(requester),
        beneficiary=to_checksum_address(beneficiary),
        callback=to_checksum_address(callback),
        params=params,
        start_time=start_time,
        bot_first=bot_first,
        bot_size=bot_size,
        worker_stake=worker_stake,
        scheduler_reward_ratio=reward_ratio,
        sponsor=to_checksum_address(sponsor),
    )


def task_of(task_id: str, fields: tuple[Any, ...]) -> ChainTask:
    (
        status,
        deal_id,
        idx,
        timeref,
        contribution_deadline,
        reveal_deadline,
        final_deadline,
        consensus,
        reveal_counter,
        winner_counter,
        contributors,
        digest,
        results,
        callback,
    ) = fields
    return ChainTask(
        task_id=task_id,
        status=TASK_STATUSES[status],
        deal_id="0x" + deal_id.hex(),
        idx=idx,
        timeref=timeref,
        contribution_deadline=contribution_deadline,
        reveal_deadline=reveal_deadline,
        final_deadline=final_deadline,
        consensus_value="0x" + consensus.hex(),
        reveal_counter=reveal_counter,
        winner_counter=winner_counter,
        contributors=tuple(to_checksum_address(c) for c in contributors),
        result_digest="0x" + digest.hex(),
        results=bytes(results),
        results_callback=bytes(callback),
    )


def contribution_of(fields: tuple[Any, ...]) -> Contribution:
    status, result_hash, result_seal, challenge, weight = fields
    return Contribution(
        CONTRIBUTION_STATUSES[status],
        "0x" + result_hash.hex(),
        "0x" + result_seal.hex(),
        to_checksum_address(challenge),
        weight,
    )
