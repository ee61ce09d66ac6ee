"""The contribution phase of a task: RECEIVED → INITIALIZING → INITIALIZED → RUNNING → CONSENSUS_REACHED
(spec/scheduler.md §1.3), and the contribution timeout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...chain.errors import TASK_ALREADY_INITIALIZED
from ...protocol.crypto import ZERO_ADDRESS
from ...protocol.statuses import (
    ChainTaskStatus as CTS,
)
from ...protocol.statuses import (
    ReplicateStatus as RS,
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
from .orders import consensus_order
from .rules import ENDED, consensus_winners, fail_task
from .tee import contribute_and_finalize, enclave_challenge, framework_check
from .transition import NOTHING, ChainAction, ChainView, Notification, StatusChange, Transition

# Statuses showing that the worker is working on the task (spec §1.3 INITIALIZED → RUNNING).
# START_FAILED deliberately does not count.
STARTED_OR_LATER = frozenset(
    {
        RS.STARTED,
        RS.APP_DOWNLOADING,
        RS.APP_DOWNLOAD_FAILED,
        RS.APP_DOWNLOADED,
        RS.DATA_DOWNLOADING,
        RS.DATA_DOWNLOAD_FAILED,
        RS.DATA_DOWNLOADED,
        RS.COMPUTING,
        RS.COMPUTE_FAILED,
        RS.COMPUTED,
        RS.CONTRIBUTING,
        RS.CONTRIBUTE_FAILED,
        RS.CONTRIBUTED,
        RS.CONTRIBUTE_AND_FINALIZE_ONGOING,
        RS.CONTRIBUTE_AND_FINALIZE_FAILED,
        RS.CONTRIBUTE_AND_FINALIZE_DONE,
    }
)


# ----- one function per current status --------------------------------------------------------------


def _received(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    framework = task.tee_framework
    if framework is not None and framework not in tee_frameworks:
        return fail_task(
            replicates,
            TS.INITIALIZE_FAILED,
            TaskFailureCause.TEE_NOT_SUPPORTED,
            f"the task asks for the TEE framework {framework.value} and this workerpool has no SMS for it",
        )
    if now >= task.contribution_deadline:
        return fail_task(
            replicates,
            TS.INITIALIZE_FAILED,
            TaskFailureCause.CONTRIBUTION_DEADLINE_PASSED,
            f"the contribution deadline {iso(task.contribution_deadline)} passed before the task was initialized",
        )
    if framework is not None:
        unchecked = framework_check(task, replicates, chain)
        if unchecked is not None:
            return unchecked
    if chain.task is not None and chain.task.status is not CTS.UNSET:
        if framework is not None:  # INITIALIZED once the SMS gave the enclave challenge (_initializing)
            return Transition(
                statuses=(StatusChange(TS.INITIALIZING, message="the task was already initialized on chain"),)
            )
        return Transition(
            statuses=(
                StatusChange(TS.INITIALIZING, message="the task was already initialized on chain"),
                StatusChange(TS.INITIALIZED, message=f"the task is {chain.task.status.value} on chain"),
            ),
            fields={"enclave_challenge": ZERO_ADDRESS},
        )
    return Transition(
        statuses=(StatusChange(TS.INITIALIZING, message="initialize transaction requested"),),
        action=ChainAction.INITIALIZE,
    )


def _initializing(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    tx = chain.tx if chain.tx is not None and chain.tx.action is ChainAction.INITIALIZE else None
    if chain.task is not None and chain.task.status is not CTS.UNSET:
        if task.tee_framework is not None:
            return enclave_challenge(task, replicates, chain, now, tx)
        mined = tx is not None and tx.mined
        fields: dict[str, Any] = {"enclave_challenge": ZERO_ADDRESS}
        if mined:
            fields["initialization_block"] = tx.block_number  # type: ignore[union-attr]
        return Transition(
            statuses=(
                StatusChange(
                    TS.INITIALIZED,
                    message="initialize transaction mined"
                    if mined
                    else f"the task is {chain.task.status.value} on chain",
                    block_number=tx.block_number if mined else None,  # type: ignore[union-attr]
                    tx_hash=tx.tx_hash if mined else None,  # type: ignore[union-attr]
                ),
            ),
            fields=fields,
        )
    if tx is not None and tx.reverted and tx.revert_rule != TASK_ALREADY_INITIALIZED:
        return fail_task(
            replicates,
            TS.INITIALIZE_FAILED,
            TaskFailureCause.of_chain_rule(tx.revert_rule),
            f"the ledger refused the initialize transaction ({tx.revert_rule}): {tx.revert_message or tx.revert_rule}",
        )
    # Sent but unknown, or the chain unreadable: a detector asks again later. So is an initialize
    # refused because the task is already initialized (someone else initialized it, anyone may): a
    # refusal that means success, known for sure once the chain can be read again (above).
    if tx is not None or chain.task is None:
        return NOTHING
    if now >= task.contribution_deadline:
        return fail_task(
            replicates,
            TS.INITIALIZE_FAILED,
            TaskFailureCause.CONTRIBUTION_DEADLINE_PASSED,
            f"the contribution deadline {iso(task.contribution_deadline)} passed before the task was initialized",
        )
    # INITIALIZING was written but the chain never saw the transaction (crash in between): send it again.
    return Transition(action=ChainAction.INITIALIZE)


def _contribution_timeout(
    task: TaskState, replicates: Sequence[ReplicateRecord], chain: ChainView, now: float
) -> Transition | None:
    assert chain.task is not None
    if chain.task.status in (CTS.UNSET, CTS.ACTIVE) and now >= task.contribution_deadline:
        return fail_task(
            replicates,
            TS.CONTRIBUTION_TIMEOUT,
            TaskFailureCause.CONTRIBUTION_TIMEOUT,
            f"the contribution deadline {iso(task.contribution_deadline)} passed before consensus was reached",
            abort=TaskAbortCause.CONTRIBUTION_TIMEOUT,
        )
    return None


def _initialized(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    if chain.task is None:
        return NOTHING
    timeout = _contribution_timeout(task, replicates, chain, now)
    if timeout is not None:
        return timeout  # and stop there (spec §10 quirk 1)
    started = [r for r in replicates if r.last_relevant in STARTED_OR_LATER]
    if started:
        return Transition(statuses=(StatusChange(TS.RUNNING, message=f"worker {started[0].wallet} started the task"),))
    return NOTHING


def _running(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    chain: ChainView,
    now: float,
    tee_frameworks: frozenset[TeeFramework],
) -> Transition:
    ct = chain.task
    if ct is None:
        return NOTHING
    timeout = _contribution_timeout(task, replicates, chain, now)
    if timeout is not None:
        return timeout
    if task.contribute_and_finalize:
        return contribute_and_finalize(task, replicates, chain)
    if ct.status is not CTS.REVEALING:
        return NOTHING
    winners = consensus_winners(task, replicates, ct.consensus_value)
    if len(winners) < ct.winner_counter:
        return NOTHING  # the chain knows winners that did not tell us yet
    block = chain.consensus_block or chain.latest_block or 0
    orders = {r.wallet: consensus_order(r, ct.consensus_value) for r in replicates if r.status not in ENDED}
    winner_wallets = tuple(w for w, order in orders.items() if order.type is Next.PLEASE_REVEAL)
    losers = tuple(w for w, order in orders.items() if order.type is Next.PLEASE_ABORT)
    notifications = [Notification(Next.PLEASE_REVEAL, winner_wallets, block_number=block)] if winner_wallets else []
    if losers:
        notifications.append(Notification(Next.PLEASE_ABORT, losers, abort_cause=TaskAbortCause.CONSENSUS_REACHED))
    return Transition(
        statuses=(
            StatusChange(
                TS.CONSENSUS_REACHED,
                block_number=block or None,
                message=f"{len(winners)} of {len(replicates)} replicates agree on {ct.consensus_value}",
            ),
        ),
        fields={
            "consensus": ct.consensus_value,
            "consensus_block": block,
            "reveal_deadline": float(ct.reveal_deadline),
        },
        notifications=tuple(notifications),
    )


HANDLERS = {
    TS.RECEIVED: _received,
    TS.INITIALIZING: _initializing,
    TS.INITIALIZED: _initialized,
    TS.RUNNING: _running,
}
