"""The devnet faults of a TEE worker (worker/config.py FAULTS): what a dishonest or broken worker
would send the SMS, or keep of its enclave's result, so that the e2e tests meet each refusal for
real (tests/e2e/test_tee_refusals_e2e.py). A worker started without `--fault` never takes a branch
here but `remember`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from ...chain.base import ChainError
from ...protocol.crypto import new_private_key, result_hash, result_seal, sign_authorization, sign_personal
from ...protocol.models import Signature, WorkerpoolAuthorization
from ...protocol.tee import Stage, enclave_report_hash, sign_enclave_result
from ..context import ReplicateContext

FORGE = "forge-authorization"
REPLAY = "replay-authorization"
TAMPER = "tamper-enclave-signature"
READ_ONLY_REPORT = {Stage.PRE: "read-only-pre-compute-report", Stage.POST: "read-only-post-compute-report"}
READ_ONLY_INPUT = "read-only-pre-compute-input"
FORGE_PRE_REPORT = "forge-pre-compute-report"
UNKNOWN_PRE_SESSION = "unknown-pre-compute-session"
CONTRIBUTE_FIRST = "contribute-before-finalize"


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


def _injected(ctx: ReplicateContext, fault: str) -> bool:
    if fault not in ctx.services.config.faults:
        return False
    ctx.log.warning("fault-injected", fault=fault)
    return True


def report_writable(ctx: ReplicateContext, stage: Stage) -> bool:
    """Whether the stage's report folder is bound writable: not with READ_ONLY_REPORT of that stage."""
    fault = READ_ONLY_REPORT.get(stage)
    return fault is None or not _injected(ctx, fault)


def input_writable(ctx: ReplicateContext) -> bool:
    """Whether pre-compute's input folder is bound writable: not with READ_ONLY_INPUT."""
    return not _injected(ctx, READ_ONLY_INPUT)


def enclave_session(ctx: ReplicateContext, stage: Stage, session: str) -> str:
    """The session id the stage is started with: one the SMS never made for pre-compute with
    UNKNOWN_PRE_SESSION (the enclave gets no secrets, so it cannot sign a report)."""
    if stage is Stage.PRE and _injected(ctx, UNKNOWN_PRE_SESSION):
        return "unknown-" + session
    return session


def rewrite_report(ctx: ReplicateContext, stage: Stage, report: Path) -> None:
    """With FORGE_PRE_REPORT, pre-compute's report as its enclave wrote it, signed again by a key
    that is not the task's enclave challenge."""
    if stage is not Stage.PRE or not report.is_file() or not _injected(ctx, FORGE_PRE_REPORT):
        return
    body = json.loads(report.read_text())
    body["signature"] = sign_personal(new_private_key(), enclave_report_hash(ctx.chain_task_id, ctx.wallet))
    report.write_text(json.dumps(body))


async def contribute_first(ctx: ReplicateContext) -> None:
    """With CONTRIBUTE_FIRST, a plain contribute of the enclave's result, sent once the worker's checks
    before contributeAndFinalize passed and before it reads the task's contributors: as a contribution
    landing in between would, it leaves the task a contributor when the worker looks."""
    if not _injected(ctx, CONTRIBUTE_FIRST):
        return
    authorization, task, digest = ctx.state.workerpool_authorization, ctx.chain_task_id, ctx.state.result_digest
    try:
        await asyncio.to_thread(
            ctx.services.chain.contribute,
            ctx.services.account,
            task,
            result_hash(task, digest or ""),
            result_seal(ctx.wallet, task, digest or ""),
            authorization.enclaveChallenge,
            str(ctx.state.enclave_signature or ""),
            authorization.signature.value,
        )
    except ChainError as error:
        ctx.log.warning("fault-contribute-refused", fault=CONTRIBUTE_FIRST, error=str(error))
