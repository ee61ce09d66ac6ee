"""Why a task is not done yet: `waiting_for(task, workers, onchain, now)`.

Pure: it reads the scheduler's task view (`GET /tasks/{id}` as a `TaskView`), the worker list
(`GET /workers` as `WorkerView`s) and, optionally, the chain's record of the task (`OnChainTask`),
and returns a plain dict. The CLI (`task show`, `task debug`, `--json` key "waitingFor") and the
web UI both call it, so the answer is computed in one place and is the same everywhere
(docs/decisions.md).

The answer: `reason` (a stable code), `summary` (one sentence), `details` (more sentences), and
`deadlines`: each with its absolute time, the seconds left and what happens when it passes;
`claim` is the refund command once the final deadline has passed on a task that did not complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .consensus import needs_more_contributions
from .statuses import ChainTaskStatus
from .statuses import ReplicateStatus as RS
from .statuses import TaskStatus as TS
from .tags import TeeFramework, requires_gpu, tee_framework
from .time import iso, parse_time
from .transitions import last_relevant, may_still_contribute
from .views import OnChainTask, ReplicateView, TaskView, WorkerView

__all__ = ["contributions_needed", "refund_command", "waiting_for"]

# Replicate statuses after which a replicate can no longer contribute.
_ENDED = {
    RS.FAILED,
    RS.ABORTED,
    RS.WORKER_LOST,
    RS.COMPLETED,
    RS.START_FAILED,
    RS.APP_DOWNLOAD_FAILED,
    RS.DATA_DOWNLOAD_FAILED,
    RS.COMPUTE_FAILED,
    RS.CONTRIBUTE_FAILED,
    RS.CONTRIBUTE_AND_FINALIZE_FAILED,
}
_TRANSACTIONS = {
    TS.RECEIVED: ("initialize", "the scheduler to send the initialize transaction"),
    TS.INITIALIZING: ("initialize", "the initialize transaction to be mined"),
    TS.REOPENING: ("reopen", "the reopen transaction to be mined"),
    TS.FINALIZING: ("finalize", "the finalize transaction to be mined"),
}
# What follows each transaction, said after it (the audit of issue 17: for whom, until when, then what).
_THEN = {
    "initialize": "then the task is INITIALIZED and the next workers that ask for work get it",
    "reopen": "then contributions are open again, until the same contribution deadline",
    "finalize": "then the task is COMPLETED: the result is on chain and the workers are paid",
}


def _deadline(name: str, at: float | None, now: float, when_passed: str) -> dict[str, Any] | None:
    if at is None:
        return None
    return {
        "name": name,
        "at": iso(at),
        "secondsLeft": round(at - now, 1),
        "passed": at <= now,
        "whenPassed": when_passed,
    }


_REVEAL_PHASE = (TS.CONSENSUS_REACHED, TS.AT_LEAST_ONE_REVEALED, TS.RESULT_UPLOADING, TS.RESULT_UPLOADED)


def _reveal_phase(
    task: TaskView, consensus: str | None, reveal_at: float | None, now: float
) -> tuple[str, str, list[str], dict[str, Any] | None]:
    """From consensus to finalize: who must reveal until when, who uploads, and what the scheduler
    does next (spec/scheduler.md: finalize needs every winner revealed, or one reveal and the reveal
    deadline passed; the winners that did not reveal by then lose their stake)."""
    status = task.currentStatus
    winners = [r for r in task.replicates if consensus and r.contributionHash == consensus]
    revealed = [r for r in winners if any(u.status is RS.REVEALED for u in r.statusUpdateList)]
    pending = [r for r in winners if r not in revealed]
    names = ", ".join(r.walletAddress for r in pending)
    until = f" until {iso(reveal_at)}" if reveal_at else ""
    deadline_passed = reveal_at is not None and reveal_at <= now
    details = [f"winner {r.walletAddress} has not revealed yet ({r.currentStatus.value})" for r in pending]
    if revealed:
        at_deadline = (
            f"{names} lose{'s' if len(pending) == 1 else ''} the stake of the task and the scheduler "
            f"finalizes with the {len(revealed)} reveal(s) it has"
            if pending
            else "nothing: every winner revealed"
        )
    else:
        at_deadline = "winners that did not reveal lose their stake; with no reveal at all the task is reopened"
    deadline = _deadline("revealDeadline", reveal_at, now, at_deadline)
    if status is TS.RESULT_UPLOADING:
        uploader = task.uploadingWorkerWalletAddress
        since = next((c.date for c in reversed(task.dateStatusList) if c.status is TS.RESULT_UPLOADING), None)
        summary = f"waiting for the result upload requested from worker {uploader}"
        if since:
            summary += f" at {iso(parse_time(since) or now)}"
        summary += "; if it does not upload in time, another revealer is asked"
        if pending:
            details.append(f"then the finalize waits for {names} to reveal{until} (or for the reveal deadline)")
        return "UPLOAD", summary, details, deadline
    if pending and not (status is TS.RESULT_UPLOADED and deadline_passed):
        summary = (
            f"waiting for {names} to reveal{until}: {len(revealed)} of {len(winners)} winner(s) revealed; "
            f"the scheduler finalizes once every winner revealed or at the reveal deadline"
        )
        if status is TS.AT_LEAST_ONE_REVEALED:
            summary += "; it asks one revealer to upload the result first"
        elif status is TS.CONSENSUS_REACHED:
            summary += " (one revealer uploads the result first)"
        return "REVEALS", summary, details, deadline
    if status is TS.RESULT_UPLOADED:
        why = "every winner revealed" if not pending else "the reveal deadline passed"
        return (
            "TRANSACTION_PENDING",
            f"waiting for the scheduler to send the finalize transaction ({why})",
            ["transaction: finalize"],
            deadline,
        )
    summary = f"waiting for reveals: {len(revealed)} of {len(winners)} winner(s) revealed, reveals pending{until}"
    return "REVEALS", summary, details, deadline


def contributions_needed(trust: int, weight: int = 2) -> int:
    """How many agreeing contributions of workers of this weight make a consensus at this trust."""
    for count in range(1, 64):
        if not needs_more_contributions({"h": [weight] * count}, [], trust):
            return count
    return 64


def _worker_supply(task: TaskView, workers: Sequence[WorkerView]) -> tuple[str, str]:
    """Why no (new) worker takes the task: (reason code, sentence)."""
    task_id = task.chainTaskId
    holders = {r.walletAddress.lower() for r in task.replicates}
    alive = [w for w in workers if w.alive]
    if not alive:
        return "NO_WORKER_ALIVE", "no worker is alive (none pinged the scheduler within a minute)"
    tag = task.tag or "0x" + "00" * 32
    fit = alive
    framework = tee_framework(tag)
    if framework is not None:
        # The same rule as the supply (scheduler/supply.py worker_fits): SGX frameworks need teeEnabled.
        fit = [w for w in fit if (w.tdxEnabled if framework is TeeFramework.TDX else w.teeEnabled)]
        if not fit:
            flag = "tdxEnabled" if framework is TeeFramework.TDX else "teeEnabled"
            return "NO_TEE_WORKER", (
                f"waiting for a TEE-capable worker: the task asks for {framework.value} "
                f"(tag {tag}) and no alive worker registered {flag}"
            )
    if requires_gpu(tag):
        fit = [w for w in fit if w.gpuEnabled]
        if not fit:
            return "TAG_NOT_SUPPORTED", f"the task's tag {tag} asks for a GPU and no alive worker has one"
    free = [w for w in fit if w.walletAddress.lower() not in holders]
    if not free:
        return "ALL_WORKERS_HOLD_IT", (
            f"every alive worker ({len(fit)}) already holds a replicate of task {task_id}"
            " and none can take a second one"
        )
    open_slots = [w for w in free if len(w.computingChainTaskIds) < w.maxNbTasks]
    if not open_slots:
        return "ALL_SLOTS_BUSY", (
            f"all slots of the {len(free)} alive worker(s) that could take it are busy with other tasks"
        )
    return "WORKER_TO_ASK", f"{len(open_slots)} worker(s) have a free slot: the next one that asks for work gets it"


def _weight(replicate: ReplicateView) -> int:
    return int(replicate.workerWeight or 2)


def _expected(replicate: ReplicateView, now: float, period: float) -> bool:
    """Whether the supply still counts this replicate as a vote to come (`may_still_contribute`)."""
    history = replicate.statusUpdateList
    if not history:
        return replicate.currentStatus not in _ENDED
    relevant = last_relevant(history)
    created = parse_time(history[0].date) or now
    return may_still_contribute(replicate.currentStatus, relevant.status, relevant.cause, now - created, period)


def waiting_for(
    task: TaskView | None, workers: Sequence[WorkerView] = (), onchain: OnChainTask | None = None, now: float = 0.0
) -> dict[str, Any] | None:
    """What a non-final task waits for; None for a final (or unknown) task."""
    if task is None:
        return None
    status = task.currentStatus
    if status.is_final:
        return None
    task_id = task.chainTaskId
    trust = max(task.trust or 1, 1)
    replicates = list(task.replicates)
    consensus = task.consensus or (onchain.consensus_value if onchain else None)
    contribution_at = parse_time(task.contributionDeadline)
    reveal_at = parse_time(task.revealDeadline)
    final_at = parse_time(task.finalDeadline)
    claim = f"pocopool task claim {task_id}"
    details: list[str] = []
    deadlines: list[dict[str, Any] | None] = []
    final_deadline = _deadline(
        "finalDeadline",
        final_at,
        now,
        f"the task fails (FINAL_DEADLINE_REACHED) and the requester can claim a refund: {claim}",
    )

    if status in _TRANSACTIONS:
        action, sentence = _TRANSACTIONS[status]
        reason, summary = "TRANSACTION_PENDING", f"waiting for {sentence}"
        details.append(f"transaction: {action}; {_THEN[action]}")
        if status is TS.INITIALIZING and tee_framework(task.tag or "0x0") is not None:
            details.append("then the enclave challenge from the SMS (a TEE task is INITIALIZED once it has one)")
    elif status in (TS.INITIALIZED, TS.RUNNING, TS.REOPENED):
        contributed = [r for r in replicates if r.contributionHash]
        groups: dict[str, list[int]] = {}
        for r in contributed:
            groups.setdefault(r.contributionHash or "", []).append(_weight(r))
        running = [r for r in replicates if not r.contributionHash and r.currentStatus not in _ENDED]
        weights = [_weight(r) for r in replicates] or [2]
        needed = contributions_needed(trust, min(weights))
        best = max((len(v) for v in groups.values()), default=0)
        reason = "CONTRIBUTIONS"
        summary = (
            f"waiting for contributions: {best} of the {needed} agreeing contribution(s) needed for trust "
            f"{trust} ({len(contributed)} contributed, {len(running)} replicate(s) still computing)"
        )
        # The supply's own rule (scheduler/supply.py): what is said here is what the next ask gets.
        period = task.maxExecutionTime / 1000
        pending = [_weight(r) for r in replicates if not r.contributionHash and _expected(r, now, period)]
        for r in replicates:
            if r.currentStatus is RS.WORKER_LOST and not r.contributionHash:
                details.append(
                    f"worker {r.walletAddress} is lost (it stopped pinging the scheduler): "
                    "its place is given to the next worker that asks"
                )
        if needs_more_contributions(groups, pending, trust):
            code, why = _worker_supply(task, workers)
            if code == "NO_TEE_WORKER":
                reason, summary = "NO_WORKER_CAN_TAKE_IT", why  # same stable code, its own sentence
            elif code != "WORKER_TO_ASK":
                reason = "NO_WORKER_CAN_TAKE_IT"
                summary = f"no worker can take the task: {why}"
            else:
                details.append(f"more replicates are needed; {why}")
        for r in running:
            details.append(f"worker {r.walletAddress} is at {r.currentStatus.value}")
        deadlines.append(
            _deadline(
                "contributionDeadline",
                contribution_at,
                now,
                "the task fails (CONTRIBUTION_TIMEOUT) unless consensus is reached before",
            )
        )
    elif status in _REVEAL_PHASE:
        reason, summary, more, deadline = _reveal_phase(task, consensus, reveal_at, now)
        details += more
        deadlines.append(deadline)
    elif status is TS.FINALIZED:
        reason, summary = "COMPLETION", "the task is finalized on chain; the scheduler is marking it COMPLETED"
    else:  # a failure status on its way to FAILED
        reason, summary = "FAILING", f"the task failed ({status.value}); the scheduler is marking it FAILED"
        details.append(f"then the requester can claim a refund from the final deadline: {claim}")
    deadlines.append(final_deadline)
    answer: dict[str, Any] = {
        "status": status.value,
        "reason": reason,
        "summary": summary,
        "details": details,
        "deadlines": [d for d in deadlines if d is not None],
    }
    command = refund_command(task_id, onchain.status if onchain else None, final_at, now)
    if command:
        answer["claim"] = command
    return answer


def refund_command(
    task_id: str, onchain_status: ChainTaskStatus | None, final_deadline: float | None, now: float
) -> str | None:
    """`pocopool task claim ID` once the chain lets the requester claim: the task is ACTIVE or
    REVEALING on chain (not completed, not claimed yet) and its final deadline has passed."""
    if final_deadline is None or now < final_deadline:
        return None
    if onchain_status not in (ChainTaskStatus.ACTIVE, ChainTaskStatus.REVEALING):
        return None
    return f"pocopool task claim {task_id}"
