"""What a task decision is made of: statuses, fields, replicate changes, notifications, and at most
one action (a transaction or an SMS call).

`decide` (tasks.py) returns a `Transition`; the updater (scheduler/updater.py) writes it in one
guarded database transaction, then performs the action. Plain data only: the rules several steps
share, which build these pieces, are in rules.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ...chain.base import ChainTask
from ...protocol.statuses import (
    ReplicateStatus as RS,
)
from ...protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from ...protocol.statuses import TaskAbortCause
from ...protocol.statuses import (
    TaskNotificationType as Next,
)
from ...protocol.statuses import (
    TaskStatus as TS,
)
from ...protocol.task_causes import TaskFailureCause
from .replicates import Accepted


class ChainAction(str, Enum):
    """A transaction the scheduler sends after writing the decision that announces it."""

    INITIALIZE = "initialize"
    REOPEN = "reopen"
    FINALIZE = "finalize"


class SmsCall(str, Enum):
    """One of the two SMS calls of a TEE task (docs/tee.md), made like a transaction: after writing
    the decision that announces it."""

    FRAMEWORK = "sms_framework"  # GET {sms}/tee/framework
    ENCLAVE_CHALLENGE = "enclave_challenge"  # POST {sms}/tee/challenges/{taskId}


# An outside call a transition announces; its outcome comes back to the next decision as `ChainView.tx`.
Action = ChainAction | SmsCall


@dataclass(frozen=True)
class TxOutcome:
    """What happened to the transaction (or SMS call) the updater just made (None in ChainView: none)."""

    action: Action
    block_number: int | None = None
    tx_hash: str | None = None
    revert_rule: str | None = None  # the ledger refused it: the rule it broke
    revert_message: str | None = None
    error: str | None = None  # the ledger (or the SMS) could not be reached: nothing is known
    value: str | None = None  # an SMS call's answer: the framework name, or the enclave challenge address
    source: str | None = None  # who answered an SMS call (its URL), named in the messages

    @property
    def reverted(self) -> bool:
        return self.revert_rule is not None

    @property
    def answered(self) -> bool:
        return self.value is not None and not self.reverted

    @property
    def mined(self) -> bool:
        return self.block_number is not None and not self.reverted


@dataclass(frozen=True)
class ChainView:
    """What the chain says about the task. `task` is None when it could not be read."""

    task: ChainTask | None
    consensus_block: int | None = None  # block of the TaskConsensus event, when found
    latest_block: int | None = None
    tx: TxOutcome | None = None


@dataclass(frozen=True)
class StatusChange:
    """One entry appended to the task history: the status, a machine cause, a sentence.

    The cause is a `TaskFailureCause`: a plain string is refused, so every cause the engine writes
    is one `pocopool explain` and docs/debugging.md know."""

    status: TS
    cause: TaskFailureCause | None = None
    message: str | None = None
    block_number: int | None = None
    tx_hash: str | None = None

    def __post_init__(self) -> None:
        if self.cause is not None and not isinstance(self.cause, TaskFailureCause):
            raise TypeError(f"a task's cause is a TaskFailureCause, not {self.cause!r}")


@dataclass(frozen=True)
class ReplicateChange:
    """A replicate status the scheduler (POOL_MANAGER) writes, as `decide_replicate` accepted it,
    guarded by the replicate's status."""

    wallet: str
    expected: RS
    accepted: Accepted

    @property
    def status(self) -> RS:
        return self.accepted.entry.status

    @property
    def cause(self) -> Cause | None:
        return self.accepted.entry.cause

    @property
    def message(self) -> str | None:
        return self.accepted.entry.error_message


@dataclass(frozen=True)
class Notification:
    """A notification to some workers, stored in the same transaction as the change causing it."""

    type: Next
    wallets: tuple[str, ...]
    abort_cause: TaskAbortCause | None = None
    block_number: int = 0


@dataclass(frozen=True)
class Transition:
    statuses: tuple[StatusChange, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)  # TaskState attribute -> new value
    replicates: tuple[ReplicateChange, ...] = ()
    notifications: tuple[Notification, ...] = ()
    action: Action | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.statuses or self.fields or self.replicates or self.notifications or self.action)

    @property
    def new_status(self) -> TS | None:
        return self.statuses[-1].status if self.statuses else None


NOTHING = Transition()
