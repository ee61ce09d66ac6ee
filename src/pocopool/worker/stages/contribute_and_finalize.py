"""CONTRIBUTE AND FINALIZE (PLEASE_CONTRIBUTE_AND_FINALIZE): the one-shot transaction of a trust-1 TEE
task (spec/worker.md §6.12, spec/poco.md §7.6, docs/tee.md "Flows").

Inputs, from the replicate state the compute stage left (TEE branch):
- `result_digest`: the post-compute enclave's result digest (keccak of the callback data for a
  callback deal, which the ledger checks);
- `callback_data`: the computed file's `callback-data` (0x-hex), callback deals only;
- `result_link`: the link the post-compute upload returned (none for a callback deal: nothing is
  uploaded, the result is the callback data on chain);
- `enclave_signature`: the enclave's signature of the result, checked here against the task's enclave
  challenge before any gas is spent.

`results` on chain = the UTF-8 link (empty for a callback deal), `resultsCallback` = the callback data.
"""

from __future__ import annotations

import asyncio

from ...chain import errors as rules
from ...chain.aio import chain_read
from ...chain.base import ChainError, ChainRevert, OutOfGas
from ...protocol.crypto import InvalidHex, hex_to_bytes, result_link, same_address
from ...protocol.models import TaskNotification
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ...protocol.tee import recover_enclave_result
from ..context import ReplicateContext
from ..gas import CONTRIBUTE_AND_FINALIZE_GAS
from ..preflight import causes, preflight
from ..tee import faults
from .contribute import REVERT_CAUSES as CONTRIBUTE_REVERT_CAUSES
from .contribute import eth_check
from .outcome import Outcome, failed, failed_each, receipt, succeeded

FAILED = RS.CONTRIBUTE_AND_FINALIZE_FAILED
DONE = RS.CONTRIBUTE_AND_FINALIZE_DONE

# contribute's rules plus the three of contributeAndFinalize (§7.6); any other is CHAIN_RECEIPT_NOT_VALID.
REVERT_CAUSES: dict[str, Cause] = {
    **CONTRIBUTE_REVERT_CAUSES,
    rules.TRUST_NOT_1: Cause.TRUST_NOT_1,
    rules.TASK_ALREADY_CONTRIBUTED: Cause.TASK_ALREADY_CONTRIBUTED,
    rules.INVALID_ENCLAVE_SIGNATURE: Cause.POST_COMPUTE_INVALID_TEE_SIGNATURE,
}


def revert_cause(rule: str) -> Cause:
    return REVERT_CAUSES.get(rule, Cause.CHAIN_RECEIPT_NOT_VALID)


def _enclave_signature(ctx: ReplicateContext) -> str | None:
    value = ctx.state.enclave_signature
    return value if isinstance(value, str) and value else None


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    done = ctx.state.contribution  # the mined contributeAndFinalize, kept like contribute's
    if done:  # mined before a restart or a lost answer: report it again, never twice on chain
        return succeeded(
            DONE,
            resultLink=ctx.state.result_link,
            chainCallbackData=ctx.state.callback_data,
            chainReceipt=receipt(int(done["blockNumber"]), str(done.get("txHash") or "")),
        )
    # §6.9 steps 1–4 (the stake check is skipped: this path locks no stake).
    failures = [f for f in await preflight(ctx) if f.cause is not Cause.STAKE_TOO_LOW]
    if failures:
        return failed_each(FAILED, causes(failures))
    unpaid = await eth_check(ctx, FAILED, CONTRIBUTE_AND_FINALIZE_GAS, "contributeAndFinalize")
    if unpaid is not None:
        return unpaid
    description = await ctx.description()
    if description.deal.trust != 1:
        return failed(
            FAILED, Cause.TRUST_NOT_1, f"the deal's trust is {description.deal.trust}, contributeAndFinalize needs 1"
        )
    task_id, wallet = ctx.chain_task_id, ctx.wallet
    await faults.contribute_first(ctx)
    try:
        chain_task = await chain_read(ctx.services.chain, ctx.services.chain.view_task, task_id)
    except ChainError as error:
        return failed(FAILED, Cause.CHAIN_UNREACHABLE, f"cannot read task {task_id} on chain: {error}")
    if chain_task.contributors:
        return failed(
            FAILED,
            Cause.TASK_ALREADY_CONTRIBUTED,
            f"task {task_id} already has {len(chain_task.contributors)} contributor(s)",
        )
    digest = ctx.state.result_digest
    if not digest:
        return failed(FAILED, Cause.DETERMINISM_HASH_NOT_FOUND, "no result digest: the result was not computed")
    authorization = ctx.state.workerpool_authorization
    challenge = authorization.enclaveChallenge
    signature = _enclave_signature(ctx)
    if signature is None:
        return failed(FAILED, Cause.ENCLAVE_SIGNATURE_NOT_FOUND, "the post-compute enclave left no result signature")
    signer = recover_enclave_result(wallet, task_id, digest, signature)
    if not same_address(signer, challenge):
        return failed(
            FAILED,
            Cause.POST_COMPUTE_INVALID_TEE_SIGNATURE,
            f"the result is signed by {signer or 'nobody readable'}, not by the enclave challenge {challenge}",
        )
    callback = b""
    link = ctx.state.result_link
    if description.has_callback:
        try:
            callback = hex_to_bytes(ctx.state.callback_data or "", what="callback data")
        except (InvalidHex, ValueError) as error:
            return failed(FAILED, Cause.CHAIN_RECEIPT_NOT_VALID, f"the computed callback data is not hex: {error}")
        results = b""  # nothing uploaded: the result is the callback data on chain
        link = result_link("ethereum", description.deal.callback)
    else:
        if not link:
            return failed(FAILED, Cause.RESULT_LINK_MISSING, "the post-compute upload gave no result link")
        results = link.encode()
    try:
        mined = await asyncio.to_thread(
            ctx.services.chain.contribute_and_finalize,
            ctx.services.account,
            task_id,
            digest,
            results,
            callback,
            challenge,
            signature,
            authorization.signature.value,
        )
    except ChainRevert as revert:
        return failed(
            FAILED, revert_cause(revert.rule), f"contributeAndFinalize reverted: {revert.rule}: {revert.message}"
        )
    except OutOfGas as error:  # the wallet was emptied between the check and the transaction
        return failed(FAILED, Cause.OUT_OF_GAS, f"contributeAndFinalize refused: {error}")
    except ChainError as error:
        return failed(FAILED, Cause.CHAIN_RECEIPT_NOT_VALID, f"contributeAndFinalize failed: {error}")
    if mined.block_number <= 0:
        return failed(FAILED, Cause.CHAIN_RECEIPT_NOT_VALID, f"contributeAndFinalize receipt has no block: {mined}")
    ctx.state.contribution = {"blockNumber": mined.block_number, "txHash": mined.tx_hash}
    ctx.save()
    ctx.log.info("contributed-and-finalized", digest=digest, block=mined.block_number, tx=mined.tx_hash)
    return succeeded(
        DONE,
        resultLink=link,
        chainCallbackData=ctx.state.callback_data or None,
        chainReceipt=receipt(mined.block_number, mined.tx_hash),
    )
