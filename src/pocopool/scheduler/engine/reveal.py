"""The reveal phase of a task: consensus reached → revealed → result uploading → uploaded →
finalizing → finalized, the reopen path, and the reveal and upload timeouts (spec/scheduler.md §1.3,
§4.2, docs/decisions.md 37–39)."""

from __future__ import annotations

from collections.abc import Sequence

from ...chain import errors as rule
from ...protocol.statuses import (
    ChainTaskStatus as CTS,
)
from ...protocol.statuses import (
    ReplicateStatus as RS,
)
from ...protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from ...protocol.statuses import (
    TaskAbortCause,
)
from ...protocol.statuses import (
    TaskNotificationType as Next,
)
from ...protocol.statuses import (
    TaskStatus as TS,
)
from ...protocol.tags import TeeFramework
from ...protocol.task_causes import TaskFailureCause
from ...protocol.time import iso
from ..state import ReplicateRecord, TaskState
from .rules import accepted_changes, consensus_winners, fail_task, holders, pool_change
from .transition import NOTHING, ChainAction, ChainView, Notification, ReplicateChange, StatusChange, Transition

# A chosen uploader that has not uploaded after this many category periods is replaced by the next
# revealer (docs/decisions.md: RESULT_UPLOAD_TIMEOUT is reachable).
UPLOAD_TIMEOUT_PERIODS = 2.0


# ----- reveal timeout (spec §4.2 RevealTimeoutDetector, decided here) ---------------------------------------

REVEAL_TIMEOUT_STATUSES = frozenset(
    {
        TS.CONSENSUS_REACHED,
        TS.AT_LEAST_ONE_REVEALED,
        TS.RESULT_UPLOADING,
        TS.RESULT_UPLOADED,
    }
)


def reveal_timed_out(task: TaskState, replicates: Sequence[ReplicateRecord], now: float) -> list[ReplicateRecord]:
    """Winners that did not reveal before the reveal deadline (their replicate becomes FAILED)."""
    if task.reveal_deadline is None or task.consensus is None or now < task.reveal_deadline:
        return []
    return [
        r
        for r in consensus_winners(task, replicates, task.consensus)
        if r.last_relevant in (RS.CONTRIBUTED, RS.REVEALING)
    ]


def _reveal_timeout_changes(
    task: TaskState, replicates: Sequence[ReplicateRecord], now: float, skip: frozenset[str] = frozenset()
) -> tuple[ReplicateChange, ...]:
    return accepted_changes(
        pool_change(
            task,
            r,
            RS.FAILED,
            now,
            Cause.REVEAL_TIMEOUT,
            f"no reveal before the reveal deadline {iso(task.reveal_deadline or 0)}",
        )
        for r in reveal_timed_out(task, replicates, now)
        if r.wallet not in skip
    )


def with_reveal_timeouts(
    transition: Transition, task: TaskState, replicates: Sequence[ReplicateRecord], now: float
) -> Transition:
    changes = _reveal_timeout_changes(task, replicates, now, frozenset(c.wallet for c in transition.replicates))
    if not changes:
        return transition
    return Transition(
        statuses=transition.statuses,
        fields=transition.fields,
        replicates=transition.replicates + changes,
        notifications=transition.notifications,
        action=transition.action,
    )


def _consensus_reached(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    revealers = [r for r in replicates if r.has(RS.REVEALED)]
    if revealers:
        return Transition(
            statuses=(StatusChange(TS.AT_LEAST_ONE_REVEALED, message=f"worker {revealers[0].wallet} revealed"),)
        )
    ct = chain.task
    deadline = task.reveal_deadline if task.reveal_deadline is not None else (ct.reveal_deadline if ct else None)
    if ct is None or deadline is None or now < deadline:
        return NOTHING
    if ct.status is CTS.REVEALING and ct.reveal_counter == 0 and now >= ct.reveal_deadline:
        return Transition(
            statuses=(
                StatusChange(
                    TS.REOPENING,
                    message=f"no winner revealed before the reveal deadline {iso(deadline)}: reopen requested",
                ),
            ),
            action=ChainAction.REOPEN,
        )
    return NOTHING


# Refusals of a reopen or a finalize that fail no task (decisions 130 and 132): each says that the chain
# is not where the scheduler's clock put it, and the next read of the chain says what to do. The ledger's
# clock may lag the scheduler's (an external chain's blocks): what it refuses as too early it accepts once
# its own clock gets there, so the transaction is sent again at the next update, until the final deadline
# ends the task. A reopen refused because a winner revealed after all goes on with that reveal. A task no
# longer REVEALING is whatever the chain shows next (reopened, finalized, claimed).
_DECIDED_BY_THE_NEXT_READ = {
    ChainAction.REOPEN: frozenset({rule.REVEAL_DEADLINE_NOT_REACHED, rule.TASK_HAS_REVEALS, rule.TASK_NOT_REVEALING}),
    ChainAction.FINALIZE: frozenset({rule.REVEALS_PENDING, rule.TASK_NOT_REVEALING}),
}

# Why a task is not reopened when the chain shows it neither ACTIVE nor REVEALING: every other status
# a chain task can have.
_NOT_REOPENABLE = {
    CTS.UNSET: TaskFailureCause.TASK_UNSET,
    CTS.COMPLETED: TaskFailureCause.TASK_COMPLETED,
    CTS.FAILED: TaskFailureCause.TASK_CLAIMED,  # claimed; "TASK_FAILED" before decision 119
}


def _reopening(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    """REOPENING → REOPENED → INITIALIZED once the chain shows the task ACTIVE again (the winners that did
    not reveal are FAILED with REVEAL_TIMEOUT; new workers may contribute until the unchanged
    contribution deadline)."""
    tx = chain.tx if chain.tx is not None and chain.tx.action is ChainAction.REOPEN else None
    ct = chain.task
    if tx is not None and tx.revert_rule in _DECIDED_BY_THE_NEXT_READ[ChainAction.REOPEN]:
        return NOTHING  # the reopened-task detector reads the chain again
    if tx is not None and tx.reverted:
        return fail_task(
            replicates,
            TS.REOPEN_FAILED,
            TaskFailureCause.of_chain_rule(tx.revert_rule),
            f"the ledger refused the reopen transaction ({tx.revert_rule}): {tx.revert_message or tx.revert_rule}",
        )
    if ct is None:
        return NOTHING
    if ct.status is CTS.ACTIVE:
        mined = tx is not None and tx.mined
        silent_winners = accepted_changes(
            pool_change(
                task,
                r,
                RS.FAILED,
                now,
                Cause.REVEAL_TIMEOUT,
                f"no reveal before the reveal deadline {iso(task.reveal_deadline or 0)}",
            )
            for r in replicates
            if r.last_relevant in (RS.CONTRIBUTED, RS.REVEALING)
            and task.consensus is not None
            and (r.contribution_hash or "").lower() == task.consensus.lower()
        )
        return Transition(
            statuses=(
                StatusChange(
                    TS.REOPENED,
                    message="the task is ACTIVE again on chain",
                    block_number=tx.block_number if mined and tx is not None else None,
                    tx_hash=tx.tx_hash if mined and tx is not None else None,
                ),
                StatusChange(
                    TS.INITIALIZED,
                    message=(
                        f"new workers may contribute until the contribution deadline {iso(task.contribution_deadline)}"
                    ),
                ),
            ),
            fields={"consensus": None, "reveal_deadline": None, "consensus_block": None, "uploading_wallet": None},
            replicates=silent_winners,
        )
    if tx is not None:
        return NOTHING  # sent, outcome unknown: a detector asks again
    if ct.status is CTS.REVEALING and ct.reveal_counter == 0:
        # REOPENING was written but the chain never saw the transaction (crash in between): send it again.
        return Transition(action=ChainAction.REOPEN)
    if ct.status is CTS.REVEALING:
        # A winner revealed after all, before the ledger's clock reached the reveal deadline: its result
        # is as good as an earlier one, so the task goes on with it once the revealer reports it.
        revealers = [r for r in replicates if r.has(RS.REVEALED)]
        if not revealers:
            return NOTHING
        return Transition(
            statuses=(
                StatusChange(
                    TS.AT_LEAST_ONE_REVEALED,
                    message=f"worker {revealers[0].wallet} revealed before the chain's reveal deadline: no reopen",
                ),
            )
        )
    return fail_task(
        replicates,
        TS.REOPEN_FAILED,
        _NOT_REOPENABLE[ct.status],
        f"the chain task is {ct.status.value}: it cannot be reopened",
    )


def choose_uploader(replicates: Sequence[ReplicateRecord]) -> ReplicateRecord | None:
    """The revealer asked to upload: the first one to have revealed (deterministic, and the fastest)."""
    candidates = [r for r in replicates if r.status is RS.REVEALED]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r.first_date(RS.REVEALED) or 0.0, r.wallet.lower()))


def _request_upload(
    task: TaskState, replicates: Sequence[ReplicateRecord], status: TS | None, now: float
) -> Transition:
    uploader = choose_uploader(replicates)
    requested = pool_change(task, uploader, RS.RESULT_UPLOAD_REQUESTED, now) if uploader else None
    if uploader is None or requested is None:
        return NOTHING
    statuses = (
        (StatusChange(status, message=f"worker {uploader.wallet} is asked to upload the result"),) if status else ()
    )
    return Transition(
        statuses=statuses,
        fields={"uploading_wallet": uploader.wallet},
        replicates=(requested,),
        notifications=(Notification(Next.PLEASE_UPLOAD, (uploader.wallet,)),),
    )


def _at_least_one_revealed(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    return _request_upload(task, replicates, TS.RESULT_UPLOADING, now)


def result_uploading(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    upload_timeout_periods: float = UPLOAD_TIMEOUT_PERIODS,
) -> Transition:
    uploaded = [r for r in replicates if r.last_relevant is RS.RESULT_UPLOADED]
    if uploaded:
        replicate = next((r for r in uploaded if r.wallet == task.uploading_wallet), uploaded[0])
        return Transition(
            statuses=(StatusChange(TS.RESULT_UPLOADED, message=f"worker {replicate.wallet} uploaded the result"),),
            fields={"result_link": replicate.result_link, "callback_data": replicate.callback_data},
        )
    uploader = next((r for r in replicates if r.wallet == task.uploading_wallet), None)
    timed_out: tuple[ReplicateChange, ...] = ()
    if uploader is not None and uploader.last_relevant in (RS.RESULT_UPLOAD_REQUESTED, RS.RESULT_UPLOADING):
        asked = uploader.first_date(RS.RESULT_UPLOAD_REQUESTED) or task.status_date
        limit = upload_timeout_periods * task.max_execution_time
        if now - asked < limit:
            return NOTHING  # still uploading
        timed_out = accepted_changes(
            (
                pool_change(
                    task,
                    uploader,
                    RS.RESULT_UPLOAD_FAILED,
                    now,
                    message=f"no upload within {limit:.0f} s of the request",
                ),
            )
        )
    # Nobody is uploading (the uploader failed, timed out or vanished): ask another revealer, if any.
    others = [r for r in replicates if not (timed_out and r.wallet == timed_out[0].wallet)]
    upload = _request_upload(task, others, None, now)
    if not upload.is_empty:
        return Transition(
            fields=upload.fields,
            replicates=timed_out + upload.replicates,
            notifications=upload.notifications + _abort_notifications(timed_out),
        )
    if _may_still_reveal(task, replicates, now):
        return Transition(replicates=timed_out, notifications=_abort_notifications(timed_out)) if timed_out else NOTHING
    failure = fail_task(
        others,
        TS.RESULT_UPLOAD_TIMEOUT,
        TaskFailureCause.RESULT_UPLOAD_TIMEOUT,
        "no revealer uploaded the result and no other revealer is left",
    )
    return Transition(
        statuses=failure.statuses,
        replicates=timed_out,
        notifications=failure.notifications + _abort_notifications(timed_out),
    )


def _abort_notifications(changes: tuple[ReplicateChange, ...]) -> tuple[Notification, ...]:
    wallets = tuple(c.wallet for c in changes)
    return (Notification(Next.PLEASE_ABORT, wallets, abort_cause=TaskAbortCause.UNKNOWN),) if wallets else ()


def _may_still_reveal(task: TaskState, replicates: Sequence[ReplicateRecord], now: float) -> bool:
    """A winner that has not revealed yet and still may (before the reveal deadline)."""
    if task.consensus is None or (task.reveal_deadline is not None and now >= task.reveal_deadline):
        return False
    return any(
        r.last_relevant in (RS.CONTRIBUTED, RS.REVEALING) for r in consensus_winners(task, replicates, task.consensus)
    )


def finalize_blocker(
    task: TaskState, replicates: Sequence[ReplicateRecord], chain: ChainView, now: float
) -> str | None:
    """Why the task cannot be finalized now (None: it can), spec §1.3 RESULT_UPLOADED → FINALIZING."""
    ct = chain.task
    if ct is None:
        return "the chain task cannot be read"
    if ct.status is not CTS.REVEALING:
        return f"the chain task is {ct.status.value}, not REVEALING"
    if now >= ct.final_deadline:
        return "the final deadline passed"
    if not (ct.reveal_counter == ct.winner_counter or (ct.reveal_counter >= 1 and now >= ct.reveal_deadline)):
        return f"{ct.reveal_counter} of {ct.winner_counter} winners revealed and the reveal deadline is not reached"
    revealed = sum(1 for r in replicates if r.has(RS.REVEALED))
    if ct.reveal_counter != revealed:
        return f"the chain counts {ct.reveal_counter} reveals but {revealed} replicates reported REVEALED"
    return None


def _result_uploaded(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    if finalize_blocker(task, replicates, chain, now) is not None:
        return NOTHING
    return Transition(
        statuses=(StatusChange(TS.FINALIZING, message="finalize transaction requested"),),
        action=ChainAction.FINALIZE,
    )


def _finalizing(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    # chain COMPLETED was handled before the deadline check in decide().
    tx = chain.tx if chain.tx is not None and chain.tx.action is ChainAction.FINALIZE else None
    if tx is not None and tx.revert_rule in _DECIDED_BY_THE_NEXT_READ[ChainAction.FINALIZE]:
        return NOTHING  # the finalize detector reads the chain again
    if tx is not None and tx.reverted:
        return fail_task(
            replicates,
            TS.FINALIZE_FAILED,
            TaskFailureCause.of_chain_rule(tx.revert_rule),
            f"the ledger refused the finalize transaction ({tx.revert_rule}): {tx.revert_message or tx.revert_rule}",
        )
    ct = chain.task
    if tx is not None or ct is None:
        return NOTHING
    if ct.status is CTS.FAILED:
        return fail_task(
            replicates,
            TS.FINALIZE_FAILED,
            TaskFailureCause.TASK_CLAIMED,
            "the task was claimed on chain before it was finalized",
        )
    if ct.status is CTS.REVEALING:
        # FINALIZING was written but the chain never saw the transaction (crash in between): send it again.
        return Transition(action=ChainAction.FINALIZE)
    return NOTHING


def _reopened(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    # Written with INITIALIZED in one transaction; found alone only if an older record left it there.
    return Transition(statuses=(StatusChange(TS.INITIALIZED, message="the task is open again"),))


def finalized(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    wallets = holders(replicates)
    return Transition(
        statuses=(StatusChange(TS.COMPLETED),),
        notifications=(Notification(Next.PLEASE_COMPLETE, wallets),) if wallets else (),
    )


HANDLERS = {
    TS.CONSENSUS_REACHED: _consensus_reached,
    TS.AT_LEAST_ONE_REVEALED: _at_least_one_revealed,
    TS.RESULT_UPLOADED: _result_uploaded,
    TS.FINALIZING: _finalizing,
    TS.FINALIZED: finalized,
    TS.REOPENING: _reopening,
    TS.REOPENED: _reopened,
}
