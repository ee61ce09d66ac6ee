"""What the store takes and gives besides the scheduler's states, and the row <-> state converters
that every query module shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...protocol.statuses import (
    ReplicateStatus as RS,
)
from ...protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from ...protocol.statuses import (
    ReplicateStatusModifier as Modifier,
)
from ...protocol.statuses import (
    TaskStatus as TS,
)
from ..state import NewReplicateUpdate, ReplicateEntry, ReplicateRecord, TaskState  # noqa: F401 - re-exported


class Stale(Exception):
    """Raised inside a write transaction when a record changed since it was read: the transaction
    rolls back, and the store answers False."""


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def to_seconds(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def aware(value: Any) -> datetime | None:
    """Aggregates (min/max) bypass the column type on SQLite: parse and mark UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class NewTask:
    """A task read from a deal, ready to be stored RECEIVED."""

    chain_task_id: str
    deal_id: str
    task_index: int
    deal_block: int
    trust: int
    tag: str
    category: int
    max_execution_time: int
    app_address: str
    app_multiaddr: str
    command_line: str
    requester: str
    beneficiary: str
    callback: str
    contribution_deadline: float
    final_deadline: float


@dataclass(frozen=True)
class NotificationRow:
    wallet: str
    task_id: str
    type: str
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class TaskDetails:
    """Everything the task view shows, as rows."""

    task: Mapping[str, Any]
    changes: list[Mapping[str, Any]]
    replicates: list[Mapping[str, Any]]
    updates: dict[int, list[Mapping[str, Any]]]  # replicate id -> its history
    log_wallets: set[str]
    # wallet -> the first characters of its stored stdout and stderr: enough for a cut marker
    # (protocol/applogs.py), never the logs themselves (those are for the requester only)
    log_heads: dict[str, tuple[str, str]] = field(default_factory=dict)


def task_state(row: Mapping[str, Any]) -> TaskState:
    return TaskState(
        chain_task_id=row["chain_task_id"],
        deal_id=row["deal_id"],
        task_index=row["task_index"],
        status=TS(row["status"]),
        status_date=row["status_date"].timestamp(),
        trust=row["trust"],
        tag=row["tag"],
        max_execution_time=row["max_execution_time"],
        contribution_deadline=row["contribution_deadline"].timestamp(),
        final_deadline=row["final_deadline"].timestamp(),
        deal_block=row["deal_block"],
        reveal_deadline=to_seconds(row["reveal_deadline"]),
        initialization_block=row["initialization_block"],
        consensus=row["consensus"],
        consensus_block=row["consensus_block"],
        uploading_wallet=row["uploading_wallet"],
        result_link=row["result_link"],
        callback_data=row["callback_data"],
        has_callback=int(row["callback"], 16) != 0,
        enclave_challenge=row["enclave_challenge"],
    )


def replicate_states(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[ReplicateRecord]]:
    """Replicates with their histories, by task id, from rows of `replicates.HISTORY` (one row per
    entry, in replicate then entry order)."""
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["id"], []).append(row)
    result: dict[str, list[ReplicateRecord]] = {}
    for entries in grouped.values():
        first = entries[0]
        result.setdefault(first["task_id"], []).append(
            ReplicateRecord(
                wallet=first["wallet"],
                history=tuple(
                    ReplicateEntry(
                        RS(e["u_status"]),
                        e["u_date"].timestamp(),
                        Modifier(e["u_modifier"]),
                        Cause(e["u_cause"]) if e["u_cause"] else None,
                    )
                    for e in entries
                ),
                contribution_hash=first["contribution_hash"],
                worker_weight=first["worker_weight"],
                result_link=first["result_link"],
                callback_data=first["callback_data"],
            )
        )
    return result
