"""Detectors find tasks that may need an update and hand them to the engine (spec §4).

Each detector is one function `(DetectorContext) -> list of task ids`, driven by an indexed query
(and, for some, a chain read). Task detectors never change a status themselves: the engine decides
(timeouts, reopen and the reveal timeout of winners are all engine decisions). Replicate detectors
(unnotified contribution or reveal, worker lost) hand what they find to the replicate status service,
through the same checks as a worker's own update (`ReplicateRecorder`). To add one, write the
function and list it in DETECTORS with how often it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ..chain.aio import chain_read
from ..chain.base import Chain, ChainError
from ..protocol.statuses import (
    CONTRIBUTION_PHASE,
    REVEAL_PHASE,
    missing_statuses,
)
from ..protocol.statuses import (
    ChainContributionStatus as CCS,
)
from ..protocol.statuses import (
    ReplicateStatus as RS,
)
from ..protocol.statuses import (
    TaskStatus as TS,
)
from .logs import log_event
from .store import Store

NON_FINAL = tuple(status for status in TS if not status.is_final)


class ReplicateRecorder(Protocol):
    """Writes a status on a replicate as the scheduler (POOL_MANAGER), through the usual checks;
    False when refused. Implemented by ReplicateUpdateService.record_pool_status_of."""

    async def __call__(self, task_id: str, wallet: str, status: RS) -> bool: ...


@dataclass(frozen=True)
class DetectorContext:
    store: Store
    chain: Chain
    now: float
    record: ReplicateRecorder | None = None  # None: replicate detectors find nothing to do
    worker_lost_after: float = 60.0  # seconds without a ping
    full_scan: bool = False  # unnotified detectors look at every replicate of the phase, not only the ongoing


Find = Callable[[DetectorContext], Awaitable[list[str]]]


@dataclass(frozen=True)
class Detector:
    name: str
    find: Find
    every: int = 1  # run on one detector tick out of `every`


async def initialized_task(ctx: DetectorContext) -> list[str]:
    """RECEIVED or INITIALIZING tasks: (re)send initialize, ask the SMS again, see that the chain
    already initialized them, or, past their contribution deadline, fail them with
    CONTRIBUTION_DEADLINE_PASSED (decision 133: found only before it, they waited for the final deadline)."""
    return await ctx.store.task_ids((TS.RECEIVED, TS.INITIALIZING))


async def consensus_reached(ctx: DetectorContext) -> list[str]:
    """RUNNING tasks with a contribution reported: the engine reads the chain and decides whether
    the consensus is reached (it needs the chain REVEALING and every winner known off chain)."""
    found = await ctx.store.replicates_in((TS.RUNNING,), (RS.CONTRIBUTED,))
    return list(dict.fromkeys(task_id for task_id, _ in found))


async def unfinished_steps(ctx: DetectorContext) -> list[str]:
    """Tasks in a status the engine always leaves at once (a crash can leave them there)."""
    return await ctx.store.task_ids((TS.AT_LEAST_ONE_REVEALED, TS.FINALIZED))


async def result_uploaded_not_finalized(ctx: DetectorContext) -> list[str]:
    """RESULT_UPLOADED tasks waiting for the finalize conditions, FINALIZING tasks waiting for the
    transaction."""
    return await ctx.store.task_ids((TS.RESULT_UPLOADED, TS.FINALIZING))


async def contribution_timeout(ctx: DetectorContext) -> list[str]:
    """Contribution-phase tasks past their contribution deadline (the engine checks the chain)."""
    return await ctx.store.task_ids(
        (TS.INITIALIZED, TS.RUNNING), contribution_deadline_until=ctx.now, final_deadline_after=ctx.now
    )


async def final_deadline(ctx: DetectorContext) -> list[str]:
    """Unfinished tasks past their final deadline."""
    return await ctx.store.task_ids(NON_FINAL, final_deadline_until=ctx.now)


async def reveal_timeout(ctx: DetectorContext) -> list[str]:
    """Reveal-phase tasks past their reveal deadline: winners that did not reveal fail, and a task
    nobody revealed is reopened (the engine decides which)."""
    return await ctx.store.task_ids(tuple(REVEAL_PHASE), reveal_deadline_until=ctx.now)


async def result_upload_timeout(ctx: DetectorContext) -> list[str]:
    """RESULT_UPLOADING tasks: the engine asks the next revealer when the uploader is too late."""
    return await ctx.store.task_ids((TS.RESULT_UPLOADING,))


async def reopened_task(ctx: DetectorContext) -> list[str]:
    """REOPENING tasks (and REOPENED left by a crash): the engine looks for the chain's ACTIVE status."""
    return await ctx.store.task_ids((TS.REOPENING, TS.REOPENED))


async def _unnotified(
    ctx: DetectorContext,
    task_statuses: frozenset[TS],
    ongoing: RS,
    done: RS,
    proofs: tuple[CCS, ...],
    before: tuple[RS, ...],
) -> list[str]:
    if ctx.record is None:
        return []
    wanted = (ongoing,) + (before if ctx.full_scan else ())
    touched: list[str] = []
    for task_id, wallet in await ctx.store.replicates_in(task_statuses, wanted):
        try:
            contribution = await chain_read(ctx.chain, ctx.chain.view_contribution, task_id, wallet)
        except ChainError:
            continue
        if contribution.status not in proofs:
            continue
        replicate = await ctx.store.replicate(task_id, wallet)
        if replicate is None:
            continue
        for status in missing_statuses(replicate.last_relevant, done):
            if not await ctx.record(task_id, wallet, status):
                break
        else:
            log_event("replicate.unnotified", task=task_id, wallet=wallet, status=done.value)
            touched.append(task_id)
    return touched


async def unnotified_contribution(ctx: DetectorContext) -> list[str]:
    """Replicates CONTRIBUTING (every run; on a full scan, any status before) whose contribution is on
    chain: CONTRIBUTED is recorded for them (spec §4.2 ContributionUnnotifiedDetector)."""
    before = (
        RS.STARTING,
        RS.STARTED,
        RS.APP_DOWNLOADING,
        RS.APP_DOWNLOADED,
        RS.DATA_DOWNLOADING,
        RS.DATA_DOWNLOADED,
        RS.COMPUTING,
        RS.COMPUTED,
    )
    return await _unnotified(
        ctx, CONTRIBUTION_PHASE, RS.CONTRIBUTING, RS.CONTRIBUTED, (CCS.CONTRIBUTED, CCS.PROVED), before
    )


async def unnotified_reveal(ctx: DetectorContext) -> list[str]:
    """Replicates REVEALING (every run; on a full scan, CONTRIBUTED too) whose reveal is on chain:
    REVEALED is recorded for them (spec §4.2 RevealUnnotifiedDetector)."""
    return await _unnotified(ctx, REVEAL_PHASE, RS.REVEALING, RS.REVEALED, (CCS.PROVED,), (RS.CONTRIBUTED,))


async def unnotified_contribute_and_finalize(ctx: DetectorContext) -> list[str]:
    """Replicates CONTRIBUTE_AND_FINALIZE_ONGOING (on a full scan, COMPUTED too) whose contributeAndFinalize
    is on chain: CONTRIBUTE_AND_FINALIZE_DONE is recorded for them (proven as a worker's report is), so
    a lost report does not leave a trust-1 TEE task RUNNING until its final deadline."""
    return await _unnotified(
        ctx,
        CONTRIBUTION_PHASE,
        RS.CONTRIBUTE_AND_FINALIZE_ONGOING,
        RS.CONTRIBUTE_AND_FINALIZE_DONE,
        (CCS.PROVED,),
        (RS.COMPUTED,),
    )


async def worker_lost(ctx: DetectorContext) -> list[str]:
    """Replicates of workers that stopped pinging become WORKER_LOST (spec §4.3, liveness in the
    database). A worker that comes back goes on from WORKER_LOST; one that restarts recovers."""
    if ctx.record is None:
        return []
    touched: list[str] = []
    for task_id, wallet in await ctx.store.lost_replicates(ctx.now - ctx.worker_lost_after, ctx.now):
        if await ctx.record(task_id, wallet, RS.WORKER_LOST):
            log_event("worker.lost", task=task_id, wallet=wallet)
            touched.append(task_id)
    return touched


DETECTORS: tuple[Detector, ...] = (
    Detector("initialized-task", initialized_task),
    Detector("consensus-reached", consensus_reached),
    Detector("unfinished-steps", unfinished_steps),
    Detector("result-uploaded-not-finalized", result_uploaded_not_finalized),
    Detector("contribution-timeout", contribution_timeout),
    Detector("final-deadline", final_deadline),
    Detector("reveal-timeout", reveal_timeout),
    Detector("result-upload-timeout", result_upload_timeout),
    Detector("reopened-task", reopened_task),
    Detector("unnotified-contribution", unnotified_contribution),
    Detector("unnotified-reveal", unnotified_reveal),
    Detector("unnotified-contribute-and-finalize", unnotified_contribute_and_finalize),
    Detector("worker-lost", worker_lost),
)


async def run_detectors(ctx: DetectorContext, tick: int, detectors: tuple[Detector, ...] = DETECTORS) -> list[str]:
    """Runs the detectors due at this tick; returns the task ids found (each once, in order)."""
    found: dict[str, None] = {}
    for detector in detectors:
        if tick % detector.every:
            continue
        try:
            ids = await detector.find(ctx)
        except Exception as error:  # noqa: BLE001 - one failing detector must not stop the others
            log_event("detector.failed", level=logging.ERROR, detector=detector.name, error=repr(error))
            continue
        for task_id in ids:
            if task_id not in found:
                log_event("detector.found", level=logging.DEBUG, detector=detector.name, task=task_id)
            found.setdefault(task_id, None)
    return list(found)
