"""The devnet faults of a TEE worker (worker/config.py FAULTS): what a dishonest or broken worker
would send the SMS, or keep of its enclave's result, so that the e2e tests meet each refusal for
real (tests/e2e/test_tee_refusals_e2e.py). A worker started without `--fault` never takes a branch
here but `remember`.
"""

from __future__ import annotations

from ...protocol.crypto import new_private_key, sign_authorization
from ...protocol.models import Signature, WorkerpoolAuthorization
from ...protocol.tee import sign_enclave_result
from ..context import ReplicateContext

FORGE = "forge-authorization"
REPLAY = "replay-authorization"
TAMPER = "tamper-enclave-signature"


def session_authorization(ctx: ReplicateContext) -> WorkerpoolAuthorization:
    """The authorization the worker sends the SMS: the scheduler's, unless a fault forges one (signed
    by the worker's own wallet, not the pool owner's) or replays the previous TEE task's."""
    authorization = ctx.state.workerpool_authorization
    faults = ctx.services.config.faults
    if REPLAY in faults and ctx.services.last_session_authorization is not None:
        replayed = ctx.services.last_session_authorization
        ctx.log.warning("fault-injected", fault=REPLAY, replayed=replayed.chainTaskId)
        return replayed
    if FORGE in faults:
        ctx.log.warning("fault-injected", fault=FORGE)
        forged = sign_authorization(
            ctx.services.config.private_key,
            authorization.workerWallet,
            authorization.chainTaskId,
            authorization.enclaveChallenge,
        )
        return authorization.model_copy(update={"signature": Signature(value=forged)})
    return authorization


def remember(ctx: ReplicateContext, authorization: WorkerpoolAuthorization) -> None:
    """The authorization of the last session the SMS gave this worker (what REPLAY sends next time)."""
    if REPLAY in ctx.services.config.faults:
        ctx.services.last_session_authorization = authorization


def enclave_signature(ctx: ReplicateContext, signature: str | None, digest: str | None) -> str | None:
    """The enclave's signature of the result as the worker keeps it: with TAMPER, a signature of the
    same result by a key that is not the task's enclave challenge."""
    if TAMPER not in ctx.services.config.faults or not digest:
        return signature
    ctx.log.warning("fault-injected", fault=TAMPER)
    return sign_enclave_result(new_private_key(), ctx.wallet, ctx.chain_task_id, digest)
