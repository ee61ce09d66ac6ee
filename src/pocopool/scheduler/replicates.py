"""Replicate status updates reported by workers (spec §2.4–2.5, §2.8), with pocopool's answers.

Checks, in order: the task exists (404), the caller holds a replicate of it (403), the status is not
already in the replicate's history (208 PLEASE_WAIT), the transition is allowed from the current
status (409), the status-specific proof holds — contribution or reveal on chain, a result link —
(409). An accepted update is stored with its details in one transaction and answered 200 with the
next action. Refusals change nothing.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from itertools import groupby
from dataclasses import dataclass

from ..chain.aio import chain_read
from ..chain.base import Chain
from ..protocol.consensus import worker_weight
from ..protocol.crypto import ZERO_BYTES32
from ..protocol.models import ReplicateStatusDetails, ReplicateStatusUpdate
from ..protocol.statuses import (
    FAILED_BEFORE_COMPUTED,
    ChainContributionStatus as CCS,
    ChainTaskStatus as CTS,
    ReplicateStatus as RS,
    ReplicateStatusModifier as Modifier,
    TaskNotificationType as Next,
)
from ..protocol.time import Clock
from ..protocol.transitions import REPLICATE_TRANSITIONS, is_valid_replicate_transition, next_action
from .errors import Conflict, Forbidden, NotFound
from .locks import KeyedLocks
from .logs import log_event
from .state import ReplicateState, TaskState
from .store import NewReplicateUpdate, ReplicateAppend, Store
from .updater import TaskUpdater

# Accepted statuses that may move the task: they queue a task update (spec §2.8, plus upload failures
# so that another revealer is asked at once).
TASK_TRIGGERS = frozenset({
    RS.STARTED, RS.CONTRIBUTED, RS.REVEALED, RS.RESULT_UPLOADED, RS.RESULT_UPLOAD_FAILED,
    RS.CONTRIBUTE_AND_FINALIZE_DONE,
}) | FAILED_BEFORE_COMPUTED
FREES_COMPUTING_SLOT = frozenset({RS.COMPUTED}) | FAILED_BEFORE_COMPUTED
LEAVES_TASK = frozenset({RS.COMPLETED, RS.FAILED, RS.ABORTED})
RECEIPT_WAIT_TRIES = 10
RECEIPT_WAIT_SECONDS = 0.5


# Statuses believed only once the chain shows them (spec §2.4 step 5): read, check, write as before.
NEEDS_CHAIN_PROOF = frozenset({RS.CONTRIBUTED, RS.REVEALED, RS.CONTRIBUTE_AND_FINALIZE_DONE})
FIXED_TASKS_KEPT = 10_000  # tasks whose fixed fields are kept in memory


def _new_update(status: RS, modifier: Modifier, now: float, details: ReplicateStatusDetails | None) -> NewReplicateUpdate:
    receipt = details.chainReceipt if details else None
    return NewReplicateUpdate(
        status=status, modifier=modifier, date=now,
        cause=details.cause if details else None,
        error_message=details.errorMessage if details else None,
        exit_code=details.exitCode if details else None,
        block_number=receipt.blockNumber if receipt else None,
        tx_hash=receipt.txHash if receipt else None,
        result_link=details.resultLink if details else None,
        tee_session_error=details.teeSessionGenerationError if details else None,
    )


def _logs(details: ReplicateStatusDetails | None) -> tuple[str, str] | None:
    if details is None or details.computeLogs is None:
        return None
    tailed = details.computeLogs.tailed()
    return tailed.stdout, tailed.stderr


@dataclass(frozen=True)
class Accepted:
    """What a verified update writes besides the status itself."""

    contribution: tuple[str, int] | None = None
    result_link: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class UpdateAnswer:
    http_status: int
    next_action: Next


def allowed_after(status: RS) -> str:
    targets = sorted(REPLICATE_TRANSITIONS[status], key=lambda s: s.ordinal)
    return ", ".join(s.value for s in targets) or "none: the replicate is final"


class ReplicateUpdateService:
    def __init__(self, store: Store, chain: Chain, clock: Clock, updater: TaskUpdater) -> None:
        self.store = store
        self.chain = chain
        self.clock = clock
        self.updater = updater
        self._locks = KeyedLocks()
        self._tasks: OrderedDict[str, TaskState] = OrderedDict()

    async def update_status(self, task_id: str, wallet: str, update: ReplicateStatusUpdate) -> UpdateAnswer:
        """Validates and stores a worker's status update; raises an ApiError when refused."""
        return await self.update_statuses(task_id, wallet, [update])

    async def update_statuses(self, task_id: str, wallet: str, updates: list[ReplicateStatusUpdate]) -> UpdateAnswer:
        """Several updates of one replicate, in order, as if sent one by one: a refusal raises (the
        updates before it stay accepted); else the answer to the last one. Consecutive updates that
        need no proof from the chain are written in one transaction."""
        task = await self._fixed_task(task_id)
        if task is None:
            raise NotFound(f"unknown task {task_id}")
        last: Accepted | None = None
        async with self._locks.hold(f"{task_id}/{wallet.lower()}"):
            for needs_proof, run in groupby(updates, key=lambda u: u.status in NEEDS_CHAIN_PROOF):
                if not needs_proof:
                    last = await self._append(task, wallet, list(run))
                    continue
                for update in run:
                    replicate = await self.store.replicate(task_id, wallet)
                    if replicate is None:
                        raise Forbidden(f"worker {wallet} holds no replicate of task {task_id}",
                                        next_action=Next.PLEASE_ABORT)
                    last = await self._apply(task, replicate, update.status, Modifier.WORKER, update.details)
        final = updates[-1]
        cause = final.details.cause if final.details else None
        if last is None:
            return UpdateAnswer(208, Next.PLEASE_WAIT)
        return UpdateAnswer(200, next_action(final.status, cause, contribute_and_finalize=task.contribute_and_finalize))

    async def _fixed_task(self, task_id: str) -> TaskState | None:
        """The task as first read, for its fixed fields only (id, trust, tag, callback): a status
        update reads nothing else of it, and this saves a database read on each one."""
        task = self._tasks.get(task_id)
        if task is None:
            task = await self.store.task(task_id)
            if task is None:
                return None
            self._tasks[task_id] = task
            while len(self._tasks) > FIXED_TASKS_KEPT:
                self._tasks.popitem(last=False)
        return task

    async def record_pool_status(self, task: TaskState, replicate: ReplicateState, status: RS,
                                 details: ReplicateStatusDetails | None = None) -> bool:
        """The scheduler writes a status on a replicate (recovery), through the same checks.
        False if refused."""
        async with self._locks.hold(f"{task.chain_task_id}/{replicate.wallet.lower()}"):
            fresh = await self.store.replicate(task.chain_task_id, replicate.wallet)
            if fresh is None:
                return False
            try:
                return await self._apply(task, fresh, status, Modifier.POOL_MANAGER, details,
                                         allow_repeat=status is RS.RECOVERING) is not None
            except Conflict:
                return False

    async def record_pool_status_of(self, task_id: str, wallet: str, status: RS) -> bool:
        """`record_pool_status` by ids (the detectors' ReplicateRecorder)."""
        loaded = await self.store.load(task_id)
        if loaded is None:
            return False
        task, replicates = loaded
        replicate = next((r for r in replicates if r.wallet == wallet), None)
        return replicate is not None and await self.record_pool_status(task, replicate, status)

    async def _append(self, task: TaskState, wallet: str, updates: list[ReplicateStatusUpdate]) -> Accepted | None:
        """Worker updates that need no proof from the chain: read, checks and writes in one
        transaction, with `_apply`'s checks in the same order. The Accepted of the last update, or
        None if it was already reported; Conflict if one is refused (those before it stay)."""
        now = self.clock.now()
        appends: list[ReplicateAppend] = []
        verdicts: list[Accepted | Conflict] = []
        for update in updates:
            status, details = update.status, update.details
            try:
                verdicts.append(self._check_details(task, status, details))
            except Conflict as error:  # raised in admit, after the checks that come first
                verdicts.append(error)
            accepted = verdicts[-1] if isinstance(verdicts[-1], Accepted) else Accepted()
            appends.append(ReplicateAppend(
                new=_new_update(status, Modifier.WORKER, now, details), result_link=accepted.result_link,
                callback_data=accepted.callback_data, logs=_logs(details),
                free_computing_slot=status in FREES_COMPUTING_SLOT, leave_task=status in LEAVES_TASK,
            ))
        def admit(replicate: ReplicateState, index: int) -> bool:
            status, verdict = updates[index].status, verdicts[index]
            if replicate.has(status):
                return False
            self._check_transition(replicate, status)
            if isinstance(verdict, Conflict):
                raise verdict
            return True

        stored = await self.store.append_replicate_statuses(task.chain_task_id, wallet, appends, admit)
        if stored is None:
            raise Forbidden(f"worker {wallet} holds no replicate of task {task.chain_task_id}",
                            next_action=Next.PLEASE_ABORT)
        previous, written, refusal = stored
        for append, done in zip(appends, written):
            if done:
                self._stored(task.chain_task_id, wallet, append.new.status, previous, append.new)
                previous = append.new.status
        if refusal is not None:
            raise refusal
        last = verdicts[-1]  # every update was admitted or already reported: the last one's verdict stands
        return last if written[-1] and isinstance(last, Accepted) else None

    @staticmethod
    def _check_transition(replicate: ReplicateState, status: RS) -> None:
        if not is_valid_replicate_transition(replicate.status, status):
            raise Conflict(
                f"cannot go from {replicate.status.value} to {status.value} (allowed: {allowed_after(replicate.status)})",
                next_action=Next.PLEASE_ABORT,
            )

    def _stored(self, task_id: str, wallet: str, status: RS, previous: RS, new: NewReplicateUpdate) -> None:
        log_event("replicate.status", task=task_id, wallet=wallet, status=status, previous=previous,
                  modifier=new.modifier.value, cause=new.cause, error=new.error_message, exit_code=new.exit_code)
        if status in TASK_TRIGGERS:
            self.updater.request(task_id)

    async def _apply(self, task: TaskState, replicate: ReplicateState, status: RS, modifier: Modifier,
                     details: ReplicateStatusDetails | None, *, allow_repeat: bool = False) -> Accepted | None:
        """Stores the update; None if already reported; Conflict if refused."""
        task_id, wallet = task.chain_task_id, replicate.wallet
        for _ in range(3):
            if replicate.has(status) and not allow_repeat:
                return None
            self._check_transition(replicate, status)
            accepted = await self._verify(task, wallet, status, details)
            new = _new_update(status, modifier, self.clock.now(), details)
            stored = await self.store.record_replicate_update(
                task_id, wallet, replicate.status, new,
                contribution=accepted.contribution, result_link=accepted.result_link,
                callback_data=accepted.callback_data, logs=_logs(details),
                free_computing_slot=status in FREES_COMPUTING_SLOT, leave_task=status in LEAVES_TASK,
            )
            if stored:
                self._stored(task_id, wallet, status, replicate.status, new)
                return accepted
            fresh = await self.store.replicate(task_id, wallet)
            if fresh is None:
                break
            replicate = fresh
        raise Conflict(f"the replicate of worker {wallet} on task {task_id} kept changing: send the update again")

    async def _verify(self, task: TaskState, wallet: str, status: RS,
                      details: ReplicateStatusDetails | None) -> Accepted:
        """The proof a status needs before it is believed (spec §2.4 step 5)."""
        task_id = task.chain_task_id
        if status in NEEDS_CHAIN_PROOF:
            receipt = details.chainReceipt if details else None
            await self._wait_for_block(receipt.blockNumber if receipt else 0)
            contribution = await chain_read(self.chain, self.chain.view_contribution, task_id, wallet)
            if status is RS.CONTRIBUTED:
                if contribution.status not in (CCS.CONTRIBUTED, CCS.PROVED) or contribution.result_hash == ZERO_BYTES32:
                    raise Conflict(
                        f"the chain shows no contribution of worker {wallet} to task {task_id} "
                        f"(contribution {contribution.status.value})",
                        next_action=Next.PLEASE_ABORT,
                    )
                score = await chain_read(self.chain, self.chain.view_score, wallet)
                return Accepted(contribution=(contribution.result_hash, worker_weight(score)))
            if contribution.status is not CCS.PROVED:
                raise Conflict(
                    f"the chain shows no reveal of worker {wallet} for task {task_id} "
                    f"(contribution {contribution.status.value})",
                    next_action=Next.PLEASE_ABORT,
                )
            if status is RS.CONTRIBUTE_AND_FINALIZE_DONE:
                chain_task = await chain_read(self.chain, self.chain.view_task, task_id)
                if chain_task.status is not CTS.COMPLETED:
                    raise Conflict(f"task {task_id} is {chain_task.status.value} on chain, not COMPLETED",
                                   next_action=Next.PLEASE_ABORT)
                return Accepted(contribution=(contribution.result_hash, 0),
                                result_link=chain_task.results.decode("utf-8", "replace") or None)
            return Accepted()
        return self._check_details(task, status, details)

    def _check_details(self, task: TaskState, status: RS, details: ReplicateStatusDetails | None) -> Accepted:
        """The proof carried by the update itself (a result link, callback data)."""
        if status is RS.RESULT_UPLOADED:
            link = (details.resultLink or "").strip() if details else ""
            callback = (details.chainCallbackData or "").strip() if details else ""
            if task.has_callback and not callback:
                raise Conflict("RESULT_UPLOADED of a callback deal needs details.chainCallbackData",
                               next_action=Next.PLEASE_ABORT)
            if not task.has_callback and not link:
                raise Conflict("RESULT_UPLOADED needs details.resultLink", next_action=Next.PLEASE_ABORT)
            return Accepted(result_link=link or None, callback_data=callback or None)
        return Accepted()

    async def _wait_for_block(self, block: int) -> None:
        """A receipt from a node ahead of ours: wait a little for our view of the chain to reach it."""
        for _ in range(RECEIPT_WAIT_TRIES):
            latest = await chain_read(self.chain, self.chain.latest_block)
            if latest.number >= block:
                return
            await asyncio.sleep(RECEIPT_WAIT_SECONDS)
