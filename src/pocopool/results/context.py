"""What every result-store route shares: the chain it reads tasks from, the store, the links it
gives, its limits; and the two answers several routes give (an unknown task, a result already stored).

Chain reads are synchronous and run in worker threads.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..chain.base import Chain, ChainTask, Deal
from ..protocol.crypto import result_link
from ..protocol.statuses import ChainTaskStatus
from ..protocol.time import Clock
from ..service.errors import Conflict, NotFound
from .archive import ArchiveLimits
from .store import ResultStore

MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # 100 MiB
RESULT_STORAGE = "pocopool"
RESULT_ZIP = "the result zip"  # an upload's body, in refusals
DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class TaskView:
    task: ChainTask
    deal: Deal


@dataclass(frozen=True)
class ResultContext:
    chain: Chain
    store: ResultStore
    clock: Clock  # dates download signatures and TEE tokens
    base_url: str  # what clients reach this service at, without a trailing /
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    archive_limits: ArchiveLimits = DEFAULT_LIMITS

    async def task_view(self, task_id: str) -> TaskView:
        """The task and its deal on chain; NotFound when the chain does not know them."""

        def read() -> TaskView | None:
            task = self.chain.view_task(task_id)
            if task.status == ChainTaskStatus.UNSET:
                return None
            deal = self.chain.view_deal(task.deal_id)
            return None if deal is None else TaskView(task, deal)

        view = await asyncio.to_thread(read)
        if view is None:
            raise NotFound(f"task {task_id} is not known on chain")
        return view

    def link_of(self, task_id: str) -> str:
        """The result link finalized on chain for the result stored here."""
        return result_link(RESULT_STORAGE, f"{self.base_url}/results/{task_id}")

    async def already_stored(self, task_id: str) -> Conflict:
        """The refusal of a second upload. The stored zip's sha256 and link let a worker whose first
        answer was lost recognise its own upload (same sha256) and carry on, while any other upload
        stays refused."""
        stored_sha256 = await asyncio.to_thread(self.store.sha256, task_id)
        return Conflict(
            f"a result is already stored for task {task_id}", sha256=stored_sha256, resultLink=self.link_of(task_id)
        )
