"""The task engine: one pure function decides every task status change (spec/scheduler.md §1.3).

`decide(task, replicates, chain, now)` reads plain values and returns a `Transition`: the statuses to
append (with their cause), the task fields to set, the replicate statuses the scheduler writes (each
accepted by `decide_replicate`), the notifications to send, and at most one action (a chain transaction or an SMS call) to
perform *after* the write. It performs no I/O. The updater (scheduler/updater.py) loads the state,
writes the transition in one database transaction guarded by the status it read, performs the
action, and asks again until nothing is left to do.

A reader finds every task status change of pocopool in `decide` and the two phase modules it calls
(contribution.py, reveal.py): detectors, status updates and recovery only ask for a decision.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from ...protocol.statuses import ChainTaskStatus as CTS
from ...protocol.statuses import TaskStatus as TS
from ...protocol.tags import TeeFramework
from ...protocol.task_causes import TaskFailureCause
from ...protocol.time import iso
from ..state import ReplicateRecord, TaskState
from .contribution import HANDLERS as CONTRIBUTION_HANDLERS
from .reveal import (
    HANDLERS as REVEAL_HANDLERS,
)
from .reveal import (
    REVEAL_TIMEOUT_STATUSES,
    UPLOAD_TIMEOUT_PERIODS,
    finalized,
    result_uploading,
    with_reveal_timeouts,
)
from .rules import complete_task, fail_task
from .running_failed import running_failed
from .transition import NOTHING, ChainView, StatusChange, Transition

_HANDLERS = {**CONTRIBUTION_HANDLERS, **REVEAL_HANDLERS}
# A task whose chain task was claimed fails with the status of the transaction it was waiting for.
_ENDS_A_CLAIM_ITSELF = frozenset({TS.REOPENING, TS.FINALIZING})


def decide(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    *,
    tee_frameworks: frozenset[TeeFramework] = frozenset(),
    upload_timeout_periods: float = UPLOAD_TIMEOUT_PERIODS,
    alive_workers: Collection[str] | None = None,
) -> Transition:
    """The next step of one task. Empty when nothing is to be done now.

    `tee_frameworks` lists the TEE frameworks this workerpool can serve (an SMS is configured).
    `upload_timeout_periods`: how many category periods a chosen uploader has before the next
    revealer is asked. `alive_workers`: the wallets of the alive workers that could take the task, read
    by the updater for a task in INITIALIZED or RUNNING only (None: unknown, and RUNNING_FAILED is not
    decided).
    """
    status = task.status
    if status.is_final:
        return NOTHING
    if status.is_failure:
        # Never written alone by pocopool; heal a record left by an older version.
        return Transition(statuses=(StatusChange(TS.FAILED),))
    # The chain's word wins over our deadline: a finalize mined before the deadline is a success.
    if status is TS.FINALIZED:
        return finalized(task, replicates, chain, now, tee_frameworks)
    if status is TS.FINALIZING and chain.task is not None and chain.task.status is CTS.COMPLETED:
        return complete_task(replicates, chain.tx)
    if now >= task.final_deadline:
        return fail_task(
            replicates,
            TS.FINAL_DEADLINE_REACHED,
            TaskFailureCause.FINAL_DEADLINE_REACHED,
            f"the final deadline {iso(task.final_deadline)} passed before the task ended",
        )
    ct = chain.task
    if ct is not None and ct.status is CTS.FAILED and status not in _ENDS_A_CLAIM_ITSELF:
        # A claim is final on chain: nothing the scheduler does can end the task well any more, so its
        # workers are told at once rather than at the scheduler's own final deadline (decision 131).
        return fail_task(
            replicates,
            TS.FINAL_DEADLINE_REACHED,
            TaskFailureCause.TASK_CLAIMED,
            f"the task was claimed on chain: the ledger's clock passed the final deadline {iso(ct.final_deadline)} "
            "before the scheduler's",
        )
    if status is TS.RESULT_UPLOADING:
        transition = result_uploading(task, replicates, chain, now, upload_timeout_periods)
    else:
        handler = _HANDLERS.get(status)
        transition = handler(task, replicates, chain, now, tee_frameworks) if handler else NOTHING
    if status in (TS.INITIALIZED, TS.RUNNING) and transition.new_status is None:
        failed = running_failed(task, replicates, alive_workers)
        if not failed.is_empty and status is TS.INITIALIZED:
            # Every capable worker refused it at START (a heap too large, a session refused, arguments
            # that cannot be split): the task never reached RUNNING by a STARTED, but workers did work
            # on it (docs/decisions.md).
            tried = ", ".join(sorted(r.wallet for r in replicates))
            return replace(failed, statuses=(StatusChange(TS.RUNNING, message=f"tried by {tried}"), *failed.statuses))
        if not failed.is_empty:
            return failed
    if status in REVEAL_TIMEOUT_STATUSES and transition.new_status not in (TS.REOPENING, TS.FAILED):
        transition = with_reveal_timeouts(transition, task, replicates, now)
    return transition
