"""reopen: when no winner reveals, the scheduler opens the task again (poco.md §7.4, §8.4)."""

from __future__ import annotations

from poco_world import FUNDS, VECTORS, WORKER_STAKE, WORKERPOOL_PRICE, assert_reverts, event_names
from pocopool.chain import errors as rule
from pocopool.protocol.crypto import ZERO_BYTES32
from pocopool.protocol.statuses import ChainContributionStatus as CS
from pocopool.protocol.statuses import ChainTaskStatus as TS

FINAL_DEADLINE = VECTORS["deadlines"]["finalDeadline"]


def silent_consensus(world, trust: int = 3) -> str:
    """A task whose two winners never reveal, at its reveal deadline."""
    task_id = world.task(trust=trust)
    world.reach_consensus(task_id, world.workers[:2])
    world.advance_to(world.chain.view_task(task_id).reveal_deadline)
    return task_id


def test_reopen_rejects_the_silent_winners_and_reopens_the_task(world):
    task_id = silent_consensus(world)
    receipt = world.chain.reopen(world.scheduler, task_id)
    assert event_names(receipt) == ["TaskReopen"]
    assert receipt.events[0].args == {"taskid": task_id}
    task = world.chain.view_task(task_id)
    assert (task.status, task.consensus_value, task.reveal_deadline, task.winner_counter) == (
        TS.ACTIVE,
        ZERO_BYTES32,
        0,
        0,
    )
    assert task.contributors == (world.workers[0].address, world.workers[1].address)
    for worker in world.workers[:2]:
        assert world.chain.view_contribution(task_id, worker.address).status is CS.REJECTED
        assert world.frozen(worker) == WORKER_STAKE  # stakes stay locked until finalize or claim


def test_after_a_reopen_new_workers_reach_consensus_and_the_rejected_ones_lose_their_stake(world):
    task_id = silent_consensus(world)
    world.chain.reopen(world.scheduler, task_id)
    rejected, fresh = world.workers[:2], world.workers[2:4]
    assert_reverts(rule.ALREADY_CONTRIBUTED, world.chain, lambda: world.contribute(rejected[0], task_id))
    world.contribute(fresh[0], task_id)
    assert world.chain.view_task(task_id).status is TS.ACTIVE  # the rejected group weighs nothing any more
    world.contribute(fresh[1], task_id)
    task = world.chain.view_task(task_id)
    assert (task.status, task.winner_counter) == (TS.REVEALING, 2)  # rejected voters of the same hash excluded
    for worker in fresh:
        world.reveal(worker, task_id)
    world.chain.finalize(world.scheduler, task_id, b"r")

    pot = WORKERPOOL_PRICE + 2 * WORKER_STAKE
    share = pot * 99 // 100 // 2
    for worker in fresh:
        assert (world.balance(worker), world.frozen(worker)) == (FUNDS + share, 0)
    for worker in rejected:
        assert (world.balance(worker), world.frozen(worker)) == (FUNDS - WORKER_STAKE, 0)


def test_only_the_scheduler_reopens(world):
    task_id = silent_consensus(world)
    assert_reverts(rule.ONLY_SCHEDULER, world.chain, lambda: world.chain.reopen(world.requester, task_id))


def test_only_a_task_in_reveal_is_reopened(world):
    task_id = world.task(trust=3)
    assert_reverts(rule.TASK_NOT_REVEALING, world.chain, lambda: world.chain.reopen(world.scheduler, task_id))


def test_reopen_waits_for_the_reveal_deadline(world):
    task_id = world.task(trust=3)
    world.reach_consensus(task_id, world.workers[:2])
    world.advance_to(world.chain.view_task(task_id).reveal_deadline - 1)
    assert_reverts(rule.REVEAL_DEADLINE_NOT_REACHED, world.chain, lambda: world.chain.reopen(world.scheduler, task_id))


def test_a_task_with_a_reveal_is_not_reopened(world):
    task_id = world.task(trust=3)
    world.reach_consensus(task_id, world.workers[:2])
    world.reveal(world.workers[0], task_id)
    world.advance_to(world.chain.view_task(task_id).reveal_deadline)
    assert_reverts(rule.TASK_HAS_REVEALS, world.chain, lambda: world.chain.reopen(world.scheduler, task_id))


def test_reopen_is_refused_after_the_final_deadline(world):
    task_id = silent_consensus(world)
    world.advance_to(FINAL_DEADLINE)
    assert_reverts(rule.FINAL_DEADLINE_PASSED, world.chain, lambda: world.chain.reopen(world.scheduler, task_id))


def test_a_reopened_task_that_ends_in_a_claim_refunds_every_stake(world):
    task_id = silent_consensus(world)
    world.chain.reopen(world.scheduler, task_id)
    world.advance_to(FINAL_DEADLINE)
    world.chain.claim(world.requester, task_id)
    for worker in world.workers[:2]:
        assert (world.balance(worker), world.frozen(worker)) == (FUNDS, 0)
