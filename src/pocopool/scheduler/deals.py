"""Deal watcher: turns the chain's SchedulerNotice events for our workerpool into tasks (spec §8.4).

From the persisted cursor, read the events of at most MAX_BLOCKS blocks, read each deal of our
workerpool, store its tasks RECEIVED (idempotent on deal and index) and move the cursor, in one
transaction. A deal whose contribution deadline already passed is ignored: no worker could
contribute to it.
"""

from __future__ import annotations

import logging

from ..chain.aio import chain_read
from ..chain.base import Chain, Deal, Event
from ..protocol.crypto import same_address
from ..protocol.crypto import task_id as compute_task_id
from ..protocol.params import DealParams
from ..protocol.time import Clock, task_deadlines
from .logs import log_event
from .store import NewTask, Store

MAX_BLOCKS = 1000


class DealWatcher:
    def __init__(self, store: Store, chain: Chain, clock: Clock, workerpool: str) -> None:
        self.store = store
        self.chain = chain
        self.clock = clock
        self.workerpool = workerpool

    async def poll_once(self) -> list[str]:
        """Processes the next batch of blocks; returns the ids of the tasks created."""
        cursor = await self.store.cursor()
        latest = (await chain_read(self.chain, self.chain.latest_block)).number
        if latest <= cursor:
            return []
        last = min(latest, cursor + MAX_BLOCKS)
        events = await chain_read(self.chain, self.chain.events, cursor + 1, last, ("SchedulerNotice",))
        new_tasks: list[NewTask] = []
        for event in events:
            if same_address(str(event.args.get("workerpool", "")), self.workerpool):
                new_tasks.extend(await self._tasks_of(event))
        created = await self.store.add_tasks(new_tasks, last, self.clock.now())
        for task_id in created:
            log_event("task.status", task=task_id, status="RECEIVED", message="deal seen")
        return created

    async def _tasks_of(self, event: Event) -> list[NewTask]:
        deal_id = str(event.args.get("dealid"))
        deal: Deal | None = await chain_read(self.chain, self.chain.view_deal, deal_id)
        if deal is None:
            log_event("deal.unreadable", level=logging.WARNING, deal=deal_id, block=event.block_number)
            return []
        category = await chain_read(self.chain, self.chain.view_category, deal.category)
        app = await chain_read(self.chain, self.chain.view_app, deal.app.pointer)
        deadlines = task_deadlines(deal.start_time, category.work_clock_time_ref)
        if deadlines.contribution <= self.clock.now():
            log_event(
                "deal.ignored",
                deal=deal_id,
                block=event.block_number,
                reason="its contribution deadline already passed",
            )
            return []
        log_event("deal.seen", deal=deal_id, block=event.block_number, tasks=deal.bot_size, trust=deal.trust)
        command_line = DealParams.parse(deal.params).iexec_args
        return [
            NewTask(
                chain_task_id=compute_task_id(deal.deal_id, index),
                deal_id=deal.deal_id,
                task_index=index,
                deal_block=event.block_number,
                trust=deal.trust,
                tag=deal.tag,
                category=deal.category,
                max_execution_time=category.work_clock_time_ref,
                app_address=deal.app.pointer,
                app_multiaddr=app.multiaddr if app else "",
                command_line=command_line,
                requester=deal.requester,
                beneficiary=deal.beneficiary,
                callback=deal.callback,
                contribution_deadline=float(deadlines.contribution),
                final_deadline=float(deadlines.final),
            )
            for index in deal.task_index_range()
        ]
