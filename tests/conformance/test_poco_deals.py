"""Direct deal creation: checks, the deal snapshot and the escrow (poco.md §4, §5, §10.2)."""

from __future__ import annotations

import pytest

from poco_world import (
    APP_PRICE,
    DATASET_PRICE,
    FUNDS,
    SCHEDULER_STAKE,
    START_TIME,
    WORKER_STAKE,
    WORKERPOOL_PRICE,
    XS,
    assert_reverts,
    event_names,
)
from pocopool.chain import NO_RESOURCE
from pocopool.chain import errors as rule
from pocopool.protocol.crypto import ZERO_ADDRESS, keccak_hex
from pocopool.protocol.tags import int_to_tag


def expected_deal_id(requester: str, nonce: int) -> str:
    return keccak_hex(b"pocopool:deal" + bytes.fromhex(requester[2:]) + nonce.to_bytes(32, "big"))


def test_a_deal_snapshots_owners_prices_and_policy(world):
    deal = world.deal(dataset=world.dataset, trust=3, params='{"iexec_args":"hi"}', volume=2)
    assert deal.deal_id == expected_deal_id(world.requester.address, 0)
    assert (deal.app.pointer, deal.app.owner, deal.app.price) == (world.app, world.app_owner.address, APP_PRICE)
    assert (deal.dataset.pointer, deal.dataset.owner, deal.dataset.price) == (
        world.dataset,
        world.dataset_owner.address,
        DATASET_PRICE,
    )
    assert (deal.workerpool.pointer, deal.workerpool.owner, deal.workerpool.price) == (
        world.workerpool,
        world.scheduler.address,
        WORKERPOOL_PRICE,
    )
    assert (deal.trust, deal.category, deal.tag) == (3, XS, int_to_tag(0))
    assert (deal.requester, deal.sponsor, deal.beneficiary) == (world.requester.address,) * 3
    assert (deal.callback, deal.params) == (ZERO_ADDRESS, '{"iexec_args":"hi"}')
    assert (deal.start_time, deal.bot_first, deal.bot_size) == (START_TIME, 0, 2)
    assert (deal.worker_stake, deal.scheduler_reward_ratio) == (WORKER_STAKE, 1)


def test_successive_deals_of_a_requester_get_distinct_ids(world):
    first, second = world.deal(), world.deal()
    assert second.deal_id == expected_deal_id(world.requester.address, 1) != first.deal_id


def test_a_deal_without_dataset_has_the_empty_resource(world):
    assert world.deal().dataset == NO_RESOURCE


def test_trust_0_is_stored_as_1_and_the_beneficiary_can_be_someone_else(world):
    deal = world.deal(trust=0, beneficiary=world.stranger.address)
    assert deal.trust == 1
    assert deal.beneficiary == world.stranger.address


def test_the_deal_escrows_the_price_from_the_requester_and_the_stake_from_the_scheduler(world):
    receipt = world.chain.create_deal(world.requester, world.request(dataset=world.dataset, volume=3))
    task_price = APP_PRICE + DATASET_PRICE + WORKERPOOL_PRICE
    assert world.balance(world.requester) == FUNDS - 3 * task_price
    assert world.frozen(world.requester) == 3 * task_price
    assert world.balance(world.scheduler) == FUNDS - 3 * SCHEDULER_STAKE
    assert world.frozen(world.scheduler) == 3 * SCHEDULER_STAKE
    escrow = world.chain.escrow_address()
    assert event_names(receipt) == ["Transfer", "Lock", "Transfer", "Lock", "SchedulerNotice"]
    assert receipt.events[0].args == {"from": world.requester.address, "to": escrow, "value": 3 * task_price}
    assert receipt.events[1].args == {"owner": world.requester.address, "amount": 3 * task_price}
    assert receipt.events[3].args == {"owner": world.scheduler.address, "amount": 3 * SCHEDULER_STAKE}
    assert receipt.events[4].args == {"workerpool": world.workerpool, "dealid": receipt.return_value}


def test_the_scheduler_stake_is_floored_per_task_before_the_volume(world):
    pool = world.chain.create_workerpool(world.scheduler, "odd", price=333).return_value
    world.deal(workerpool=pool, volume=3)
    assert world.frozen(world.scheduler) == (333 * 30 // 100) * 3 == 297


def test_later_policy_changes_do_not_touch_an_existing_deal(world):
    deal = world.deal()
    world.chain.change_workerpool_policy(world.scheduler, world.workerpool, 50, 20)
    assert world.chain.view_deal(deal.deal_id) == deal
    assert world.deal().worker_stake == WORKERPOOL_PRICE // 2


def test_an_unknown_deal_reads_as_none(world):
    assert world.chain.view_deal("0x" + "77" * 32) is None


def test_a_volume_of_0_reverts(world):
    assert_reverts(rule.INVALID_VOLUME, world.chain, lambda: world.deal(volume=0))


def test_an_unknown_category_reverts(world):
    assert_reverts(rule.UNKNOWN_CATEGORY, world.chain, lambda: world.deal(category=5))


def test_an_unregistered_app_reverts(world):
    assert_reverts(rule.UNKNOWN_APP, world.chain, lambda: world.deal(app=world.stranger.address))


def test_an_unregistered_dataset_reverts(world):
    assert_reverts(rule.UNKNOWN_DATASET, world.chain, lambda: world.deal(dataset=world.stranger.address))


def test_an_unregistered_workerpool_reverts(world):
    assert_reverts(rule.UNKNOWN_WORKERPOOL, world.chain, lambda: world.deal(workerpool=world.stranger.address))


@pytest.mark.parametrize("resource", ["app", "dataset", "workerpool"])
def test_a_price_above_the_requester_maximum_reverts(world, resource):
    limits = {
        "app": {"app_max_price": APP_PRICE - 1},
        "dataset": {"dataset": world.dataset, "dataset_max_price": DATASET_PRICE - 1},
        "workerpool": {"workerpool_max_price": WORKERPOOL_PRICE - 1},
    }[resource]
    revert = assert_reverts(rule.MAX_PRICE_EXCEEDED, world.chain, lambda: world.deal(**limits))
    assert f"the {resource} costs" in revert.message


def test_prices_at_the_requester_maximum_are_accepted(world):
    deal = world.deal(
        app_max_price=APP_PRICE,
        dataset=world.dataset,
        dataset_max_price=DATASET_PRICE,
        workerpool_max_price=WORKERPOOL_PRICE,
    )
    assert deal.app.price == APP_PRICE


def test_a_tee_tag_needs_an_app_with_an_enclave_configuration(world):
    assert_reverts(rule.TEE_APP_REQUIRED, world.chain, lambda: world.deal(tag=int_to_tag(0x3)))
    assert world.deal(app=world.tee_app, tag=int_to_tag(0x3)).tag == int_to_tag(0x3)


def test_a_requester_without_the_price_cannot_make_a_deal(world):
    assert_reverts(
        rule.INSUFFICIENT_BALANCE, world.chain, lambda: world.chain.create_deal(world.stranger, world.request())
    )


def test_a_scheduler_without_the_stake_cannot_be_dealt_with_and_the_requester_keeps_its_funds(world):
    poor_pool = world.chain.create_workerpool(world.stranger, "poor", price=WORKERPOOL_PRICE).return_value
    assert_reverts(rule.INSUFFICIENT_BALANCE, world.chain, lambda: world.deal(workerpool=poor_pool))
    assert world.balance(world.requester) == FUNDS
    assert world.frozen(world.requester) == 0
    assert world.deal().deal_id == expected_deal_id(world.requester.address, 0)  # the nonce was not used
