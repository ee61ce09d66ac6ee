"""The task engine: one pure function decides every task status change (spec/scheduler.md §1.3).

`decide(task, replicates, chain, now)` reads plain values and returns a `Transition`: the statuses to
append (with their cause), the task fields to set, the replicate statuses the scheduler writes, the
pushes to send, and at most one chain transaction to send *after* the write. It performs no I/O.
The applier (updater.py) loads the state, writes the transition in one database transaction guarded
by the status it read, performs the transaction, and asks again until nothing is left to do.

A reader finds every task status change of pocopool here: detectors, status updates and recovery
only ask for a decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..chain.base import ChainTask
from ..protocol.crypto import ZERO_ADDRESS
from ..protocol.statuses import (
    ChainTaskStatus as CTS,
    FINAL_REPLICATE_STATUSES,
    ReplicateStatus as RS,
    ReplicateStatusCause as Cause,
    TaskAbortCause,
    TaskNotificationType as Next,
    TaskStatus as TS,
)
from ..protocol.tags import TeeFramework
from ..protocol.time import iso as _iso
from .state import ReplicateState, TaskState


class ChainAction(str, Enum):
    """A transaction the scheduler sends after writing the status that announces it."""

    INITIALIZE = "initialize"
    REOPEN = "reopen"
    FINALIZE = "finalize"


@dataclass(frozen=True)
class TxOutcome:
    """What happened to the transaction the applier just sent (None in ChainView: none sent)."""

    action: ChainAction
    block_number: int | None = None
    tx_hash: str | None = None
    revert_rule: str | None = None  # the ledger refused it: the rule it broke
    revert_message: str | None = None
    error: str | None = None  # the ledger could not be reached: nothing is known

    @property
    def reverted(self) -> bool:
        return self.revert_rule is not None

    @property
    def mined(self) -> bool:
        return self.block_number is not None and not self.reverted


@dataclass(frozen=True)
class ChainView:
    """What the chain says about the task. `task` is None when it could not be read."""

    task: ChainTask | None
    consensus_block: int | None = None  # block of the TaskConsensus event, when found
    latest_block: int | None = None
    tx: TxOutcome | None = None


@dataclass(frozen=True)
class StatusChange:
    """One entry appended to the task history: the status, a machine cause, a sentence."""

    status: TS
    cause: str | None = None
    message: str | None = None
    block_number: int | None = None
    tx_hash: str | None = None


@dataclass(frozen=True)
class ReplicateChange:
    """A replicate status the scheduler (POOL_MANAGER) writes, guarded by the replicate's status."""

    wallet: str
    expected: RS
    status: RS
    cause: Cause | None = None
    message: str | None = None


@dataclass(frozen=True)
class Push:
    """A notification to some workers, stored in the same transaction as the change causing it."""

    type: Next
    wallets: tuple[str, ...]
    abort_cause: TaskAbortCause | None = None
    block_number: int = 0


@dataclass(frozen=True)
class Transition:
    statuses: tuple[StatusChange, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)  # TaskState attribute -> new value
    replicates: tuple[ReplicateChange, ...] = ()
    pushes: tuple[Push, ...] = ()
    action: ChainAction | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.statuses or self.fields or self.replicates or self.pushes or self.action)

    @property
    def new_status(self) -> TS | None:
        return self.statuses[-1].status if self.statuses else None


NOTHING = Transition()

# A chosen uploader that has not uploaded after this many category periods is replaced by the next
# revealer (docs/decisions.md: RESULT_UPLOAD_TIMEOUT is reachable).
UPLOAD_TIMEOUT_PERIODS = 2.0

# Statuses showing that the worker is working on the task (spec §1.3 INITIALIZED → RUNNING).
# START_FAILED deliberately does not count.
STARTED_OR_LATER = frozenset({
    RS.STARTED, RS.APP_DOWNLOADING, RS.APP_DOWNLOAD_FAILED, RS.APP_DOWNLOADED, RS.DATA_DOWNLOADING,
    RS.DATA_DOWNLOAD_FAILED, RS.DATA_DOWNLOADED, RS.COMPUTING, RS.COMPUTE_FAILED, RS.COMPUTED,
    RS.CONTRIBUTING, RS.CONTRIBUTE_FAILED, RS.CONTRIBUTED, RS.CONTRIBUTE_AND_FINALIZE_ONGOING,
    RS.CONTRIBUTE_AND_FINALIZE_FAILED, RS.CONTRIBUTE_AND_FINALIZE_DONE,
})
# A replicate in one of these is over for the scheduler: it gets no more pushes.
_ENDED = FINAL_REPLICATE_STATUSES | {RS.ABORTED}


def holders(replicates: Sequence[ReplicateState]) -> tuple[str, ...]:
    """Wallets of the workers still holding a replicate of the task (not ended)."""
    return tuple(r.wallet for r in replicates if r.status not in _ENDED)


def _failed(
    replicates: Sequence[ReplicateState], status: TS, cause: str, message: str,
    abort: TaskAbortCause | None = TaskAbortCause.UNKNOWN,
) -> Transition:
    """An intermediate failure status written together with FAILED; holders are told to abort."""
    wallets = holders(replicates)
    pushes = (Push(Next.PLEASE_ABORT, wallets, abort_cause=abort),) if wallets else ()
    return Transition(
        statuses=(StatusChange(status, cause, message), StatusChange(TS.FAILED)),
        pushes=pushes,
    )


def _completed(replicates: Sequence[ReplicateState], tx: TxOutcome | None) -> Transition:
    receipt = tx if tx is not None and tx.action is ChainAction.FINALIZE and tx.mined else None
    wallets = holders(replicates)
    return Transition(
        statuses=(
            StatusChange(
                TS.FINALIZED, message="the task is finalized on chain",
                block_number=receipt.block_number if receipt else None,
                tx_hash=receipt.tx_hash if receipt else None,
            ),
            StatusChange(TS.COMPLETED),
        ),
        pushes=(Push(Next.PLEASE_COMPLETE, wallets),) if wallets else (),
    )


def decide(
    task: TaskState,
    replicates: Sequence[ReplicateState],
    chain: ChainView,
    now: float,
    *,
    tee_frameworks: frozenset[TeeFramework] = frozenset(),
    upload_timeout_periods: float = UPLOAD_TIMEOUT_PERIODS,
) -> Transition:
    """The next step of one task. Empty when nothing is to be done now.

    `tee_frameworks` lists the TEE frameworks this workerpool can serve (an SMS is configured).
    `upload_timeout_periods`: how many category periods a chosen uploader has before the next
    revealer is asked.
    """
    status = task.status
    if status.is_final:
        return NOTHING
    if status.is_failure:
        # Never written alone by pocopool; heal a record left by an older version.
        return Transition(statuses=(StatusChange(TS.FAILED),))
    # The chain's word wins over our deadline: a finalize mined before the deadline is a success.
    if status is TS.FINALIZED:
        return _finalized(task, replicates, chain, now, tee_frameworks)
    if status is TS.FINALIZING and chain.task is not None and chain.task.status is CTS.COMPLETED:
        return _completed(replicates, chain.tx)
    if now >= task.final_deadline:
        return _failed(
            replicates, TS.FINAL_DEADLINE_REACHED, "FINAL_DEADLINE_REACHED",
            f"the final deadline {_iso(task.final_deadline)} passed before the task ended",
        )
    if status is TS.RESULT_UPLOADING:
        transition = _result_uploading(task, replicates, chain, now, upload_timeout_periods)
    else:
        handler = _HANDLERS.get(status)
        transition = handler(task, replicates, chain, now, tee_frameworks) if handler else NOTHING
    if status in _REVEAL_TIMEOUT_STATUSES and transition.new_status not in (TS.REOPENING, TS.FAILED):
        transition = _with_reveal_timeouts(transition, task, replicates, now)
    return transition


# ----- reveal timeout (spec §4.2 RevealTimeoutDetector, decided here) ---------------------------------------

_REVEAL_TIMEOUT_STATUSES = frozenset({
    TS.CONSENSUS_REACHED, TS.AT_LEAST_ONE_REVEALED, TS.RESULT_UPLOADING, TS.RESULT_UPLOADED,
})


def reveal_timed_out(task: TaskState, replicates: Sequence[ReplicateState], now: float) -> list[ReplicateState]:
    """Winners that did not reveal before the reveal deadline (their replicate becomes FAILED)."""
    if task.reveal_deadline is None or task.consensus is None or now < task.reveal_deadline:
        return []
    return [
        r for r in consensus_winners(task, replicates, task.consensus)
        if r.last_relevant in (RS.CONTRIBUTED, RS.REVEALING)
    ]


def _reveal_timeout_changes(task: TaskState, replicates: Sequence[ReplicateState], now: float,
                            skip: frozenset[str] = frozenset()) -> tuple[ReplicateChange, ...]:
    return tuple(
        ReplicateChange(
            r.wallet, r.status, RS.FAILED, Cause.REVEAL_TIMEOUT,
            f"no reveal before the reveal deadline {_iso(task.reveal_deadline or 0)}",
        )
        for r in reveal_timed_out(task, replicates, now) if r.wallet not in skip
    )


def _with_reveal_timeouts(transition: Transition, task: TaskState, replicates: Sequence[ReplicateState],
                          now: float) -> Transition:
    changes = _reveal_timeout_changes(task, replicates, now, frozenset(c.wallet for c in transition.replicates))
    if not changes:
        return transition
    return Transition(
        statuses=transition.statuses, fields=transition.fields, replicates=transition.replicates + changes,
        pushes=transition.pushes, action=transition.action,
    )


# ----- one function per current status --------------------------------------------------------------

def _received(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
              tee_frameworks: frozenset[TeeFramework]) -> Transition:
    framework = task.tee_framework
    if framework is not None and framework not in tee_frameworks:
        return _failed(
            replicates, TS.INITIALIZE_FAILED, "TEE_NOT_SUPPORTED",
            f"the task asks for the TEE framework {framework.value} and this workerpool has no SMS for it",
        )
    if now >= task.contribution_deadline:
        return _failed(
            replicates, TS.INITIALIZE_FAILED, "CONTRIBUTION_DEADLINE_PASSED",
            f"the contribution deadline {_iso(task.contribution_deadline)} passed before the task was initialized",
        )
    if chain.task is not None and chain.task.status is not CTS.UNSET:
        return Transition(
            statuses=(
                StatusChange(TS.INITIALIZING, message="the task was already initialized on chain"),
                StatusChange(TS.INITIALIZED, message=f"the task is {chain.task.status.value} on chain"),
            ),
            fields={"enclave_challenge": _enclave_challenge(task)},
        )
    return Transition(
        statuses=(StatusChange(TS.INITIALIZING, message="initialize transaction requested"),),
        action=ChainAction.INITIALIZE,
    )


def _enclave_challenge(task: TaskState) -> str:
    # Standard tasks use the zero address; TEE tasks get theirs from an SMS (not supported yet).
    return ZERO_ADDRESS


def _initializing(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
                  tee_frameworks: frozenset[TeeFramework]) -> Transition:
    tx = chain.tx if chain.tx is not None and chain.tx.action is ChainAction.INITIALIZE else None
    if chain.task is not None and chain.task.status is not CTS.UNSET:
        mined = tx is not None and tx.mined
        fields: dict[str, Any] = {"enclave_challenge": _enclave_challenge(task)}
        if mined:
            fields["initialization_block"] = tx.block_number  # type: ignore[union-attr]
        return Transition(
            statuses=(StatusChange(
                TS.INITIALIZED,
                message="initialize transaction mined" if mined else f"the task is {chain.task.status.value} on chain",
                block_number=tx.block_number if mined else None,  # type: ignore[union-attr]
                tx_hash=tx.tx_hash if mined else None,  # type: ignore[union-attr]
            ),),
            fields=fields,
        )
    if tx is not None and tx.reverted:
        return _failed(
            replicates, TS.INITIALIZE_FAILED, tx.revert_rule or "REVERTED",
            f"the ledger refused the initialize transaction ({tx.revert_rule}): {tx.revert_message or tx.revert_rule}",
        )
    if tx is not None or chain.task is None:
        return NOTHING  # sent but unknown, or chain unreadable: a detector asks again later
    if now >= task.contribution_deadline:
        return _failed(
            replicates, TS.INITIALIZE_FAILED, "CONTRIBUTION_DEADLINE_PASSED",
            f"the contribution deadline {_iso(task.contribution_deadline)} passed before the task was initialized",
        )
    # INITIALIZING was written but the chain never saw the transaction (crash in between): send it again.
    return Transition(action=ChainAction.INITIALIZE)


def _contribution_timeout(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView,
                          now: float) -> Transition | None:
    assert chain.task is not None
    if chain.task.status in (CTS.UNSET, CTS.ACTIVE) and now >= task.contribution_deadline:
        return _failed(
            replicates, TS.CONTRIBUTION_TIMEOUT, "CONTRIBUTION_TIMEOUT",
            f"the contribution deadline {_iso(task.contribution_deadline)} passed before consensus was reached",
            abort=TaskAbortCause.CONTRIBUTION_TIMEOUT,
        )
    return None


def _initialized(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
                 tee_frameworks: frozenset[TeeFramework]) -> Transition:
    if chain.task is None:
        return NOTHING
    timeout = _contribution_timeout(task, replicates, chain, now)
    if timeout is not None:
        return timeout  # and stop there (spec §10 quirk 1)
    started = [r for r in replicates if r.last_relevant in STARTED_OR_LATER]
    if started:
        return Transition(statuses=(StatusChange(
            TS.RUNNING, message=f"worker {started[0].wallet} started the task"),))
    return NOTHING


def consensus_winners(task: TaskState, replicates: Sequence[ReplicateState], consensus: str) -> list[ReplicateState]:
    """Replicates that contributed the consensus value (reported CONTRIBUTED, hash verified on chain)."""
    return [
        r for r in replicates
        if r.has(RS.CONTRIBUTED) and r.contribution_hash is not None
        and r.contribution_hash.lower() == consensus.lower()
        and r.last_relevant is not RS.FAILED  # failed by a reveal timeout before a reopen: out of the game
    ]


def _running(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
             tee_frameworks: frozenset[TeeFramework]) -> Transition:
    ct = chain.task
    if ct is None:
        return NOTHING
    timeout = _contribution_timeout(task, replicates, chain, now)
    if timeout is not None:
        return timeout
    if ct.status is not CTS.REVEALING:
        return NOTHING
    winners = consensus_winners(task, replicates, ct.consensus_value)
    if len(winners) < ct.winner_counter:
        return NOTHING  # the chain knows winners that did not tell us yet
    block = chain.consensus_block or chain.latest_block or 0
    winner_wallets = tuple(r.wallet for r in winners if r.status not in _ENDED)
    losers = tuple(w for w in holders(replicates) if w not in winner_wallets)
    pushes = [Push(Next.PLEASE_REVEAL, winner_wallets, block_number=block)] if winner_wallets else []
    if losers:
        pushes.append(Push(Next.PLEASE_ABORT, losers, abort_cause=TaskAbortCause.CONSENSUS_REACHED))
    return Transition(
        statuses=(StatusChange(
            TS.CONSENSUS_REACHED, block_number=block or None,
            message=f"{len(winners)} of {len(replicates)} replicates agree on {ct.consensus_value}",
        ),),
        fields={
            "consensus": ct.consensus_value,
            "consensus_block": block,
            "reveal_deadline": float(ct.reveal_deadline),
        },
        pushes=tuple(pushes),
    )


def _consensus_reached(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
                       tee_frameworks: frozenset[TeeFramework]) -> Transition:
    revealers = [r for r in replicates if r.has(RS.REVEALED)]
    if revealers:
        return Transition(statuses=(StatusChange(
            TS.AT_LEAST_ONE_REVEALED, message=f"worker {revealers[0].wallet} revealed"),))
    ct = chain.task
    deadline = task.reveal_deadline if task.reveal_deadline is not None else (ct.reveal_deadline if ct else None)
    if ct is None or deadline is None or now < deadline:
        return NOTHING
    if ct.status is CTS.REVEALING and ct.reveal_counter == 0 and now >= ct.reveal_deadline:
        return Transition(
            statuses=(StatusChange(
                TS.REOPENING, message=f"no winner revealed before the reveal deadline {_iso(deadline)}: reopen requested",
            ),),
            action=ChainAction.REOPEN,
        )
    return NOTHING


def _reopening(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
               tee_frameworks: frozenset[TeeFramework]) -> Transition:
    """REOPENING → REOPENED → INITIALIZED once the chain shows the task ACTIVE again (the winners that did
    not reveal are FAILED with REVEAL_TIMEOUT; new workers may contribute until the unchanged
    contribution deadline)."""
    tx = chain.tx if chain.tx is not None and chain.tx.action is ChainAction.REOPEN else None
    ct = chain.task
    if tx is not None and tx.reverted:
        return _failed(
            replicates, TS.REOPEN_FAILED, tx.revert_rule or "REVERTED",
            f"the ledger refused the reopen transaction ({tx.revert_rule}): {tx.revert_message or tx.revert_rule}",
        )
    if ct is None:
        return NOTHING
    if ct.status is CTS.ACTIVE:
        mined = tx is not None and tx.mined
        changes = tuple(
            ReplicateChange(r.wallet, r.status, RS.FAILED, Cause.REVEAL_TIMEOUT,
                            f"no reveal before the reveal deadline {_iso(task.reveal_deadline or 0)}")
            for r in replicates if r.last_relevant in (RS.CONTRIBUTED, RS.REVEALING)
            and task.consensus is not None and (r.contribution_hash or "").lower() == task.consensus.lower()
        )
        return Transition(
            statuses=(
                StatusChange(TS.REOPENED, message="the task is ACTIVE again on chain",
                             block_number=tx.block_number if mined else None,  # type: ignore[union-attr]
                             tx_hash=tx.tx_hash if mined else None),  # type: ignore[union-attr]
                StatusChange(TS.INITIALIZED, message=(
                    f"new workers may contribute until the contribution deadline {_iso(task.contribution_deadline)}")),
            ),
            fields={"consensus": None, "reveal_deadline": None, "consensus_block": None, "uploading_wallet": None},
            replicates=changes,
        )
    if tx is not None:
        return NOTHING  # sent, outcome unknown: a detector asks again
    if ct.status is CTS.REVEALING and ct.reveal_counter == 0:
        # REOPENING was written but the chain never saw the transaction (crash in between): send it again.
        return Transition(action=ChainAction.REOPEN)
    if ct.status is CTS.REVEALING:
        return _failed(replicates, TS.REOPEN_FAILED, "TASK_HAS_REVEALS",
                       "a winner revealed after all: the task can no longer be reopened")
    return _failed(replicates, TS.REOPEN_FAILED, f"TASK_{ct.status.value}",
                   f"the chain task is {ct.status.value}: it cannot be reopened")


def choose_uploader(replicates: Sequence[ReplicateState]) -> ReplicateState | None:
    """The revealer asked to upload: the first one to have revealed (deterministic, and the fastest)."""
    candidates = [r for r in replicates if r.status is RS.REVEALED]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r.first_date(RS.REVEALED) or 0.0, r.wallet.lower()))


def _request_upload(task: TaskState, replicates: Sequence[ReplicateState], status: TS | None) -> Transition:
    uploader = choose_uploader(replicates)
    if uploader is None:
        return NOTHING
    statuses = (StatusChange(status, message=f"worker {uploader.wallet} is asked to upload the result"),) if status else ()
    return Transition(
        statuses=statuses,
        fields={"uploading_wallet": uploader.wallet},
        replicates=(ReplicateChange(uploader.wallet, RS.REVEALED, RS.RESULT_UPLOAD_REQUESTED),),
        pushes=(Push(Next.PLEASE_UPLOAD, (uploader.wallet,)),),
    )


def _at_least_one_revealed(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
                           tee_frameworks: frozenset[TeeFramework]) -> Transition:
    return _request_upload(task, replicates, TS.RESULT_UPLOADING)


def _result_uploading(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
                      upload_timeout_periods: float = UPLOAD_TIMEOUT_PERIODS) -> Transition:
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
        timed_out = (ReplicateChange(
            uploader.wallet, uploader.status, RS.RESULT_UPLOAD_FAILED,
            message=f"no upload within {limit:.0f} s of the request",
        ),)
    # Nobody is uploading (the uploader failed, timed out or vanished): ask another revealer, if any.
    others = [r for r in replicates if not (timed_out and r.wallet == timed_out[0].wallet)]
    upload = _request_upload(task, others, None)
    if not upload.is_empty:
        return Transition(fields=upload.fields, replicates=timed_out + upload.replicates,
                          pushes=upload.pushes + _abort_pushes(timed_out))
    if _may_still_reveal(task, replicates, now):
        return Transition(replicates=timed_out, pushes=_abort_pushes(timed_out)) if timed_out else NOTHING
    failed = _failed(others, TS.RESULT_UPLOAD_TIMEOUT, "RESULT_UPLOAD_TIMEOUT",
                     "no revealer uploaded the result and no other revealer is left")
    return Transition(statuses=failed.statuses, replicates=timed_out,
                      pushes=failed.pushes + _abort_pushes(timed_out))


def _abort_pushes(changes: tuple[ReplicateChange, ...]) -> tuple[Push, ...]:
    wallets = tuple(c.wallet for c in changes)
    return (Push(Next.PLEASE_ABORT, wallets, abort_cause=TaskAbortCause.UNKNOWN),) if wallets else ()


def _may_still_reveal(task: TaskState, replicates: Sequence[ReplicateState], now: float) -> bool:
    """A winner that has not revealed yet and still may (before the reveal deadline)."""
    if task.consensus is None or (task.reveal_deadline is not None and now >= task.reveal_deadline):
        return False
    return any(r.last_relevant in (RS.CONTRIBUTED, RS.REVEALING) for r in consensus_winners(task, replicates, task.consensus))


def finalize_blocker(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float) -> str | None:
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


def _result_uploaded(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
                     tee_frameworks: frozenset[TeeFramework]) -> Transition:
    if finalize_blocker(task, replicates, chain, now) is not None:
        return NOTHING
    return Transition(
        statuses=(StatusChange(TS.FINALIZING, message="finalize transaction requested"),),
        action=ChainAction.FINALIZE,
    )


def _finalizing(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
                tee_frameworks: frozenset[TeeFramework]) -> Transition:
    # chain COMPLETED was handled before the deadline check in decide().
    tx = chain.tx if chain.tx is not None and chain.tx.action is ChainAction.FINALIZE else None
    if tx is not None and tx.reverted:
        return _failed(
            replicates, TS.FINALIZE_FAILED, tx.revert_rule or "REVERTED",
            f"the ledger refused the finalize transaction ({tx.revert_rule}): {tx.revert_message or tx.revert_rule}",
        )
    ct = chain.task
    if tx is not None or ct is None:
        return NOTHING
    if ct.status is CTS.FAILED:
        return _failed(replicates, TS.FINALIZE_FAILED, "TASK_CLAIMED", "the task was claimed on chain before it was finalized")
    if ct.status is CTS.REVEALING:
        # FINALIZING was written but the chain never saw the transaction (crash in between): send it again.
        return Transition(action=ChainAction.FINALIZE)
    return NOTHING


def _reopened(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
              tee_frameworks: frozenset[TeeFramework]) -> Transition:
    # Written with INITIALIZED in one transaction; found alone only if an older record left it there.
    return Transition(statuses=(StatusChange(TS.INITIALIZED, message="the task is open again"),))


def _finalized(task: TaskState, replicates: Sequence[ReplicateState], chain: ChainView, now: float,
               tee_frameworks: frozenset[TeeFramework]) -> Transition:
    wallets = holders(replicates)
    return Transition(
        statuses=(StatusChange(TS.COMPLETED),),
        pushes=(Push(Next.PLEASE_COMPLETE, wallets),) if wallets else (),
    )


_HANDLERS = {
    TS.RECEIVED: _received,
    TS.INITIALIZING: _initializing,
    TS.INITIALIZED: _initialized,
    TS.RUNNING: _running,
    TS.CONSENSUS_REACHED: _consensus_reached,
    TS.AT_LEAST_ONE_REVEALED: _at_least_one_revealed,
    TS.RESULT_UPLOADED: _result_uploaded,
    TS.FINALIZING: _finalizing,
    TS.FINALIZED: _finalized,
    TS.REOPENING: _reopening,
    TS.REOPENED: _reopened,
}
