"""contributeAndFinalize: the one-shot path of trust-1 tasks (poco.md §7.6)."""

from __future__ import annotations

from eth_account import Account

from poco_world import (
    APP_PRICE,
    FUNDS,
    START_TIME,
    VECTORS,
    WORKERPOOL_PRICE,
    assert_reverts,
    digest_of,
    event_names,
    key_of,
)
from pocopool.chain import errors as rule
from pocopool.protocol import crypto
from pocopool.protocol.crypto import keccak, keccak_hex
from pocopool.protocol.statuses import ChainContributionStatus as CS
from pocopool.protocol.statuses import ChainTaskStatus as TS
from pocopool.protocol.tags import int_to_tag

ENCLAVE = Account.from_key("0x" + "ee" * 32)


def enclave_sign(task_id: str, worker: str, result: str = "good") -> str:
    digest = digest_of(result)
    message = keccak(
        bytes.fromhex(crypto.result_hash(task_id, digest)[2:])
        + bytes.fromhex(crypto.result_seal(worker, task_id, digest)[2:])
    )
    return crypto.sign_personal(key_of(ENCLAVE), message)


def test_contribute_and_finalize_completes_the_task_in_one_transaction(world):
    worker = world.workers[0]
    world.set_score(worker.address, 5)
    task_id = world.task()
    receipt = world.contribute_and_finalize(worker, task_id, results=b'{"storage":"x"}')

    digest = digest_of("good")
    good_hash = crypto.result_hash(task_id, digest)
    names = event_names(receipt)
    assert names[-4:] == ["TaskContribute", "TaskConsensus", "TaskReveal", "TaskFinalize"]
    assert "Lock" not in names  # no worker stake on this path
    assert receipt.events[-4].args == {"taskid": task_id, "worker": worker.address, "hash": good_hash}
    assert receipt.events[-1].args == {"taskid": task_id, "results": b'{"storage":"x"}'}

    task = world.chain.view_task(task_id)
    assert (task.status, task.consensus_value, task.result_digest) == (TS.COMPLETED, good_hash, digest)
    assert (task.reveal_counter, task.winner_counter, task.contributors) == (1, 1, (worker.address,))
    assert task.reveal_deadline == START_TIME + 2 * 300
    assert task.results == b'{"storage":"x"}'
    contribution = world.chain.view_contribution(task_id, worker.address)
    assert (contribution.status, contribution.result_hash, contribution.weight) == (CS.PROVED, good_hash, 0)
    assert contribution.result_seal == crypto.result_seal(worker.address, task_id, digest)

    worker_reward = WORKERPOOL_PRICE * 99 // 100
    assert (world.balance(worker), world.frozen(worker)) == (FUNDS + worker_reward, 0)
    assert world.balance(world.scheduler) == FUNDS + WORKERPOOL_PRICE - worker_reward
    assert world.balance(world.requester) == FUNDS - APP_PRICE - WORKERPOOL_PRICE
    assert world.chain.view_score(worker.address) == 5


def test_a_tee_task_is_contributed_and_finalized_with_the_enclave_signature(world):
    worker = world.workers[0]
    task_id = world.task(app=world.tee_app, tag=int_to_tag(0x5))
    world.contribute_and_finalize(
        worker,
        task_id,
        enclave_challenge=ENCLAVE.address,
        authorization_sign=world.authorization(worker, task_id, ENCLAVE.address),
        enclave_sign=enclave_sign(task_id, worker.address),
    )
    assert world.chain.view_task(task_id).status is TS.COMPLETED


def test_a_tee_task_needs_its_enclave_challenge_and_signature(world):
    worker = world.workers[0]
    task_id = world.task(app=world.tee_app, tag=int_to_tag(0x5))
    assert_reverts(rule.ENCLAVE_CHALLENGE_REQUIRED, world.chain, lambda: world.contribute_and_finalize(worker, task_id))
    assert_reverts(
        rule.INVALID_ENCLAVE_SIGNATURE,
        world.chain,
        lambda: world.contribute_and_finalize(
            worker,
            task_id,
            enclave_challenge=ENCLAVE.address,
            authorization_sign=world.authorization(worker, task_id, ENCLAVE.address),
            enclave_sign=enclave_sign(task_id, worker.address, "bad"),
        ),
    )


def test_contribute_and_finalize_needs_the_scheduler_authorization(world):
    worker = world.workers[0]
    task_id = world.task()
    assert_reverts(
        rule.INVALID_AUTHORIZATION,
        world.chain,
        lambda: world.contribute_and_finalize(
            worker, task_id, authorization_sign=world.authorization(worker, task_id, signer=world.stranger)
        ),
    )


def test_contribute_and_finalize_needs_an_active_task(world):
    task_id = crypto.task_id(world.deal().deal_id, 0)
    assert_reverts(rule.TASK_NOT_ACTIVE, world.chain, lambda: world.contribute_and_finalize(world.workers[0], task_id))


def test_contribute_and_finalize_needs_the_contribution_deadline_ahead(world):
    task_id = world.task()
    world.advance_to(VECTORS["deadlines"]["contributionDeadline"])
    assert_reverts(
        rule.CONTRIBUTION_DEADLINE_PASSED, world.chain, lambda: world.contribute_and_finalize(world.workers[0], task_id)
    )


def test_contribute_and_finalize_needs_a_task_nobody_contributed_to(world):
    """A trust-1 task reopened after a silent winner is ACTIVE again, but not fresh."""
    task_id = world.task()
    world.contribute(world.workers[1], task_id)
    world.advance_to(world.chain.view_task(task_id).reveal_deadline)
    world.chain.reopen(world.scheduler, task_id)
    assert_reverts(
        rule.TASK_ALREADY_CONTRIBUTED, world.chain, lambda: world.contribute_and_finalize(world.workers[0], task_id)
    )


def test_contribute_and_finalize_needs_trust_1(world):
    task_id = world.task(trust=2)
    assert_reverts(rule.TRUST_NOT_1, world.chain, lambda: world.contribute_and_finalize(world.workers[0], task_id))


def test_contribute_and_finalize_checks_the_callback_data_against_the_digest(world):
    callback_data = b"\xca\x11"
    task_id = world.task(callback=world.stranger.address)
    worker = world.workers[0]
    assert_reverts(
        rule.WRONG_RESULTS_CALLBACK,
        world.chain,
        lambda: world.contribute_and_finalize(worker, task_id, results_callback=b"other"),
    )
    digest = keccak_hex(callback_data)
    world.chain.contribute_and_finalize(
        worker, task_id, digest, b"r", callback_data, crypto.ZERO_ADDRESS, "", world.authorization(worker, task_id)
    )
    assert world.chain.view_task(task_id).results_callback == callback_data
