"""Detectors find tasks that may need an update and hand them to the engine (spec §4).

Each detector is one function `(DetectorContext) -> list of task ids`, driven by an indexed query
(and, for some, a chain read). Detectors never change a status themselves: the engine decides.
To add one (reveal timeout, upload timeout, unnotified contribution, worker lost...), write the
function and list it in DETECTORS with how often it runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..chain.base import Chain, ChainError
from ..protocol.statuses import ChainTaskStatus as CTS, TaskStatus as TS
from .logs import log_event
from .store import Store

NON_FINAL = tuple(status for status in TS if not status.is_final)


@dataclass(frozen=True)
class DetectorContext:
    store: Store
    chain: Chain
    now: float


Find = Callable[[DetectorContext], Awaitable[list[str]]]


@dataclass(frozen=True)
class Detector:
    name: str
    find: Find
    every: int = 1  # run on one detector tick out of `every`


async def initialized_task(ctx: DetectorContext) -> list[str]:
    """RECEIVED or INITIALIZING tasks that can still be contributed to: (re)send initialize, or see
    that the chain already initialized them."""
    return await ctx.store.task_ids((TS.RECEIVED, TS.INITIALIZING), contribution_deadline_after=ctx.now)


async def consensus_reached(ctx: DetectorContext) -> list[str]:
    """RUNNING tasks whose chain task is REVEALING: consensus may be reached off chain too."""
    found = []
    for task_id in await ctx.store.task_ids((TS.RUNNING,)):
        try:
            chain_task = await asyncio.to_thread(ctx.chain.view_task, task_id)
        except ChainError:
            continue  # unreadable: nothing to conclude (spec §10 quirk 4)
        if chain_task.status is CTS.REVEALING:
            found.append(task_id)
    return found


async def unfinished_steps(ctx: DetectorContext) -> list[str]:
    """Tasks in a status the engine always leaves at once (a crash can leave them there)."""
    return await ctx.store.task_ids((TS.AT_LEAST_ONE_REVEALED, TS.FINALIZED))


async def result_uploaded_not_finalized(ctx: DetectorContext) -> list[str]:
    """RESULT_UPLOADED tasks waiting for the finalize conditions, FINALIZING tasks waiting for the
    transaction."""
    return await ctx.store.task_ids((TS.RESULT_UPLOADED, TS.FINALIZING))


async def contribution_timeout(ctx: DetectorContext) -> list[str]:
    """Contribution-phase tasks past their contribution deadline (the engine checks the chain)."""
    return await ctx.store.task_ids((TS.INITIALIZED, TS.RUNNING), contribution_deadline_until=ctx.now,
                                    final_deadline_after=ctx.now)


async def final_deadline(ctx: DetectorContext) -> list[str]:
    """Unfinished tasks past their final deadline."""
    return await ctx.store.task_ids(NON_FINAL, final_deadline_until=ctx.now)


DETECTORS: tuple[Detector, ...] = (
    Detector("initialized-task", initialized_task),
    Detector("consensus-reached", consensus_reached),
    Detector("unfinished-steps", unfinished_steps),
    Detector("result-uploaded-not-finalized", result_uploaded_not_finalized),
    Detector("contribution-timeout", contribution_timeout),
    Detector("final-deadline", final_deadline),
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
