"""REVEAL (PLEASE_REVEAL, extra.blockNumber = consensus block): reveal the digest (spec/worker.md §6.10)."""

from __future__ import annotations

import asyncio

from ...chain.aio import chain_read
from ...chain.base import Chain, ChainError, ChainRevert, OutOfGas
from ...protocol.crypto import result_hash, result_seal
from ...protocol.models import TaskNotification
from ...protocol.statuses import ChainContributionStatus, ChainTaskStatus
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..context import ReplicateContext
from ..gas import REVEAL_GAS
from .contribute import eth_check
from .outcome import Outcome, failed, receipt, succeeded

BLOCK_WAIT_ATTEMPTS = 10
CHECK_ATTEMPTS = 3
PAUSE = 1.0  # s between attempts
FAULT_POLL, FAULT_HOLD_LIMIT = 0.2, 600.0  # s: the `reveal-after-deadline` fault's wait (bounded)


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def reveal_obstacles(chain: Chain, task_id: str, wallet: str, digest: str) -> list[str]:
    """Why a reveal would be refused on chain (empty: it can be sent) — the checks of §6.10 step 4."""
    task = chain.view_task(task_id)
    contribution = chain.view_contribution(task_id, wallet)
    now = chain.now()
    found = []
    if task.status is not ChainTaskStatus.REVEALING:
        found.append(f"task is {task.status.value} on chain, not REVEALING")
    elif task.reveal_deadline <= now:
        found.append(f"reveal deadline {task.reveal_deadline} passed (chain time {now})")
    if contribution.status is not ChainContributionStatus.CONTRIBUTED:
        found.append(f"own contribution is {contribution.status.value}, not CONTRIBUTED")
    else:
        if not _same(contribution.result_hash, task.consensus_value):
            found.append(f"own result hash {contribution.result_hash} is not the consensus {task.consensus_value}")
        if not _same(contribution.result_hash, result_hash(task_id, digest)):
            found.append("own result hash does not match the local result digest")
        if not _same(contribution.result_seal, result_seal(wallet, task_id, digest)):
            found.append("own result seal does not match the local result digest")
    return found


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    if ctx.state.reveal:
        stored = ctx.state.reveal
        return succeeded(RS.REVEALED, chainReceipt=receipt(int(stored["blockNumber"]), str(stored.get("txHash") or "")))
    extra = notification.taskNotificationExtra
    consensus_block = extra.blockNumber if extra is not None else 0
    if consensus_block <= 0:
        return failed(
            RS.REVEAL_FAILED, Cause.CONSENSUS_BLOCK_MISSING, "PLEASE_REVEAL carried no consensus block number"
        )
    digest = ctx.state.result_digest
    if not digest:
        return failed(RS.REVEAL_FAILED, Cause.DETERMINISM_HASH_NOT_FOUND, "no result digest to reveal")
    chain = ctx.services.chain

    latest = 0
    for _ in range(BLOCK_WAIT_ATTEMPTS):
        try:
            latest = (await chain_read(chain, chain.latest_block)).number
        except ChainError as error:
            ctx.log.warning("chain-read-failed", error=str(error))
        if latest >= consensus_block:
            break
        await asyncio.sleep(PAUSE)
    else:
        return failed(
            RS.REVEAL_FAILED,
            Cause.BLOCK_NOT_REACHED,
            f"chain is at block {latest}, consensus was at block {consensus_block}",
        )

    obstacles: list[str] = []
    for attempt in range(CHECK_ATTEMPTS):
        try:
            obstacles = await chain_read(chain, reveal_obstacles, chain, ctx.chain_task_id, ctx.wallet, digest)
        except ChainError as error:
            obstacles = [f"cannot read the task on chain: {error}"]
        if not obstacles:
            break
        if attempt + 1 < CHECK_ATTEMPTS:
            await asyncio.sleep(PAUSE)
    if obstacles:
        return failed(RS.REVEAL_FAILED, Cause.CANNOT_REVEAL, "; ".join(obstacles))
    # §6.10 step 5: the reference exits the process here; a replicate failing with the cause says it
    # without stopping the worker's other replicates (decision 127).
    unpaid = await eth_check(ctx, RS.REVEAL_FAILED, REVEAL_GAS, "reveal")
    if unpaid is not None:
        return unpaid
    if "reveal-after-deadline" in ctx.services.config.faults:
        await _hold_until_the_reveal_deadline(ctx)

    try:
        mined = await asyncio.to_thread(chain.reveal, ctx.services.account, ctx.chain_task_id, digest)
    except ChainRevert as revert:
        return failed(
            RS.REVEAL_FAILED, Cause.CHAIN_RECEIPT_NOT_VALID, f"reveal reverted: {revert.rule}: {revert.message}"
        )
    except OutOfGas as error:  # the wallet was emptied between the check and the transaction
        return failed(RS.REVEAL_FAILED, Cause.OUT_OF_GAS, f"reveal refused: {error}")
    except ChainError as error:
        return failed(RS.REVEAL_FAILED, Cause.CHAIN_RECEIPT_NOT_VALID, f"reveal failed: {error}")
    ctx.state.reveal = {"blockNumber": mined.block_number, "txHash": mined.tx_hash}
    ctx.save()
    ctx.log.info("revealed", digest=digest, block=mined.block_number, tx=mined.tx_hash)
    return succeeded(RS.REVEALED, chainReceipt=receipt(mined.block_number, mined.tx_hash))


async def _hold_until_the_reveal_deadline(ctx: ReplicateContext) -> None:
    """Devnet fault `reveal-after-deadline`: the gap between the checks and the transaction, which a
    slow worker meets at the last second, widened until the chain's reveal deadline has passed."""
    chain = ctx.services.chain
    deadline = (await chain_read(chain, chain.view_task, ctx.chain_task_id)).reveal_deadline
    ctx.log.warning("fault-injected", fault="reveal-after-deadline", reveal_deadline=deadline)
    for _ in range(int(FAULT_HOLD_LIMIT / FAULT_POLL)):
        if await chain_read(chain, chain.now) > deadline:
            return
        await asyncio.sleep(FAULT_POLL)
