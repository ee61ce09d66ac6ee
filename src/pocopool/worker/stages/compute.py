"""COMPUTE (PLEASE_COMPUTE): run the app in the runtime, then the standard post-compute.

pocopool separates the app's failures from the platform's (spec/worker.md §6.4 leaves the choice):
- the app ran and a result digest could be computed → COMPUTED with exitCode and computeLogs, even
  for a non-zero exit: the failure is part of the result, and replicas of a deterministic app agree
  on it;
- the app was killed at the category's time limit → COMPUTE_FAILED APP_COMPUTE_TIMEOUT (a partial
  output depends on speed, so it is never contributed), exitCode -1;
- the app reached a limit the worker sets on each run (memory, processes, IEXEC_OUT, /tmp, CPU
  time) → COMPUTE_FAILED with that limit's own cause (APP_*_LIMIT_EXCEEDED, a pocopool extension),
  an errorMessage naming the limit and the worker option that sets it; exitCode -1 as a timeout;
- the app exited non-zero and left no usable result → COMPUTE_FAILED APP_COMPUTE_FAILED;
- the app exited 0 but its output is unusable → COMPUTE_FAILED with the POST_COMPUTE_* cause;
- the runtime itself could not start the app → COMPUTE_FAILED APP_COMPUTE_FAILED with no exitCode
  and an errorMessage starting with "[worker]".
exitCode and computeLogs always describe the app itself; errorMessage says what went wrong.
"""

from __future__ import annotations

import asyncio

from ...chain.aio import chain_read
from ...protocol.crypto import keccak_hex
from ...protocol.models import ComputeLogs, TaskNotification
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..context import ReplicateContext
from ..env import compute_env
from ..postcompute import PostComputeError, post_compute
from ..preflight import causes, preflight
from ..runtimes.base import AppRun
from . import compute_tee
from .app_output import (
    LIMIT_CAUSES,
    TIMEOUT_EXIT_CODE,
    describe_exit,
    describe_limit,
    prepare_output,
    prepare_tmp,
    remove_tmp,
    write_app_logs,
)
from .outcome import Outcome, failed, failed_each, succeeded


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    failures = await preflight(ctx)
    if failures:
        return failed_each(RS.COMPUTE_FAILED, causes(failures))
    description = await ctx.description()
    bundle = ctx.services.bundles.cached(ctx.state.bundle_checksum or description.app.checksum)
    if bundle is None:
        return failed(
            RS.COMPUTE_FAILED, Cause.APP_NOT_FOUND_LOCALLY, "[worker] the verified app bundle is not in the cache"
        )
    try:
        args = description.params.argv()
    except ValueError as error:  # refused at START (stages/start.py); here only for a replicate resumed from before
        return failed(
            RS.COMPUTE_FAILED,
            Cause.TASK_DESCRIPTION_INVALID,
            f"[worker] the deal's iexec_args cannot be split: {error}",
        )

    if description.is_tee:
        return await compute_tee.run(ctx, description, bundle, args)
    await asyncio.to_thread(prepare_output, ctx.paths)
    runtime = ctx.services.runtime
    iexec_in, iexec_out = runtime.app_paths(ctx.paths.input, ctx.paths.iexec_out)
    config = ctx.services.config
    app = AppRun(
        argv=tuple(bundle.entrypoint) + tuple(args),
        env=compute_env(description, iexec_in, iexec_out),
        bundle_dir=bundle.root,
        input_dir=ctx.paths.input,
        output_dir=ctx.paths.iexec_out,
        limits=config.app_limits(float(description.max_execution_time)),
        network=description.network,
        tmp_dir=await asyncio.to_thread(prepare_tmp, ctx.paths),
    )
    if "slow" in config.faults:
        await _compute_past_the_deadline(ctx)
    ctx.log.info("app-starting", runtime=runtime.name, argv=" ".join(app.argv), time_limit=app.limits.time_limit)
    try:
        result = await runtime.run(app)
    finally:
        await asyncio.to_thread(remove_tmp, ctx.paths)
    exceeded = result.limit_exceeded
    ctx.log.info(
        "app-ended",
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        platform_error=result.platform_error,
        seconds=round(result.duration, 3),
        limit_exceeded=exceeded.kind.value if exceeded else None,
    )
    logs = ComputeLogs(stdout=result.stdout, stderr=result.stderr).tailed()

    if exceeded is not None:
        # Never contributed: the output goes at once rather than with the task (a filler's gigabytes).
        await asyncio.to_thread(prepare_output, ctx.paths)
        return failed(
            RS.COMPUTE_FAILED,
            LIMIT_CAUSES[exceeded.kind],
            describe_limit(exceeded, config),
            exitCode=TIMEOUT_EXIT_CODE,
            computeLogs=logs,
        )
    if result.platform_error is not None:
        return failed(
            RS.COMPUTE_FAILED, Cause.APP_COMPUTE_FAILED, f"[worker] {runtime.name} runtime: {result.platform_error}"
        )
    if result.timed_out:
        return failed(
            RS.COMPUTE_FAILED,
            Cause.APP_COMPUTE_TIMEOUT,
            f"app killed after {app.limits.time_limit:g} s, the time limit of category {description.category.name!r}",
            exitCode=TIMEOUT_EXIT_CODE,
            computeLogs=logs,
        )
    assert result.exit_code is not None
    if result.exit_code == 0:
        await asyncio.to_thread(write_app_logs, ctx.paths, result)
    try:
        info = await asyncio.to_thread(post_compute, ctx.paths, description.has_callback)
    except PostComputeError as error:
        if result.exit_code != 0:
            return failed(
                RS.COMPUTE_FAILED,
                Cause.APP_COMPUTE_FAILED,
                f"{describe_exit(result.exit_code)}; no result to contribute: {error.message}",
                exitCode=result.exit_code,
                computeLogs=logs,
            )
        return failed_each(RS.COMPUTE_FAILED, error.causes, exitCode=0, computeLogs=logs)
    digest = info.digest
    if "wrong-result" in config.faults:
        digest = keccak_hex(bytes.fromhex(digest[2:]) + b"pocopool:fault:wrong-result")
        ctx.log.warning("fault-injected", fault="wrong-result", computed=info.digest, contributed=digest)
    ctx.state.result_digest = digest
    ctx.state.callback_data = info.callback_data
    ctx.save()
    ctx.log.info("result-ready", digest=digest, exit_code=result.exit_code)
    # the files the digest read, by sha256: names only reach the requester (decision 120)
    return succeeded(RS.COMPUTED, exitCode=result.exit_code, computeLogs=logs, resultFiles=info.files)


async def _compute_past_the_deadline(ctx: ReplicateContext) -> None:
    """The `slow` fault: the computation ends one second after the contribution deadline."""
    chain_task = await chain_read(ctx.services.chain, ctx.services.chain.view_task, ctx.chain_task_id)
    delay = max(0.0, chain_task.contribution_deadline + 1 - ctx.services.clock.now())
    ctx.log.warning("fault-injected", fault="slow", seconds=round(delay, 1))
    await ctx.services.clock.sleep(delay)
