"""Consensus on votes, reward split and scores, against vectors.json (poco.md §8)."""

from __future__ import annotations

import pytest

from poco_world import FUNDS, VECTORS, WORKER_STAKE, WORKERPOOL_PRICE, digest_of, event_names
from pocopool.protocol import crypto
from pocopool.protocol.statuses import ChainContributionStatus as CS
from pocopool.protocol.statuses import ChainTaskStatus as TS


def _case_id(case: dict) -> str:
    votes = "-".join(f"{v['result']}{v['score'] or ''}" for v in case["votes"])
    return f"trust{case['trust']}:{votes}"


@pytest.mark.parametrize("case", VECTORS["consensus"], ids=_case_id)
def test_consensus_is_reached_at_the_vote_the_vectors_say(world, case):
    task_id = world.task(trust=case["trust"])
    expected = case["expected"]
    reached_at = None
    for number, (worker, vote) in enumerate(zip(world.workers, case["votes"], strict=False), start=1):
        world.set_score(worker.address, vote["score"])
        receipt = world.contribute(worker, task_id, vote["result"])
        if "TaskConsensus" in event_names(receipt):
            reached_at = number
    assert reached_at == expected["reachedAtVote"]
    task = world.chain.view_task(task_id)
    if reached_at is None:
        assert task.status is TS.ACTIVE
        return
    assert task.status is TS.REVEALING
    assert task.consensus_value == crypto.result_hash(task_id, digest_of(expected["consensus"]))
    assert task.winner_counter == sum(vote["result"] == expected["consensus"] for vote in case["votes"])


SOME_WEIGHTS = VECTORS["weights"][::3] + VECTORS["weights"][-1:]


@pytest.mark.parametrize("vector", SOME_WEIGHTS, ids=lambda v: f"score{v['score']}")
def test_a_contribution_records_the_reward_weight_of_its_worker_score(world, vector):
    worker = world.workers[0]
    world.set_score(worker.address, vector["score"])
    task_id = world.task(trust=10**6)
    world.contribute(worker, task_id)
    assert world.chain.view_contribution(task_id, worker.address).weight == vector["rewardWeight"]


def test_winners_share_the_price_and_the_loser_stake_as_the_reward_vector_says(world):
    """vectors.json rewards: 4 good winners + 1 loser, price 1e9, stake 3e8, scheduler ratio 1 %."""
    vector = VECTORS["rewards"]
    loser, winners = world.workers[0], world.workers[1:5]
    world.set_score(loser.address, 9)
    task_id = world.task(trust=4)
    world.contribute(loser, task_id, "bad")
    world.reach_consensus(task_id, winners)
    assert world.chain.view_task(task_id).winner_counter == vector["winners"] == 4
    for winner in winners:
        world.reveal(winner, task_id)
    receipt = world.chain.finalize(world.scheduler, task_id, b"r")

    assert (vector["workerpoolPrice"], vector["workerStake"]) == (WORKERPOOL_PRICE, WORKER_STAKE)
    for winner in winners:
        assert world.balance(winner) == FUNDS + vector["perWinner"]
        assert world.frozen(winner) == 0
        assert world.chain.view_score(winner.address) == 1  # replicated task: +1
        assert world.chain.view_contribution(task_id, winner.address).status is CS.PROVED
    assert world.balance(loser) == FUNDS - WORKER_STAKE
    assert world.frozen(loser) == 0
    assert world.chain.view_score(loser.address) == 9 * 2 // 3
    assert world.balance(world.scheduler) == FUNDS + vector["scheduler"]  # its task stake came back too
    assert world.frozen(world.scheduler) == 0
    assert [e.args for e in receipt.events if e.name == "AccurateContribution"] == [
        {"worker": w.address, "taskid": task_id} for w in winners
    ]
    assert [e.args for e in receipt.events if e.name == "FaultyContribution"] == [
        {"worker": loser.address, "taskid": task_id}
    ]
    assert [e for e in receipt.events if e.name == "Reward"][-1].args == {
        "owner": world.scheduler.address,
        "amount": vector["scheduler"],
        "ref": task_id,
    }


def test_winners_are_paid_pro_rata_to_their_reward_weight(world):
    heavy, light = world.workers[0], world.workers[1]
    world.set_score(heavy.address, 15)  # reward weight 2
    task_id = world.task(trust=5)
    world.reach_consensus(task_id, [heavy, light])
    world.reveal(heavy, task_id)
    world.reveal(light, task_id)
    world.chain.finalize(world.scheduler, task_id, b"r")
    workers_reward = WORKERPOOL_PRICE * 99 // 100
    assert world.balance(heavy) == FUNDS + workers_reward * 2 // 3
    assert world.balance(light) == FUNDS + workers_reward * 1 // 3
    assert world.balance(world.scheduler) == FUNDS + WORKERPOOL_PRICE - workers_reward
    assert world.chain.view_score(heavy.address) == 16


def test_the_scheduler_reward_ratio_of_the_deal_is_applied(world):
    world.chain.change_workerpool_policy(world.scheduler, world.workerpool, 30, 100)
    task_id = world.task()
    worker = world.workers[0]
    world.contribute(worker, task_id)
    world.reveal(worker, task_id)
    world.chain.finalize(world.scheduler, task_id, b"r")
    assert world.balance(worker) == FUNDS
    assert world.balance(world.scheduler) == FUNDS + WORKERPOOL_PRICE


def test_the_events_of_one_task_are_read_without_the_others(world):
    """`events(..., task_id=...)`: the scheduler's read of a task's TaskConsensus block."""
    first, second = world.task(trust=1), world.task(trust=1)
    start = world.chain.latest_block().number
    world.contribute(world.workers[0], second)
    world.contribute(world.workers[0], first)
    consensus = world.chain.events(start, None, ("TaskConsensus",))
    assert [str(e.args["taskid"]).lower() for e in consensus] == [second.lower(), first.lower()]
    mine = world.chain.events(start, None, ("TaskConsensus",), task_id=first.upper().replace("0X", "0x"))
    assert mine == [consensus[1]]
    every_event_of_first = world.chain.events(0, None, task_id=first)
    assert {e.name for e in every_event_of_first} >= {"TaskInitialize", "TaskContribute", "TaskConsensus"}
    assert all(str(e.args["taskid"]).lower() == first.lower() for e in every_event_of_first)
    assert world.chain.events(0, None, task_id="0x" + "ee" * 32) == []
