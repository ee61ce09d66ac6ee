"""A new ledger, accounts, the devnet faucet, transfers, categories, blocks and events (poco.md §2, §10, §11, §17)."""

from __future__ import annotations

import pytest
from eth_account import Account

from poco_world import FUNDS, KEYS, START_TIME, assert_reverts, event_names
from pocopool.chain import ChainRevert
from pocopool.chain import errors as rule
from pocopool.protocol.crypto import ZERO_ADDRESS
from pocopool.protocol.time import STANDARD_CATEGORIES

OWNER = Account.from_key(KEYS["owner"])
ALICE = Account.from_key(KEYS["requester"])
BOB = Account.from_key(KEYS["stranger"])


def test_a_new_ledger_has_its_owner_a_genesis_block_and_the_five_standard_categories(chain):
    assert chain.owner() == OWNER.address
    assert chain.chain_id() > 0
    assert chain.latest_block().number == 0
    assert chain.latest_block().timestamp == START_TIME
    assert chain.now() == START_TIME
    assert chain.category_count() == 5
    for category_id, (name, time_ref) in enumerate(STANDARD_CATEGORIES):
        category = chain.view_category(category_id)
        assert (category.id, category.name, category.work_clock_time_ref) == (category_id, name, time_ref)
    assert chain.total_supply() == 0
    assert [e.name for e in chain.events(0)] == ["CreateCategory"] * 5


def test_on_a_ledger_without_gas_every_sender_can_pay_for_its_transactions(chain):
    """LocalChain has no gas; the test nodes charge none (decision 126: the devnet's node does)."""
    budget = chain.gas_budget(BOB.address)
    assert budget.price == 0 and budget.cost(1_000_000) == 0 and budget.can_pay(1_000_000)


def test_an_unknown_category_reads_as_a_revert(chain):
    with pytest.raises(ChainRevert) as raised:
        chain.view_category(5)
    assert raised.value.rule == rule.UNKNOWN_CATEGORY


def test_the_owner_mints_free_balance_and_the_total_supply_follows(chain):
    receipt = chain.mint(OWNER, ALICE.address, 5_000)
    assert chain.view_account(ALICE.address).balance == 5_000
    assert chain.view_account(ALICE.address).frozen == 0
    assert chain.total_supply() == 5_000
    assert event_names(receipt) == ["Transfer"]
    assert receipt.events[0].args == {"from": ZERO_ADDRESS, "to": ALICE.address, "value": 5_000}


def test_only_the_owner_mints(chain):
    assert_reverts(rule.ONLY_OWNER, chain, lambda: chain.mint(ALICE, ALICE.address, 1))
    assert chain.view_account(ALICE.address).balance == 0


def test_minting_to_the_zero_address_reverts(chain):
    assert_reverts(rule.ZERO_ADDRESS_NOT_ALLOWED, chain, lambda: chain.mint(OWNER, ZERO_ADDRESS, 1))


def test_amounts_beyond_2_pow_63_are_kept_exactly(chain):
    chain.mint(OWNER, ALICE.address, 2**200 + 1)
    chain.transfer(ALICE, BOB.address, 2**199)
    assert chain.view_account(ALICE.address).balance == 2**199 + 1
    assert chain.view_account(BOB.address).balance == 2**199
    assert chain.total_supply() == 2**200 + 1


def test_uint256_overflow_reverts(chain):
    chain.mint(OWNER, ALICE.address, 2**256 - 1)
    assert_reverts(rule.ARITHMETIC_OVERFLOW, chain, lambda: chain.mint(OWNER, BOB.address, 1))


def test_a_transfer_moves_free_balance(chain):
    chain.mint(OWNER, ALICE.address, FUNDS)
    receipt = chain.transfer(ALICE, BOB.address, 300)
    assert chain.view_account(ALICE.address).balance == FUNDS - 300
    assert chain.view_account(BOB.address).balance == 300
    assert receipt.events[0].name == "Transfer"
    assert receipt.events[0].args == {"from": ALICE.address, "to": BOB.address, "value": 300}


def test_a_transfer_beyond_the_free_balance_reverts_and_changes_nothing(chain):
    chain.mint(OWNER, ALICE.address, 100)
    revert = assert_reverts(rule.INSUFFICIENT_BALANCE, chain, lambda: chain.transfer(ALICE, BOB.address, 101))
    assert "100" in revert.message and "101" in revert.message
    assert chain.view_account(ALICE.address).balance == 100
    assert chain.view_account(BOB.address).balance == 0


def test_a_transfer_to_the_zero_address_reverts(chain):
    chain.mint(OWNER, ALICE.address, 100)
    assert_reverts(rule.ZERO_ADDRESS_NOT_ALLOWED, chain, lambda: chain.transfer(ALICE, ZERO_ADDRESS, 1))


@pytest.mark.parametrize("amount", [-1, 2**256, 1.5, "10", True])
def test_an_amount_that_is_not_a_uint256_reverts(chain, amount):
    chain.mint(OWNER, ALICE.address, 100)
    assert_reverts(rule.INVALID_ARGUMENT, chain, lambda: chain.transfer(ALICE, BOB.address, amount))


def test_a_malformed_address_reverts(chain):
    assert_reverts(rule.INVALID_ARGUMENT, chain, lambda: chain.mint(OWNER, "0x1234", 1))


def test_the_owner_creates_a_category_and_gets_its_id(chain):
    receipt = chain.create_category(OWNER, "TEST", "a short one", 2)
    assert receipt.return_value == 5
    assert chain.category_count() == 6
    category = chain.view_category(5)
    assert (category.name, category.description, category.work_clock_time_ref) == ("TEST", "a short one", 2)
    assert receipt.events[0].name == "CreateCategory"
    assert receipt.events[0].args == {"catid": 5, "name": "TEST", "description": "a short one", "workClockTimeRef": 2}


def test_only_the_owner_creates_categories(chain):
    assert_reverts(rule.ONLY_OWNER, chain, lambda: chain.create_category(ALICE, "X", "", 10))
    assert chain.category_count() == 5


def test_every_transaction_appends_one_block_at_the_clock_time(chain, advance):
    first = chain.mint(OWNER, ALICE.address, 1)
    advance(12)
    second = chain.mint(OWNER, ALICE.address, 1)
    assert (first.block_number, second.block_number) == (1, 2)
    assert (first.timestamp, second.timestamp) == (START_TIME, START_TIME + 12)
    assert chain.latest_block().number == 2
    assert chain.latest_block().timestamp == START_TIME + 12
    assert first.tx_hash != second.tx_hash
    assert all(e.tx_hash == second.tx_hash and e.block_number == 2 for e in second.events)


def test_events_come_back_in_chain_order_filtered_by_block_range_and_name(chain):
    receipts = [
        chain.mint(OWNER, ALICE.address, 10),
        chain.transfer(ALICE, BOB.address, 3),
        chain.create_category(OWNER, "T", "", 5),
    ]
    all_events = chain.events(1)
    assert all_events == [e for r in receipts for e in r.events]
    positions = [(e.block_number, e.log_index) for e in all_events]
    assert positions == sorted(positions)
    assert chain.events(2, 2) == list(receipts[1].events)
    assert [e.name for e in chain.events(0, None, ("CreateCategory",))] == ["CreateCategory"] * 6
    assert chain.events(1, None, ("Transfer",)) == list(receipts[0].events) + list(receipts[1].events)
    assert chain.events(4) == []
    assert chain.events(3, 2) == []


def test_a_revert_leaves_no_block_and_no_event(chain):
    chain.mint(OWNER, ALICE.address, 10)
    events_before = chain.events(0)
    assert_reverts(rule.INSUFFICIENT_BALANCE, chain, lambda: chain.transfer(ALICE, BOB.address, 11))
    assert chain.events(0) == events_before
