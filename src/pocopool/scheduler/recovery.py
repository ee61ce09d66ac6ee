"""Recovery of a restarted worker: `GET /replicates/interrupted` (spec §5.6, the simple cases).

For each task the worker still takes part in, `recovery_action()` (pure) says what it should do
now; the service signs a fresh authorization, records RECOVERING, and answers the notifications.
A contribution or reveal the worker made on chain without telling us is recorded first (by the
scheduler, verified on chain) so that the answer is PLEASE_WAIT rather than a second attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..chain.aio import chain_read
from ..chain.base import Chain
from ..protocol.models import TaskNotification, TaskNotificationExtra
from ..protocol.statuses import (
    COMPLETION_PHASE,
    CONTRIBUTION_PHASE,
    REVEAL_PHASE,
    ChainContributionStatus as CCS,
    ReplicateStatus as RS,
    TaskAbortCause,
    TaskNotificationType as Next,
    TaskStatus as TS,
)
from ..protocol.time import Clock
from .engine import consensus_winners
from .logs import log_event
from .pushes import upload_authorization
from .replicates import ReplicateUpdateService
from .state import ReplicateState, TaskState
from .store import Store
from .supply import SupplyService
from .updater import TaskUpdater


@dataclass(frozen=True)
class RecoveryAction:
    type: Next
    abort_cause: TaskAbortCause | None = None


def recovery_action(task: TaskState, replicate: ReplicateState) -> RecoveryAction | None:
    """What a restarted worker should do for this replicate (None: nothing to recover)."""
    last = replicate.last_relevant
    if task.status in CONTRIBUTION_PHASE:
        if last.ordinal <= RS.CONTRIBUTING.ordinal and last not in (RS.START_FAILED, RS.COMPUTE_FAILED):
            return RecoveryAction(Next.PLEASE_CONTRIBUTE)
        if last is RS.CONTRIBUTED:
            return RecoveryAction(Next.PLEASE_WAIT)
        return None
    if task.status in REVEAL_PHASE:
        if task.status is TS.RESULT_UPLOADING and task.uploading_wallet == replicate.wallet:
            if last in (RS.RESULT_UPLOAD_REQUESTED, RS.RESULT_UPLOADING):
                return RecoveryAction(Next.PLEASE_UPLOAD)
            if last is RS.RESULT_UPLOADED:
                return RecoveryAction(Next.PLEASE_WAIT)
        if last in (RS.CONTRIBUTED, RS.REVEALING):
            winner = task.consensus is not None and replicate in consensus_winners(task, [replicate], task.consensus)
            if winner:
                return RecoveryAction(Next.PLEASE_REVEAL)
            return RecoveryAction(Next.PLEASE_ABORT, TaskAbortCause.CONSENSUS_REACHED)
        if last is RS.RESULT_UPLOAD_REQUESTED:
            return RecoveryAction(Next.PLEASE_UPLOAD)
        if last in (RS.REVEALED, RS.RESULT_UPLOADED):
            return RecoveryAction(Next.PLEASE_WAIT)
        if task.status is TS.CONSENSUS_REACHED and not replicate.has(RS.CONTRIBUTED):
            return RecoveryAction(Next.PLEASE_ABORT, TaskAbortCause.CONSENSUS_REACHED)
        return None
    if task.status in COMPLETION_PHASE and replicate.has(RS.REVEALED):
        return RecoveryAction(Next.PLEASE_COMPLETE if task.status is TS.COMPLETED else Next.PLEASE_WAIT)
    return None


class RecoveryService:
    def __init__(self, store: Store, chain: Chain, clock: Clock, supply: SupplyService,
                 replicates: ReplicateUpdateService, updater: TaskUpdater) -> None:
        self.store = store
        self.chain = chain
        self.clock = clock
        self.supply = supply
        self.replicates = replicates
        self.updater = updater

    async def interrupted(self, wallet: str) -> list[TaskNotification]:
        answers: list[TaskNotification] = []
        for task_id in await self.store.worker_tasks(wallet):
            loaded = await self.store.load(task_id)
            if loaded is None:
                continue
            task, replicates = loaded
            replicate = next((r for r in replicates if r.wallet == wallet), None)
            if replicate is None:
                continue
            replicate = await self._catch_up(task, replicate)
            action = recovery_action(task, replicate)
            if action is None:
                continue
            extra = TaskNotificationExtra(
                workerpoolAuthorization=self.supply.authorization(task, wallet),
                blockNumber=(task.consensus_block or 0) if action.type is Next.PLEASE_REVEAL else 0,
                taskAbortCause=action.abort_cause,
                resultUploadAuthorization=(upload_authorization(self.supply.private_key, wallet, task_id)
                                           if action.type is Next.PLEASE_UPLOAD else None),
            )
            answers.append(TaskNotification(chainTaskId=task_id, workersAddress=[wallet],
                                            taskNotificationType=action.type, taskNotificationExtra=extra))
            await self.replicates.record_pool_status(task, replicate, RS.RECOVERING)
            log_event("replicate.recovery", task=task_id, wallet=wallet, action=action.type.value)
        return answers

    async def _catch_up(self, task: TaskState, replicate: ReplicateState) -> ReplicateState:
        """Records a contribution or reveal that is on chain but was never reported."""
        last = replicate.last_relevant
        target = {RS.CONTRIBUTING: RS.CONTRIBUTED, RS.REVEALING: RS.REVEALED}.get(last)
        if target is None:
            return replicate
        contribution = await chain_read(self.chain, self.chain.view_contribution, task.chain_task_id, replicate.wallet)
        done = contribution.status is CCS.PROVED or (target is RS.CONTRIBUTED and contribution.status is CCS.CONTRIBUTED)
        if not done or not await self.replicates.record_pool_status(task, replicate, target):
            return replicate
        self.updater.request(task.chain_task_id)
        return await self.store.replicate(task.chain_task_id, replicate.wallet) or replicate
