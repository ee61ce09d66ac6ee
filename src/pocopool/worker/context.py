"""What a pipeline stage may use: the worker's shared services and one replicate's own state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..chain.base import Chain
from ..protocol.keys import Wallet
from ..protocol.models import WorkerpoolAuthorization
from ..protocol.time import Clock
from .bundle import BundleCache
from .config import WorkerConfig
from .description import TaskDescription, load_description
from .downloads import Downloader
from .logs import EventLogger
from .runtimes.base import Runtime
from .state import ReplicateState
from .tee.platform import EnclavePlatform
from .workspace import TaskPaths, Workspace


@dataclass
class WorkerServices:
    """Shared by every replicate of one worker."""

    config: WorkerConfig
    account: Wallet
    chain: Chain
    clock: Clock
    workspace: Workspace
    bundles: BundleCache
    downloads: Downloader
    runtime: Runtime
    result_repository_url: str = ""
    tee_platform: EnclavePlatform | None = None  # the enclave platform of a --tee worker
    # The last TEE task's authorization, kept only by a worker with the replay-authorization fault.
    last_session_authorization: WorkerpoolAuthorization | None = None

    @property
    def wallet(self) -> str:
        return self.account.address


@dataclass
class ReplicateContext:
    """One replicate: its task, its folder, its persisted state, its logger."""

    services: WorkerServices
    chain_task_id: str
    paths: TaskPaths
    state: ReplicateState
    log: EventLogger
    purged: bool = False  # the task folder is deleted: nothing may be written there any more
    _description: TaskDescription | None = field(default=None, repr=False)

    @property
    def wallet(self) -> str:
        return self.services.wallet

    async def description(self) -> TaskDescription:
        """Read once from the chain (raises DescriptionUnavailable)."""
        if self._description is None:
            auth = self.state.workerpool_authorization
            self._description = await load_description(
                self.services.chain, self.chain_task_id, auth.dealId, auth.taskIndex
            )
        return self._description

    async def purge(self) -> bool:
        """Delete the task folder; True if it is gone. Nothing is saved there from the moment the
        deletion starts: a status sent meanwhile (a held one, on its timer) must not write the
        state back into a folder being deleted."""
        self.purged = True
        return await asyncio.to_thread(self.paths.purge)

    def save(self) -> None:
        if not self.purged:
            self.state.save(self.paths)
