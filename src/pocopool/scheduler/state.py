"""What the scheduler knows about a task and its replicates, as plain values.

These frozen dataclasses are the inputs of the pure decisions (engine/, supply.py, recovery.py).
The store builds them from the database; tests build them by hand. Times are seconds since the
epoch (floats), addresses are checksummed, hashes lowercase 0x-hex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..protocol.statuses import (
    ReplicateStatus as RS,
)
from ..protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from ..protocol.statuses import (
    ReplicateStatusModifier as Modifier,
)
from ..protocol.statuses import (
    TaskStatus as TS,
)
from ..protocol.tags import TeeFramework, tee_framework
from ..protocol.transitions import last_relevant


@dataclass(frozen=True)
class ReplicateEntry:
    """One entry of a replicate's history."""

    status: RS
    date: float
    modifier: Modifier = Modifier.WORKER
    cause: Cause | None = None


@dataclass(frozen=True)
class NewReplicateUpdate:
    """One replicate status update to append, with the details the history keeps."""

    status: RS
    modifier: Modifier
    date: float
    cause: Cause | None = None
    error_message: str | None = None
    exit_code: int | None = None
    block_number: int | None = None
    tx_hash: str | None = None
    result_link: str | None = None
    tee_session_error: str | None = None
    exit_causes: tuple[tuple[str, str], ...] | None = None  # (cause, message) of each, when several


@dataclass(frozen=True)
class ReplicateRecord:
    """One worker's run of a task. `history` is oldest first and never empty."""

    wallet: str
    history: tuple[ReplicateEntry, ...]
    contribution_hash: str | None = None
    worker_weight: int = 0
    result_link: str | None = None
    callback_data: str | None = None

    @property
    def status(self) -> RS:
        """The current status: literally the last entry (may be WORKER_LOST or RECOVERING)."""
        return self.history[-1].status

    @property
    def last_relevant(self) -> RS:
        """The last status that says something about progress (spec §2.7)."""
        return last_relevant(self.history).status

    @property
    def created_at(self) -> float:
        return self.history[0].date

    def has(self, status: RS) -> bool:
        return any(entry.status is status for entry in self.history)

    def first_date(self, status: RS) -> float | None:
        return next((entry.date for entry in self.history if entry.status is status), None)

    def cause_of(self, status: RS) -> Cause | None:
        return next((entry.cause for entry in reversed(self.history) if entry.status is status), None)


@dataclass(frozen=True)
class TaskState:
    """The scheduler's record of one task (spec §9.1), as the engine reads it."""

    chain_task_id: str
    deal_id: str
    task_index: int
    status: TS
    status_date: float
    trust: int
    tag: str
    max_execution_time: int  # seconds: the category's time reference
    contribution_deadline: float
    final_deadline: float
    deal_block: int = 0
    reveal_deadline: float | None = None
    initialization_block: int | None = None
    consensus: str | None = None
    consensus_block: int | None = None
    uploading_wallet: str | None = None
    result_link: str | None = None
    callback_data: str | None = None
    has_callback: bool = False
    enclave_challenge: str | None = None

    @property
    def tee_framework(self) -> TeeFramework | None:
        return tee_framework(self.tag)

    @property
    def contribute_and_finalize(self) -> bool:
        """Trust-1 TEE tasks use the one-shot contributeAndFinalize flow (spec §1.3 RUNNING 3)."""
        return self.trust == 1 and self.tee_framework is not None


@dataclass(frozen=True)
class WorkerState:
    """A registered worker, as the supply decision reads it."""

    wallet: str
    max_nb_tasks: int
    computing: int = 0
    gpu_enabled: bool = False
    tee_enabled: bool = False
    tdx_enabled: bool = False
    participating: tuple[str, ...] = field(default_factory=tuple)
