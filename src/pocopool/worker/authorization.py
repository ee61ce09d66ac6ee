"""Checking a WorkerpoolAuthorization before acting on it (spec/worker.md §2.3).

The scheduler signs `keccak(worker ‖ taskId ‖ enclaveChallenge)` (EIP-191); the signer must be the
owner of our workerpool on chain, the task must belong to a deal of that workerpool and be
initialized. Anything else is dropped with a log line and no status is sent.
"""

from __future__ import annotations

from ..chain.aio import chain_read
from ..chain.base import Chain, ChainError
from ..protocol.crypto import InvalidHex, recover_authorization_signer, same_address, task_id
from ..protocol.models import WorkerpoolAuthorization
from ..protocol.statuses import ChainTaskStatus


def _reads(chain: Chain, workerpool: str, authorization: WorkerpoolAuthorization):
    return (
        chain.view_workerpool(workerpool),
        chain.view_deal(authorization.dealId),
        chain.view_task(authorization.chainTaskId),
    )


async def authorization_problem(
    authorization: WorkerpoolAuthorization, wallet: str, chain: Chain, workerpool: str
) -> str | None:
    """None if the authorization can be trusted, else why not (one sentence)."""
    if not same_address(authorization.workerWallet, wallet):
        return f"authorization is for wallet {authorization.workerWallet}, not {wallet}"
    try:
        expected_task = task_id(authorization.dealId, authorization.taskIndex)
    except InvalidHex as error:
        return f"authorization has an invalid deal id: {error}"
    if expected_task.lower() != authorization.chainTaskId.lower():
        return (
            f"task id {authorization.chainTaskId} is not task {authorization.taskIndex} of deal {authorization.dealId}"
        )
    signer = recover_authorization_signer(
        authorization.workerWallet,
        authorization.chainTaskId,
        authorization.enclaveChallenge,
        authorization.signature.value,
    )
    if signer is None:
        return "authorization signature is malformed"
    try:
        pool, deal, task = await chain_read(chain, _reads, chain, workerpool, authorization)
    except ChainError as error:
        return f"cannot check the authorization on chain: {error}"
    if pool is None:
        return f"workerpool {workerpool} does not exist on chain"
    if not same_address(signer, pool.owner):
        return f"authorization signed by {signer}, not by the workerpool owner {pool.owner}"
    if deal is None:
        return f"deal {authorization.dealId} does not exist on chain"
    if not same_address(deal.workerpool.pointer, workerpool):
        return f"deal {authorization.dealId} belongs to workerpool {deal.workerpool.pointer}, not {workerpool}"
    if task.status is ChainTaskStatus.UNSET:
        return f"task {authorization.chainTaskId} is not initialized on chain"
    return None
