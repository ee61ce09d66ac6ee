"""COMPUTE of a TEE task (docs/tee.md "Flows"): the bundle's fingerprint against the chain, then
pre-compute, the app and post-compute, each in its own sandbox on the worker's enclave platform
(tee-sim by default; worker/tee/enclaves.py, worker/tee/platform.py).

COMPUTED carries the app's exit code and logs and `teeStages` (each stage's exit code and logs); the
result digest, callback data, link and enclave signature come from the post-compute's signed report
and are kept in the replicate state for CONTRIBUTE (AND FINALIZE). An app that exits non-zero is
COMPUTE_FAILED APP_COMPUTE_FAILED: only post-compute could make a result of it, and it runs only
after a successful app (docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ...protocol.models import ComputeLogs
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..bundle import AppBundle
from ..context import ReplicateContext
from ..description import TaskDescription
from ..postcompute import COMPUTED_JSON
from ..tee import faults
from ..tee.enclaves import EnclaveFailed, Enclaves, tee_stage_logs
from ..tee.session import TeeRefused
from ..workspace import atomic_write
from .app_output import TIMEOUT_EXIT_CODE, describe_exit, prepare_output, write_app_logs
from .outcome import Outcome, failed, failed_each, succeeded


def _computed_file(computed: dict) -> bytes:
    keys = ("deterministic-output-path", "callback-data", "task-id", "result-digest", "enclave-signature")
    return json.dumps({key: computed.get(key) for key in keys if computed.get(key) is not None}, indent=1).encode()


async def run(ctx: ReplicateContext, description: TaskDescription, bundle: AppBundle, args: list[str]) -> Outcome:
    sms = ctx.state.sms_url
    if not sms or not ctx.state.tee_session_id:
        return failed(
            RS.COMPUTE_FAILED, Cause.UNKNOWN_SMS, "no TEE session for this replicate: START did not create one"
        )
    platform = ctx.services.tee_platform
    if platform is None:
        return failed(
            RS.COMPUTE_FAILED, Cause.TEE_PREPARATION_FAILED, "this worker was started without an enclave platform"
        )
    enclaves = Enclaves(ctx, description, sms, platform)
    app_result = None
    try:
        await asyncio.to_thread(enclaves.check_bundle, bundle.root)
        await asyncio.to_thread(prepare_output, ctx.paths)
        await enclaves.pre_compute()
        app_result = await enclaves.app(bundle.root, tuple(bundle.entrypoint) + tuple(args))
        logs = ComputeLogs(stdout=app_result.stdout, stderr=app_result.stderr).tailed()
        if app_result.timed_out:
            return failed(
                RS.COMPUTE_FAILED,
                Cause.APP_COMPUTE_TIMEOUT,
                f"app killed after {enclaves.limits.time_limit:g} s, the time limit of category "
                f"{description.category.name!r}",
                exitCode=TIMEOUT_EXIT_CODE,
                computeLogs=logs,
                teeStages=tee_stage_logs(enclaves),
            )
        assert app_result.exit_code is not None
        if app_result.exit_code != 0:
            return failed(
                RS.COMPUTE_FAILED,
                Cause.APP_COMPUTE_FAILED,
                describe_exit(app_result.exit_code),
                exitCode=app_result.exit_code,
                computeLogs=logs,
                teeStages=tee_stage_logs(enclaves),
            )
        await asyncio.to_thread(write_app_logs, ctx.paths, app_result)
        computed = await enclaves.post_compute()
    except (EnclaveFailed, TeeRefused) as error:
        reasons = error.causes if isinstance(error, EnclaveFailed) else [(error.cause, error.message)]
        details: dict[str, Any] = {"teeStages": tee_stage_logs(enclaves) or None}
        if app_result is not None:
            details.update(
                exitCode=app_result.exit_code,
                computeLogs=ComputeLogs(stdout=app_result.stdout, stderr=app_result.stderr).tailed(),
            )
        return failed_each(RS.COMPUTE_FAILED, reasons, **details)
    ctx.state.result_digest = str(computed.get("result-digest") or "") or None
    ctx.state.callback_data = computed.get("callback-data") if description.has_callback else None
    signature = str(computed.get("enclave-signature") or "") or None
    ctx.state.enclave_signature = faults.enclave_signature(ctx, signature, ctx.state.result_digest)
    ctx.state.result_link = str(computed.get("result-link") or "") or None
    await asyncio.to_thread(atomic_write, ctx.paths.output / COMPUTED_JSON, _computed_file(computed))
    ctx.save()
    ctx.log.info("result-ready", digest=ctx.state.result_digest, exit_code=0, link=ctx.state.result_link)
    return succeeded(
        RS.COMPUTED,
        exitCode=0,
        computeLogs=ComputeLogs(stdout=app_result.stdout, stderr=app_result.stderr).tailed(),
        teeStages=tee_stage_logs(enclaves),
    )
