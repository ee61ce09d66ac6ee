"""CONTRIBUTE (PLEASE_CONTRIBUTE): send resultHash and resultSeal on chain (spec/worker.md §6.8-§6.9)."""

from __future__ import annotations

import asyncio

from ...chain import errors as rules
from ...chain.aio import chain_read
from ...chain.base import ChainError, ChainRevert, OutOfGas
from ...protocol.crypto import ZERO_ADDRESS, result_hash, result_seal
from ...protocol.models import TaskNotification
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..context import ReplicateContext
from ..gas import CONTRIBUTE_GAS, shortage
from ..preflight import causes, preflight
from .outcome import Outcome, failed, failed_each, receipt, succeeded

STANDARD_ENCLAVE_SIGNATURE = "0x"  # ignored by the contract when the enclave challenge is zero

# Reverts whose rule has its own replicate cause; any other is CHAIN_RECEIPT_NOT_VALID.
REVERT_CAUSES: dict[str, Cause] = {
    rules.TASK_NOT_ACTIVE: Cause.TASK_NOT_ACTIVE,
    rules.CONTRIBUTION_DEADLINE_PASSED: Cause.CONTRIBUTION_TIMEOUT,
    rules.INSUFFICIENT_BALANCE: Cause.STAKE_TOO_LOW,
    rules.ALREADY_CONTRIBUTED: Cause.CONTRIBUTION_ALREADY_SET,
}


def revert_cause(rule: str) -> Cause:
    return REVERT_CAUSES.get(rule, Cause.CHAIN_RECEIPT_NOT_VALID)


async def eth_check(ctx: ReplicateContext, status: RS, gas: int, transaction: str) -> Outcome | None:
    """The ETH check before a transaction (spec/worker.md §6.9 step 2): `status` with OUT_OF_GAS if the
    wallet cannot pay `gas` at the chain's price, saying how much it needs; None if it can (always on a
    chain without gas, worker/gas.py)."""
    chain = ctx.services.chain
    try:
        lacking = await chain_read(chain, shortage, chain, ctx.wallet, gas, f"the {transaction} transaction")
    except ChainError as error:
        return failed(status, Cause.CHAIN_UNREACHABLE, f"cannot read the wallet's balance on chain: {error}")
    if lacking is None:
        return None
    ctx.log.error("out-of-gas", balance=lacking.budget.balance, needed=lacking.budget.cost(gas), gas=gas)
    return failed(status, Cause.OUT_OF_GAS, lacking.message)


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    if ctx.state.contribution:  # mined before a restart or a lost answer: report it again, never twice on chain
        return succeeded(RS.CONTRIBUTED, chainReceipt=receipt(**_receipt_args(ctx.state.contribution)))
    failures = await preflight(ctx)
    if failures:
        return failed_each(RS.CONTRIBUTE_FAILED, causes(failures))
    unpaid = await eth_check(ctx, RS.CONTRIBUTE_FAILED, CONTRIBUTE_GAS, "contribute")
    if unpaid is not None:
        return unpaid
    digest = ctx.state.result_digest
    if not digest:
        return failed(
            RS.CONTRIBUTE_FAILED, Cause.DETERMINISM_HASH_NOT_FOUND, "no result digest: the result was not computed"
        )
    task, wallet = ctx.chain_task_id, ctx.wallet
    authorization = ctx.state.workerpool_authorization
    vote, seal = result_hash(task, digest), result_seal(wallet, task, digest)
    try:
        mined = await asyncio.to_thread(
            ctx.services.chain.contribute,
            ctx.services.account,
            task,
            vote,
            seal,
            ZERO_ADDRESS,
            STANDARD_ENCLAVE_SIGNATURE,
            authorization.signature.value,
        )
    except ChainRevert as revert:
        return failed(
            RS.CONTRIBUTE_FAILED, revert_cause(revert.rule), f"contribute reverted: {revert.rule}: {revert.message}"
        )
    except OutOfGas as error:  # the wallet was emptied between the check and the transaction
        return failed(RS.CONTRIBUTE_FAILED, Cause.OUT_OF_GAS, f"contribute refused: {error}")
    except ChainError as error:
        return failed(RS.CONTRIBUTE_FAILED, Cause.CHAIN_RECEIPT_NOT_VALID, f"contribute failed: {error}")
    if mined.block_number <= 0:
        return failed(RS.CONTRIBUTE_FAILED, Cause.CHAIN_RECEIPT_NOT_VALID, f"contribute receipt has no block: {mined}")
    ctx.state.contribution = {"blockNumber": mined.block_number, "txHash": mined.tx_hash}
    ctx.save()
    ctx.log.info("contributed", result_hash=vote, block=mined.block_number, tx=mined.tx_hash)
    return succeeded(RS.CONTRIBUTED, chainReceipt=receipt(mined.block_number, mined.tx_hash))


def _receipt_args(stored: dict) -> dict:
    return {"block_number": int(stored["blockNumber"]), "tx_hash": str(stored.get("txHash") or "")}
