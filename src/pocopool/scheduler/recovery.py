"""Recovery of a restarted worker: `GET /replicates/interrupted` (spec §5.6, the simple cases).

For each task the worker still takes part in, the engine's `standing_order()` (pure) says what it
should do now, the same order the engine sent or the next step of its replicate flow; the service signs a fresh authorization, records RECOVERING, and answers the notifications.
A contribution or reveal the worker made on chain without telling us is recorded first (by the
scheduler, verified on chain) so that the answer is PLEASE_WAIT rather than a second attempt.
"""

from __future__ import annotations

from ..chain.aio import chain_read
from ..chain.base import Chain
from ..protocol.models import TaskNotification, TaskNotificationExtra
from ..protocol.statuses import ChainContributionStatus as CCS
from ..protocol.statuses import ReplicateStatus as RS
from ..protocol.statuses import TaskNotificationType as Next
from ..protocol.time import Clock
from .engine import standing_order
from .logs import log_event
from .notifications import upload_authorization
from .replicates import ReplicateUpdateService
from .state import ReplicateRecord, TaskState
from .store import Store
from .supply import SupplyService
from .updater import TaskUpdater


class RecoveryService:
    def __init__(
        self,
        store: Store,
        chain: Chain,
        clock: Clock,
        supply: SupplyService,
        replicates: ReplicateUpdateService,
        updater: TaskUpdater,
    ) -> None:
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
            action = standing_order(task, replicate)
            if action is None:
                continue
            extra = TaskNotificationExtra(
                workerpoolAuthorization=self.supply.authorization(task, wallet),
                smsUrl=self.supply.sms_url_for(task),
                blockNumber=(task.consensus_block or 0) if action.type is Next.PLEASE_REVEAL else 0,
                taskAbortCause=action.abort_cause,
                resultUploadAuthorization=(
                    upload_authorization(self.supply.private_key, wallet, task_id)
                    if action.type is Next.PLEASE_UPLOAD
                    else None
                ),
            )
            answers.append(
                TaskNotification(
                    chainTaskId=task_id,
                    workersAddress=[wallet],
                    taskNotificationType=action.type,
                    taskNotificationExtra=extra,
                )
            )
            await self.replicates.record_pool_status(task, replicate, RS.RECOVERING)
            log_event("replicate.recovery", task=task_id, wallet=wallet, action=action.type.value)
        return answers

    async def _catch_up(self, task: TaskState, replicate: ReplicateRecord) -> ReplicateRecord:
        """Records a contribution or reveal that is on chain but was never reported."""
        last = replicate.last_relevant
        target = {RS.CONTRIBUTING: RS.CONTRIBUTED, RS.REVEALING: RS.REVEALED}.get(last)
        if target is None:
            return replicate
        contribution = await chain_read(self.chain, self.chain.view_contribution, task.chain_task_id, replicate.wallet)
        done = contribution.status is CCS.PROVED or (
            target is RS.CONTRIBUTED and contribution.status is CCS.CONTRIBUTED
        )
        if not done or not await self.replicates.record_pool_status(task, replicate, target):
            return replicate
        self.updater.request(task.chain_task_id)
        return await self.store.replicate(task.chain_task_id, replicate.wallet) or replicate
