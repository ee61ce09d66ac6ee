"""Replicate status updates: workers' reports, and the scheduler's own (detectors, recovery).

Every update goes the same way: read what the chain says when the status needs proof, then, in one
write transaction on the replicate, `decide_replicate` (engine/replicates.py, pure) and append what it
accepted. A batch (`POST /replicates/{id}/updateStatuses`) is the same loop over its updates inside
that one transaction: the first refusal ends it, and the updates before it stay accepted. Refusals
change nothing and raise the domain errors of service/errors.py (mapped to HTTP once, in the API).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from ..chain.aio import chain_read
from ..chain.base import Chain
from ..protocol.models import ReplicateStatusDetails, ReplicateStatusUpdate
from ..protocol.statuses import (
    ReplicateStatus as RS,
)
from ..protocol.statuses import (
    ReplicateStatusModifier as Modifier,
)
from ..protocol.statuses import (
    TaskNotificationType as Next,
)
from ..protocol.time import Clock
from ..service.errors import Conflict, Forbidden, NotFound
from .engine import (
    NEEDS_CHAIN_PROOF,
    NO_PROOF,
    Accepted,
    ChainProof,
    ProposedUpdate,
    Refusal,
    RefusedUpdate,
    decide_replicate,
)
from .locks import KeyedLocks
from .logs import log_event
from .state import ReplicateRecord, TaskState
from .store import StaleReplicate, Store
from .updater import TaskUpdater

RECEIPT_WAIT_TRIES = 10
RECEIPT_WAIT_SECONDS = 0.5
STALE_RETRIES = 3  # another writer changed the replicate between our read and write: decide again
FIXED_TASKS_KEPT = 10_000  # tasks whose fixed fields are kept in memory


@dataclass(frozen=True)
class UpdateAnswer:
    already_reported: bool  # the last update was in the history already: nothing was written for it
    next_action: Next


@dataclass(frozen=True)
class _Outcome:
    """What one pass over a batch did: the last decision, and the replicate's status before it."""

    decisions: tuple[Accepted | RefusedUpdate, ...]
    previous: tuple[RS, ...]


class ReplicateUpdateService:
    def __init__(self, store: Store, chain: Chain, clock: Clock, updater: TaskUpdater) -> None:
        self.store = store
        self.chain = chain
        self.clock = clock
        self.updater = updater
        self._locks = KeyedLocks()
        self._tasks: OrderedDict[str, TaskState] = OrderedDict()

    async def update_status(self, task_id: str, wallet: str, update: ReplicateStatusUpdate) -> UpdateAnswer:
        """Validates and stores a worker's status update; raises a domain error when refused."""
        return await self.update_statuses(task_id, wallet, [update])

    async def update_statuses(self, task_id: str, wallet: str, updates: list[ReplicateStatusUpdate]) -> UpdateAnswer:
        """Several updates of one replicate, in order, as if sent one by one: a refusal raises (the
        updates before it stay accepted); else the answer to the last one (208 PLEASE_WAIT when it was
        already reported)."""
        task = await self._fixed_task(task_id)
        proposed = [ProposedUpdate(u.status, Modifier.WORKER, u.details) for u in updates]
        decisions = await self._record(task, task_id, wallet, proposed)
        last = decisions[-1]
        if isinstance(last, Accepted):
            return UpdateAnswer(False, last.next_action)
        if last.refusal is Refusal.ALREADY_REPORTED:
            return UpdateAnswer(True, last.next_action)
        raise _error(last)

    async def record_pool_status(
        self, task: TaskState, replicate: ReplicateRecord, status: RS, details: ReplicateStatusDetails | None = None
    ) -> bool:
        """The scheduler writes a status on a replicate (recovery, detectors), through the same rule.
        False if refused."""
        return await self._record_pool(task, replicate.wallet, ProposedUpdate(status, Modifier.POOL_MANAGER, details))

    async def record_pool_status_of(self, task_id: str, wallet: str, status: RS) -> bool:
        """`record_pool_status` by ids (the detectors' ReplicateRecorder)."""
        task = await self._fixed_task(task_id)
        return task is not None and await self._record_pool(task, wallet, ProposedUpdate(status, Modifier.POOL_MANAGER))

    async def _record_pool(self, task: TaskState, wallet: str, update: ProposedUpdate) -> bool:
        try:
            decisions = await self._record(task, task.chain_task_id, wallet, [update])
        except Conflict:
            return False
        return isinstance(decisions[-1], Accepted)

    async def _record(
        self, task: TaskState | None, task_id: str, wallet: str, updates: Sequence[ProposedUpdate]
    ) -> tuple[Accepted | RefusedUpdate, ...]:
        """Decides and appends `updates` in order, in one transaction; stops at the first refusal
        other than "already reported". Returns the decisions made (the last one may be a refusal)."""
        if task is None:
            return (RefusedUpdate(Refusal.UNKNOWN_TASK, f"unknown task {task_id}"),)
        proofs = await self._proofs(task_id, wallet, updates)
        async with self._locks.hold(f"{task_id}/{wallet.lower()}"):
            for _ in range(STALE_RETRIES):
                try:
                    outcome = await self._decide_and_append(task, wallet, updates, proofs)
                except StaleReplicate:
                    continue
                self._announce(task_id, wallet, outcome)
                return outcome.decisions
        raise Conflict(f"the replicate of worker {wallet} on task {task_id} kept changing: send the update again")

    async def _decide_and_append(
        self, task: TaskState, wallet: str, updates: Sequence[ProposedUpdate], proofs: Sequence[ChainProof]
    ) -> _Outcome:
        decisions: list[Accepted | RefusedUpdate] = []
        previous: list[RS] = []
        async with self.store.replicate_writer(task.chain_task_id, wallet) as writer:
            for update, proof in zip(updates, proofs, strict=True):
                replicate = writer.replicate
                decision = decide_replicate(task, replicate, update, proof, self.clock.now(), wallet=wallet)
                decisions.append(decision)
                if isinstance(decision, RefusedUpdate):
                    if decision.refusal is Refusal.ALREADY_REPORTED:
                        continue
                    break
                assert replicate is not None
                previous.append(replicate.status)
                # the score the contribution's weight came from, shown beside it (task debug, dashboard);
                # the result files' hashes, to say which files differ if replicates disagree (decision 120)
                await writer.append(
                    decision,
                    score=proof.score if decision.contribution else None,
                    result_files=_result_files(decision, update),
                )
        return _Outcome(tuple(decisions), tuple(previous))

    def _announce(self, task_id: str, wallet: str, outcome: _Outcome) -> None:
        """After the commit: log each appended status, and ask for a task update if one may move it."""
        accepted = [d for d in outcome.decisions if isinstance(d, Accepted)]
        for decision, previous in zip(accepted, outcome.previous, strict=True):
            new = decision.entry
            log_event(
                "replicate.status",
                task=task_id,
                wallet=wallet,
                status=new.status,
                previous=previous,
                modifier=new.modifier.value,
                cause=new.cause,
                error=new.error_message,
                exit_code=new.exit_code,
            )
        if any(d.task_update for d in accepted):
            self.updater.request(task_id)

    async def _proofs(self, task_id: str, wallet: str, updates: Sequence[ProposedUpdate]) -> list[ChainProof]:
        """The chain's word for each update that needs it, read before the write transaction. Skipped
        where the rule will refuse anyway (no such replicate, status already reported)."""
        if not any(u.status in NEEDS_CHAIN_PROOF for u in updates):
            return [NO_PROOF] * len(updates)
        replicate = await self.store.replicate(task_id, wallet)
        if replicate is None:
            return [NO_PROOF] * len(updates)
        return [NO_PROOF if replicate.has(u.status) else await self._proof(task_id, wallet, u) for u in updates]

    async def _proof(self, task_id: str, wallet: str, update: ProposedUpdate) -> ChainProof:
        """What the chain says, for a status that must be seen there before it is believed (§2.4 step 5)."""
        if update.status not in NEEDS_CHAIN_PROOF:
            return NO_PROOF
        receipt = update.details.chainReceipt if update.details else None
        await self._wait_for_block(receipt.blockNumber if receipt else 0)
        contribution = await chain_read(self.chain, self.chain.view_contribution, task_id, wallet)
        if update.status is RS.CONTRIBUTED:
            return ChainProof(
                contribution=contribution, score=await chain_read(self.chain, self.chain.view_score, wallet)
            )
        if update.status is RS.CONTRIBUTE_AND_FINALIZE_DONE:
            return ChainProof(
                contribution=contribution, task=await chain_read(self.chain, self.chain.view_task, task_id)
            )
        return ChainProof(contribution=contribution)

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

    async def _wait_for_block(self, block: int) -> None:
        """A receipt from a node ahead of ours: wait a little for our view of the chain to reach it."""
        for _ in range(RECEIPT_WAIT_TRIES):
            latest = await chain_read(self.chain, self.chain.latest_block)
            if latest.number >= block:
                return
            await asyncio.sleep(RECEIPT_WAIT_SECONDS)


def _result_files(decision: Accepted, update: ProposedUpdate) -> dict[str, str] | None:
    """What a worker reported of its result files with an accepted COMPUTED; None otherwise."""
    if decision.entry.status is not RS.COMPUTED or update.details is None:
        return None
    return update.details.resultFiles


def _error(refused: RefusedUpdate) -> Exception:
    """The domain error of a refusal (service/errors.py; the API maps it to HTTP)."""
    if refused.refusal is Refusal.UNKNOWN_TASK:
        return NotFound(refused.message)
    if refused.refusal is Refusal.UNKNOWN_REPLICATE:
        return Forbidden(refused.message, nextAction=refused.next_action.value)
    return Conflict(refused.message, nextAction=refused.next_action.value)
