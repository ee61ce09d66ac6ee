"""Deadlines, claim and the kitty (poco.md §7.7, §10.3-§10.4, §11.2), on vectors.json deadlines."""

from __future__ import annotations

import pytest

from poco_world import (
    APP_PRICE,
    FUNDS,
    SCHEDULER_STAKE,
    VECTORS,
    WORKERPOOL_PRICE,
    assert_reverts,
    event_names,
)
from pocopool.chain import KITTY_ADDRESS, KITTY_MIN
from pocopool.chain import errors as rule
from pocopool.protocol import crypto
from pocopool.protocol.statuses import ChainTaskStatus as TS

DEADLINES = VECTORS["deadlines"]
CONTRIBUTION_DEADLINE = DEADLINES["contributionDeadline"]
FINAL_DEADLINE = DEADLINES["finalDeadline"]


def test_contributing_is_allowed_until_one_second_before_the_contribution_deadline(world):
    task_id = world.task(trust=3)
    world.advance_to(CONTRIBUTION_DEADLINE - 1)
    world.contribute(world.workers[0], task_id)
    world.advance(1)
    assert_reverts(rule.CONTRIBUTION_DEADLINE_PASSED, world.chain, lambda: world.contribute(world.workers[1], task_id))


def test_the_reveal_deadline_is_two_time_refs_after_consensus(world):
    task_id = world.task()
    world.advance_to(DEADLINES["revealDeadlineIfConsensusAt"]["at"])
    world.contribute(world.workers[0], task_id)
    reveal_deadline = world.chain.view_task(task_id).reveal_deadline
    assert reveal_deadline == DEADLINES["revealDeadlineIfConsensusAt"]["revealDeadline"]
    world.advance_to(reveal_deadline)
    assert_reverts(rule.REVEAL_DEADLINE_PASSED, world.chain, lambda: world.reveal(world.workers[0], task_id))


def test_claiming_before_the_final_deadline_reverts(world):
    task_id = world.task()
    world.advance_to(FINAL_DEADLINE - 1)
    assert_reverts(rule.FINAL_DEADLINE_NOT_REACHED, world.chain, lambda: world.chain.claim(world.requester, task_id))


def test_a_claim_refunds_the_requester_and_seizes_the_scheduler_stake_into_the_kitty(world):
    task_id = world.task(trust=3)
    worker = world.workers[0]
    world.contribute(worker, task_id)
    world.advance_to(FINAL_DEADLINE)
    receipt = world.chain.claim(world.stranger, task_id)  # anyone may claim

    assert world.chain.view_task(task_id).status is TS.FAILED
    assert (world.balance(world.requester), world.frozen(world.requester)) == (FUNDS, 0)
    assert (world.balance(worker), world.frozen(worker)) == (FUNDS, 0)
    assert (world.balance(world.scheduler), world.frozen(world.scheduler)) == (FUNDS - SCHEDULER_STAKE, 0)
    assert world.chain.view_account(KITTY_ADDRESS).frozen == SCHEDULER_STAKE
    assert world.chain.view_account(world.chain.escrow_address()).balance == SCHEDULER_STAKE
    assert event_names(receipt) == [
        "Transfer",
        "Unlock",
        "Seize",
        "Reward",
        "Lock",
        "Transfer",
        "Unlock",
        "TaskClaimed",
    ]
    assert receipt.events[3].args == {"owner": KITTY_ADDRESS, "amount": SCHEDULER_STAKE, "ref": task_id}
    assert receipt.events[-1].args == {"taskid": task_id}


def test_a_task_in_reveal_can_be_claimed_too(world):
    task_id = world.task()
    world.contribute(world.workers[0], task_id)
    world.advance_to(FINAL_DEADLINE)
    world.chain.claim(world.requester, task_id)
    assert world.chain.view_task(task_id).status is TS.FAILED


def test_a_task_is_claimed_only_once_and_only_if_it_was_running(world):
    failed = world.task()
    done = world.task()
    world.contribute(world.workers[0], done)
    world.reveal(world.workers[0], done)
    world.chain.finalize(world.scheduler, done, b"r")
    world.advance_to(FINAL_DEADLINE)
    world.chain.claim(world.requester, failed)
    for task_id in (failed, done, crypto.task_id(world.deal().deal_id, 0)):
        assert_reverts(
            rule.TASK_NOT_CLAIMABLE, world.chain, lambda task_id=task_id: world.chain.claim(world.requester, task_id)
        )


def test_a_task_never_initialized_is_claimed_with_initialize_and_claim(world):
    deal = world.deal(volume=2)
    assert_reverts(
        rule.FINAL_DEADLINE_NOT_REACHED,
        world.chain,
        lambda: world.chain.initialize_and_claim(world.requester, deal.deal_id, 1),
    )
    assert world.chain.view_task(crypto.task_id(deal.deal_id, 1)).status is TS.UNSET  # initialize rolled back
    world.advance_to(FINAL_DEADLINE)
    receipt = world.chain.initialize_and_claim(world.requester, deal.deal_id, 1)
    assert receipt.return_value == crypto.task_id(deal.deal_id, 1)
    assert world.chain.view_task(receipt.return_value).status is TS.FAILED
    assert event_names(receipt)[0] == "TaskInitialize" and event_names(receipt)[-1] == "TaskClaimed"
    assert world.frozen(world.requester) == APP_PRICE + WORKERPOOL_PRICE  # task 0 is still paid for


def test_a_small_kitty_is_paid_whole_to_the_next_successful_scheduler(world):
    failed = world.task()
    world.advance_to(FINAL_DEADLINE)
    world.chain.claim(world.requester, failed)
    assert SCHEDULER_STAKE < KITTY_MIN

    task_id = world.task()  # a new deal: its deadlines start now
    worker = world.workers[0]
    world.contribute(worker, task_id)
    world.reveal(worker, task_id)
    receipt = world.chain.finalize(world.scheduler, task_id, b"r")
    assert world.chain.view_account(KITTY_ADDRESS).frozen == 0
    kitty_seize = [e for e in receipt.events if e.name == "Seize" and e.args["owner"] == KITTY_ADDRESS]
    assert kitty_seize[0].args["amount"] == SCHEDULER_STAKE
    share = WORKERPOOL_PRICE * 99 // 100
    # lost one stake, then got it back from the kitty, plus its ratio of the second task
    assert world.balance(world.scheduler) == FUNDS - SCHEDULER_STAKE + SCHEDULER_STAKE + WORKERPOOL_PRICE - share


@pytest.mark.parametrize(
    ("failed_price", "payout"),
    [
        (10 * WORKERPOOL_PRICE, KITTY_MIN),  # kitty 3e9: 10 % is below the 1e9 minimum
        (50 * WORKERPOOL_PRICE, 1_500_000_000),  # kitty 15e9: 10 %
    ],
)
def test_a_large_kitty_pays_out_ten_percent_and_at_least_the_minimum(world, failed_price, payout):
    big_pool = world.chain.create_workerpool(world.scheduler, "big", price=failed_price).return_value
    failed = world.task(workerpool=big_pool)
    world.advance_to(FINAL_DEADLINE)
    world.chain.claim(world.requester, failed)
    kitty = failed_price * 30 // 100
    assert world.chain.view_account(KITTY_ADDRESS).frozen == kitty

    task_id = world.task()
    world.contribute(world.workers[0], task_id)
    world.reveal(world.workers[0], task_id)
    receipt = world.chain.finalize(world.scheduler, task_id, b"r")
    assert world.chain.view_account(KITTY_ADDRESS).frozen == kitty - payout
    kitty_reward = [e for e in receipt.events if e.name == "Seize" and e.args["owner"] == KITTY_ADDRESS]
    assert kitty_reward[0].args["amount"] == payout
