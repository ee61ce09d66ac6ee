"""The CONTRIBUTE_AND_FINALIZE stage against a real LocalChain (spec/worker.md §6.12): a trust-1 TEE
task finalized in one transaction signed by a real enclave key, with and without a callback, and the
checks that refuse before any gas is spent.

The enclave signature is put in the replicate state the way the TEE compute stage leaves it
(`ReplicateState.enclave_signature`); this test sets it as post-compute would.
"""

from __future__ import annotations

import json

from eth_account import Account
from test_worker_stages import KEYS, World, push, runtime, world  # noqa: F401 - fixtures

from pocopool.chain import DealRequest
from pocopool.protocol.crypto import ZERO_ADDRESS, keccak_hex, key_hex, result_hash, result_link, sign_authorization
from pocopool.protocol.models import Signature, WorkerpoolAuthorization
from pocopool.protocol.statuses import (
    ChainTaskStatus,
)
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
)
from pocopool.protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from pocopool.protocol.statuses import (
    TaskNotificationType as Next,
)
from pocopool.protocol.tags import int_to_tag
from pocopool.protocol.tee import sign_enclave_result
from pocopool.worker.context import ReplicateContext
from pocopool.worker.logs import get_logger
from pocopool.worker.stages import STAGES, contribute_and_finalize
from pocopool.worker.state import ReplicateState
from proving import assert_reported

ENCLAVE = Account.from_key("0x" + "e7" * 32)
OTHER = Account.from_key("0x" + "e8" * 32)
LINK = result_link("ipfs", "/ipfs/QmTee")
PLEASE = Next.PLEASE_CONTRIBUTE_AND_FINALIZE


def tee_task(world: World, *, trust: int = 1, callback: str = ZERO_ADDRESS) -> tuple[str, str]:
    app = world.chain.create_app(
        world.accounts["app_owner"],
        "tee",
        "http://unused/app.zip",
        "0x" + "ab" * 32,
        mrenclave=json.dumps({"provider": "GRAMINE"}),
    ).return_value
    request = DealRequest(
        app=app,
        workerpool=world.workerpool,
        category=0,
        trust=trust,
        tag=int_to_tag(0x5),
        params="{}",
        callback=callback,
    )
    deal_id = world.chain.create_deal(world.accounts["requester"], request).return_value
    return deal_id, world.chain.initialize(world.accounts["scheduler"], deal_id, 0).return_value


def tee_context(
    world: World,
    deal_id: str,
    task_id: str,
    digest: str,
    *,
    signer: Account = ENCLAVE,
    link: str | None = LINK,
    callback_data: str | None = None,
) -> ReplicateContext:
    wallet = world.worker.address
    authorization = WorkerpoolAuthorization(
        chainTaskId=task_id,
        dealId=deal_id,
        taskIndex=0,
        workerWallet=wallet,
        enclaveChallenge=ENCLAVE.address,
        signature=Signature(value=sign_authorization(KEYS["scheduler"], wallet, task_id, ENCLAVE.address)),
    )
    paths = world.workspace.task(task_id)
    paths.root.mkdir(parents=True, exist_ok=True)
    state = ReplicateState(
        task_id, authorization.wire(), result_digest=digest, result_link=link, callback_data=callback_data
    )
    state.enclave_signature = sign_enclave_result(key_hex(signer), wallet, task_id, digest)
    return ReplicateContext(world.services, task_id, paths, state, get_logger("test", task=task_id))


def test_the_stage_is_run_on_please_contribute_and_finalize():
    stage = STAGES[PLEASE]
    assert (stage.running, stage.done, stage.failed) == (
        RS.CONTRIBUTE_AND_FINALIZE_ONGOING,
        RS.CONTRIBUTE_AND_FINALIZE_DONE,
        RS.CONTRIBUTE_AND_FINALIZE_FAILED,
    )


async def test_a_trust_1_tee_task_is_contributed_and_finalized_in_one_transaction(world: World) -> None:
    deal_id, task_id = tee_task(world)
    digest = keccak_hex(b"tee result")
    ctx = tee_context(world, deal_id, task_id, digest)
    done = await contribute_and_finalize.run(ctx, push(task_id, PLEASE))
    assert done.status is RS.CONTRIBUTE_AND_FINALIZE_DONE, done
    assert done.details.resultLink == LINK and done.details.chainReceipt.blockNumber > 0
    chain_task = world.chain.view_task(task_id)
    assert chain_task.status is ChainTaskStatus.COMPLETED
    assert (chain_task.results, chain_task.consensus_value) == (LINK.encode(), result_hash(task_id, digest))
    again = await contribute_and_finalize.run(ctx, push(task_id, PLEASE))
    assert again == done  # a replayed request reports the same receipt, no second transaction


async def test_a_callback_deal_contributes_its_callback_data_and_no_result_link(world: World) -> None:
    deal_id, task_id = tee_task(world, callback=world.accounts["stranger"].address)
    data = "0x" + "00" * 31 + "2a"
    digest = keccak_hex(bytes.fromhex(data[2:]))
    ctx = tee_context(world, deal_id, task_id, digest, link=None, callback_data=data)
    done = await contribute_and_finalize.run(ctx, push(task_id, PLEASE))
    assert done.status is RS.CONTRIBUTE_AND_FINALIZE_DONE, done
    assert done.details.chainCallbackData == data
    assert done.details.resultLink == result_link("ethereum", world.accounts["stranger"].address)
    chain_task = world.chain.view_task(task_id)
    assert (chain_task.status, chain_task.results, chain_task.results_callback) == (
        ChainTaskStatus.COMPLETED,
        b"",
        bytes.fromhex(data[2:]),
    )


async def test_a_result_not_signed_by_the_enclave_challenge_is_refused_before_any_transaction(world: World) -> None:
    deal_id, task_id = tee_task(world)
    ctx = tee_context(world, deal_id, task_id, keccak_hex(b"x"), signer=OTHER)
    outcome = await contribute_and_finalize.run(ctx, push(task_id, PLEASE))
    assert (outcome.status, outcome.cause) == (
        RS.CONTRIBUTE_AND_FINALIZE_FAILED,
        Cause.POST_COMPUTE_INVALID_TEE_SIGNATURE,
    )
    assert OTHER.address in outcome.details.errorMessage
    assert world.chain.view_task(task_id).status is ChainTaskStatus.ACTIVE


async def test_no_enclave_signature_is_enclave_signature_not_found(world: World) -> None:
    deal_id, task_id = tee_task(world)
    ctx = tee_context(world, deal_id, task_id, keccak_hex(b"x"))
    ctx.state.enclave_signature = None  # type: ignore[attr-defined]
    outcome = await contribute_and_finalize.run(ctx, push(task_id, PLEASE))
    assert (outcome.status, outcome.cause) == (RS.CONTRIBUTE_AND_FINALIZE_FAILED, Cause.ENCLAVE_SIGNATURE_NOT_FOUND)
    assert_reported(
        [(outcome.status.value, outcome.cause.value, outcome.details.errorMessage)],
        status="CONTRIBUTE_AND_FINALIZE_FAILED",
        cause="ENCLAVE_SIGNATURE_NOT_FOUND",
        error="left no result signature",
        component="worker",
        fix="TEE setup",
    )


async def test_a_deal_of_trust_2_is_trust_not_1(world: World) -> None:
    deal_id, task_id = tee_task(world, trust=2)
    outcome = await contribute_and_finalize.run(
        tee_context(world, deal_id, task_id, keccak_hex(b"x")), push(task_id, PLEASE)
    )
    assert (outcome.status, outcome.cause) == (RS.CONTRIBUTE_AND_FINALIZE_FAILED, Cause.TRUST_NOT_1)
    assert_reported(
        [(outcome.status.value, outcome.cause.value, outcome.details.errorMessage)],
        status="CONTRIBUTE_AND_FINALIZE_FAILED",
        cause="TRUST_NOT_1",
        error="trust",
        component="requester",
        fix="trust 1",
    )


async def test_no_result_link_is_result_link_missing(world: World) -> None:
    deal_id, task_id = tee_task(world)
    ctx = tee_context(world, deal_id, task_id, keccak_hex(b"x"), link=None)
    outcome = await contribute_and_finalize.run(ctx, push(task_id, PLEASE))
    assert (outcome.status, outcome.cause) == (RS.CONTRIBUTE_AND_FINALIZE_FAILED, Cause.RESULT_LINK_MISSING)
