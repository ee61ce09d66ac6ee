"""initialize, contribute, reveal and finalize, and a whole trust-1 task life (poco.md §7.1-§7.5, §10.3)."""

from __future__ import annotations

import pytest
from eth_account import Account

from poco_world import (
    APP_PRICE,
    DATASET_PRICE,
    FUNDS,
    START_TIME,
    VECTORS,
    WORKER_STAKE,
    WORKERPOOL_PRICE,
    assert_reverts,
    digest_of,
    event_names,
    key_of,
)
from pocopool.chain import errors as rule
from pocopool.protocol import crypto
from pocopool.protocol.crypto import ZERO_ADDRESS, ZERO_BYTES32, keccak, keccak_hex
from pocopool.protocol.statuses import ChainContributionStatus as CS
from pocopool.protocol.statuses import ChainTaskStatus as TS
from pocopool.protocol.tags import int_to_tag

DEADLINES = VECTORS["deadlines"]  # start 1 000 000, time ref 300 (category XS)
ENCLAVE = Account.from_key("0x" + "ee" * 32)
NOT_THE_ENCLAVE = "0x" + "e2" * 32


def enclave_sign(task_id: str, worker: str, result: str = "good", key: str = key_of(ENCLAVE)) -> str:
    digest = digest_of(result)
    message = keccak(
        bytes.fromhex(crypto.result_hash(task_id, digest)[2:])
        + bytes.fromhex(crypto.result_seal(worker, task_id, digest)[2:])
    )
    return crypto.sign_personal(key, message)


# ----- initialize -----------------------------------------------------------------------------------
def test_initialize_opens_the_task_with_deadlines_from_the_deal_start(world):
    deal = world.deal(volume=2)
    world.advance(1_000)  # initialization time does not matter: deadlines count from the deal
    receipt = world.chain.initialize(world.stranger, deal.deal_id, 1)  # anyone may initialize
    task_id = receipt.return_value
    assert task_id == crypto.task_id(deal.deal_id, 1)
    task = world.chain.view_task(task_id)
    assert (task.status, task.deal_id, task.idx, task.timeref) == (TS.ACTIVE, deal.deal_id, 1, 300)
    assert task.contribution_deadline == DEADLINES["contributionDeadline"]
    assert task.final_deadline == DEADLINES["finalDeadline"]
    assert (task.reveal_deadline, task.consensus_value, task.contributors) == (0, ZERO_BYTES32, ())
    assert event_names(receipt) == ["TaskInitialize"]
    assert receipt.events[0].args == {"taskid": task_id, "workerpool": world.workerpool}


def test_an_unknown_task_reads_as_unset(world):
    task = world.chain.view_task("0x" + "12" * 32)
    assert task.status is TS.UNSET and task.task_id == "0x" + "12" * 32
    assert world.chain.view_contribution("0x" + "12" * 32, world.workers[0].address).status is CS.UNSET


def test_initializing_an_unknown_deal_reverts(world):
    assert_reverts(rule.UNKNOWN_DEAL, world.chain, lambda: world.chain.initialize(world.scheduler, "0x" + "77" * 32, 0))


def test_initializing_outside_the_bag_of_tasks_reverts(world):
    deal = world.deal(volume=2)
    assert_reverts(
        rule.TASK_INDEX_OUT_OF_RANGE, world.chain, lambda: world.chain.initialize(world.scheduler, deal.deal_id, 2)
    )


def test_initializing_twice_reverts(world):
    deal = world.deal()
    world.chain.initialize(world.scheduler, deal.deal_id, 0)
    assert_reverts(
        rule.TASK_ALREADY_INITIALIZED, world.chain, lambda: world.chain.initialize(world.scheduler, deal.deal_id, 0)
    )


# ----- a whole trust-1 life -------------------------------------------------------------------------
def test_a_trust_1_task_lives_from_deal_to_finalize(world):
    worker, scheduler, requester = world.workers[0], world.scheduler, world.requester
    world.set_score(worker.address, 7)
    task_id = world.task(dataset=world.dataset)
    task_price = APP_PRICE + DATASET_PRICE + WORKERPOOL_PRICE

    contributed = world.contribute(worker, task_id)
    assert event_names(contributed) == ["Transfer", "Lock", "TaskContribute", "TaskConsensus"]
    good_hash = crypto.result_hash(task_id, digest_of("good"))
    assert contributed.events[2].args == {"taskid": task_id, "worker": worker.address, "hash": good_hash}
    assert contributed.events[3].args == {"taskid": task_id, "consensus": good_hash}
    assert world.frozen(worker) == WORKER_STAKE
    task = world.chain.view_task(task_id)
    assert (task.status, task.consensus_value) == (TS.REVEALING, good_hash)
    assert (task.winner_counter, task.reveal_counter) == (1, 0)
    assert task.reveal_deadline == START_TIME + 2 * 300
    assert task.contributors == (worker.address,)
    contribution = world.chain.view_contribution(task_id, worker.address)
    assert (contribution.status, contribution.result_hash, contribution.weight) == (CS.CONTRIBUTED, good_hash, 1)
    assert contribution.result_seal == crypto.result_seal(worker.address, task_id, digest_of("good"))

    world.advance(60)
    revealed = world.reveal(worker, task_id)
    assert event_names(revealed) == ["TaskReveal"]
    assert revealed.events[0].args == {"taskid": task_id, "worker": worker.address, "digest": digest_of("good")}
    task = world.chain.view_task(task_id)
    assert (task.reveal_counter, task.result_digest) == (1, digest_of("good"))
    assert world.chain.view_contribution(task_id, worker.address).status is CS.PROVED

    finalized = world.chain.finalize(scheduler, task_id, b'{"storage":"pocopool"}')
    assert event_names(finalized) == [
        "Seize",
        "Transfer",
        "Reward",
        "Transfer",
        "Reward",
        "Transfer",
        "Unlock",  # payer, app, dataset, stake
        "Transfer",
        "Unlock",
        "Transfer",
        "Reward",  # the worker: stake back, then its share
        "Transfer",
        "Reward",
        "TaskFinalize",  # the scheduler's share
    ]
    assert finalized.events[-1].args == {"taskid": task_id, "results": b'{"storage":"pocopool"}'}
    task = world.chain.view_task(task_id)
    assert (task.status, task.results, task.results_callback) == (TS.COMPLETED, b'{"storage":"pocopool"}', b"")

    worker_share = WORKERPOOL_PRICE * 99 // 100
    assert (world.balance(requester), world.frozen(requester)) == (FUNDS - task_price, 0)
    assert (world.balance(worker), world.frozen(worker)) == (FUNDS + worker_share, 0)
    assert (world.balance(scheduler), world.frozen(scheduler)) == (FUNDS + WORKERPOOL_PRICE - worker_share, 0)
    assert world.balance(world.app_owner) == APP_PRICE
    assert world.balance(world.dataset_owner) == DATASET_PRICE
    assert world.chain.view_account(world.chain.escrow_address()).balance == 0
    assert world.chain.view_score(worker.address) == 7  # one contributor: nothing to compare, no score change


# ----- contribute -----------------------------------------------------------------------------------
def test_contributing_to_a_task_that_is_not_initialized_reverts(world):
    task_id = crypto.task_id(world.deal().deal_id, 0)
    assert_reverts(rule.TASK_NOT_ACTIVE, world.chain, lambda: world.contribute(world.workers[0], task_id))


def test_contributing_after_consensus_reverts(world):
    task_id = world.task()
    world.contribute(world.workers[0], task_id)
    assert_reverts(rule.TASK_NOT_ACTIVE, world.chain, lambda: world.contribute(world.workers[1], task_id))


def test_a_worker_contributes_only_once(world):
    task_id = world.task(trust=3)
    world.contribute(world.workers[0], task_id)
    assert_reverts(rule.ALREADY_CONTRIBUTED, world.chain, lambda: world.contribute(world.workers[0], task_id, "bad"))


def test_a_tee_deal_needs_an_enclave_challenge(world):
    task_id = world.task(app=world.tee_app, tag=int_to_tag(0x3))
    assert_reverts(rule.ENCLAVE_CHALLENGE_REQUIRED, world.chain, lambda: world.contribute(world.workers[0], task_id))


def test_a_tee_contribution_is_signed_by_the_enclave(world):
    worker = world.workers[0]
    task_id = world.task(app=world.tee_app, tag=int_to_tag(0x3))
    world.contribute(
        worker,
        task_id,
        enclave_challenge=ENCLAVE.address,
        authorization_sign=world.authorization(worker, task_id, ENCLAVE.address),
        enclave_sign=enclave_sign(task_id, worker.address),
    )
    assert world.chain.view_contribution(task_id, worker.address).enclave_challenge == ENCLAVE.address


def test_a_wrong_enclave_signature_reverts(world):
    worker = world.workers[0]
    task_id = world.task(trust=3)  # a standard deal may carry an enclave challenge too
    wrong_signatures = (
        enclave_sign(task_id, worker.address, "bad"),
        enclave_sign(task_id, worker.address, key=NOT_THE_ENCLAVE),
        "0x1234",
    )
    for signature in wrong_signatures:
        assert_reverts(
            rule.INVALID_ENCLAVE_SIGNATURE,
            world.chain,
            lambda signature=signature: world.contribute(
                worker,
                task_id,
                enclave_challenge=ENCLAVE.address,
                enclave_sign=signature,
                authorization_sign=world.authorization(worker, task_id, ENCLAVE.address),
            ),
        )


@pytest.mark.parametrize("case", ["stranger-signed", "other-worker", "other-challenge", "garbage", "empty"])
def test_a_contribution_needs_the_scheduler_authorization_for_this_worker_and_task(world, case):
    worker, other = world.workers[0], world.workers[1]
    task_id = world.task()
    signature = {
        "stranger-signed": lambda: world.authorization(worker, task_id, signer=world.stranger),
        "other-worker": lambda: world.authorization(other, task_id),
        "other-challenge": lambda: world.authorization(worker, task_id, ENCLAVE.address),
        "garbage": lambda: "0x" + "11" * 65,
        "empty": lambda: "",
    }[case]()
    assert_reverts(
        rule.INVALID_AUTHORIZATION, world.chain, lambda: world.contribute(worker, task_id, authorization_sign=signature)
    )


def test_a_worker_without_the_stake_cannot_contribute(world):
    task_id = world.task()
    poor = world.stranger
    assert_reverts(rule.INSUFFICIENT_BALANCE, world.chain, lambda: world.contribute(poor, task_id))
    assert world.chain.view_task(task_id).contributors == ()


def test_a_malformed_result_hash_reverts(world):
    task_id = world.task()
    assert_reverts(
        rule.INVALID_ARGUMENT, world.chain, lambda: world.contribute(world.workers[0], task_id, result_hash="0x1234")
    )


# ----- reveal ---------------------------------------------------------------------------------------
def test_revealing_before_consensus_reverts(world):
    task_id = world.task(trust=3)
    world.contribute(world.workers[0], task_id)
    assert_reverts(rule.TASK_NOT_REVEALING, world.chain, lambda: world.reveal(world.workers[0], task_id))


def test_only_a_contributor_can_reveal_and_only_once(world):
    task_id = world.task()
    world.contribute(world.workers[0], task_id)
    assert_reverts(rule.NOT_CONTRIBUTED, world.chain, lambda: world.reveal(world.workers[1], task_id))
    world.reveal(world.workers[0], task_id)
    revert = assert_reverts(rule.NOT_CONTRIBUTED, world.chain, lambda: world.reveal(world.workers[0], task_id))
    assert "PROVED" in revert.message


def test_a_loser_cannot_reveal(world):
    task_id = world.task(trust=3)
    world.contribute(world.workers[0], task_id, "bad")
    world.reach_consensus(task_id, world.workers[1:4])
    assert world.chain.view_task(task_id).status is TS.REVEALING
    assert_reverts(rule.NOT_IN_CONSENSUS, world.chain, lambda: world.reveal(world.workers[0], task_id, "bad"))


def test_revealing_another_digest_reverts(world):
    task_id = world.task()
    world.contribute(world.workers[0], task_id)
    assert_reverts(rule.WRONG_RESULT_HASH, world.chain, lambda: world.reveal(world.workers[0], task_id, "bad"))


def test_a_copied_vote_cannot_be_revealed(world):
    """The seal binds the vote to its worker: copying another worker's hash and seal gains nothing."""
    honest, copier = world.workers[0], world.workers[1]
    task_id = world.task(trust=3)
    digest = digest_of("good")
    world.contribute(honest, task_id)
    world.contribute(copier, task_id, result_seal=crypto.result_seal(honest.address, task_id, digest))
    assert_reverts(rule.WRONG_RESULT_SEAL, world.chain, lambda: world.reveal(copier, task_id))


# ----- finalize -------------------------------------------------------------------------------------
def test_only_the_scheduler_finalizes(world):
    task_id = world.task()
    world.contribute(world.workers[0], task_id)
    world.reveal(world.workers[0], task_id)
    assert_reverts(rule.ONLY_SCHEDULER, world.chain, lambda: world.chain.finalize(world.stranger, task_id, b""))
    assert_reverts(
        rule.ONLY_SCHEDULER, world.chain, lambda: world.chain.finalize(world.scheduler, "0x" + "12" * 32, b"")
    )


def test_finalizing_an_active_task_reverts(world):
    task_id = world.task()
    assert_reverts(rule.TASK_NOT_REVEALING, world.chain, lambda: world.chain.finalize(world.scheduler, task_id, b""))


def test_finalizing_needs_every_winner_revealed_or_one_and_the_reveal_deadline(world):
    task_id = world.task(trust=3)
    world.reach_consensus(task_id, world.workers[:2])
    finalize = lambda: world.chain.finalize(world.scheduler, task_id, b"r")  # noqa: E731
    assert_reverts(rule.REVEALS_PENDING, world.chain, finalize)
    world.reveal(world.workers[0], task_id)
    assert_reverts(rule.REVEALS_PENDING, world.chain, finalize)
    world.advance_to(world.chain.view_task(task_id).reveal_deadline)
    finalize()
    assert world.chain.view_task(task_id).status is TS.COMPLETED
    # the winner who did not reveal is treated as a loser: stake seized, score cut
    assert world.frozen(world.workers[1]) == 0
    assert world.balance(world.workers[1]) == FUNDS - WORKER_STAKE


def test_nobody_revealed_means_no_finalize_even_after_the_reveal_deadline(world):
    task_id = world.task()
    world.contribute(world.workers[0], task_id)
    world.advance_to(world.chain.view_task(task_id).reveal_deadline)
    assert_reverts(rule.REVEALS_PENDING, world.chain, lambda: world.chain.finalize(world.scheduler, task_id, b""))


def test_finalizing_after_the_final_deadline_reverts(world):
    task_id = world.task()
    world.contribute(world.workers[0], task_id)
    world.reveal(world.workers[0], task_id)
    world.advance_to(world.chain.view_task(task_id).final_deadline)
    assert_reverts(rule.FINAL_DEADLINE_PASSED, world.chain, lambda: world.chain.finalize(world.scheduler, task_id, b""))


def test_a_callback_deal_is_finalized_with_the_data_the_workers_voted_on(world):
    callback_data = b"\x00\x01callback"
    task_id = world.task(callback=world.stranger.address)
    worker = world.workers[0]
    digest = keccak_hex(callback_data)
    world.chain.contribute(
        worker,
        task_id,
        crypto.result_hash(task_id, digest),
        crypto.result_seal(worker.address, task_id, digest),
        ZERO_ADDRESS,
        "",
        world.authorization(worker, task_id),
    )
    world.chain.reveal(worker, task_id, digest)
    for wrong in (b"", b"other"):
        assert_reverts(
            rule.WRONG_RESULTS_CALLBACK,
            world.chain,
            lambda wrong=wrong: world.chain.finalize(world.scheduler, task_id, b"r", wrong),
        )
    world.chain.finalize(world.scheduler, task_id, b"r", callback_data)
    assert world.chain.view_task(task_id).results_callback == callback_data


def test_a_standard_deal_refuses_callback_data_that_is_not_its_result(world):
    task_id = world.task()
    world.contribute(world.workers[0], task_id)
    world.reveal(world.workers[0], task_id)
    assert_reverts(
        rule.WRONG_RESULTS_CALLBACK,
        world.chain,
        lambda: world.chain.finalize(world.scheduler, task_id, b"r", b"unexpected"),
    )
