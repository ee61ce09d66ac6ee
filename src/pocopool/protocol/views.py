"""The scheduler's answers, as wire models: `GET /tasks/{id}`, `/tasks/{id}/replicates/{wallet}`,
`/deals/{id}`, `/workers`, `/tasks/{id}/logs` (spec/scheduler.md §6.3, docs/contracts.md).

The scheduler builds them from its store (scheduler/views.py), the SDK parses its answers into them
(`TaskView.model_validate(response.json())`), and the pure views of protocol/ (diagnosis, waiting,
timeline, contributions) read them: one typed model, one spelling of each field, on both sides.

The task and replicate models extend the reference ones of protocol/models.py with what pocopool
records besides (the cause and message of each task status change; the modifier, error message,
exit code and receipt of each replicate status update): a client reading them as the reference
models simply ignores the extra fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field, TypeAdapter

from .models import (
    ChainReceipt,
    ComputeLogs,
    ExitCause,
    ReplicateModel,
    ReplicateStatusUpdateModel,
    TaskModel,
    TaskStatusChange,
    Wire,
)
from .statuses import ChainTaskStatus, ReplicateStatusModifier, TaskStatus

_DATES = TypeAdapter(datetime)


def wire_date(value: datetime) -> str:
    """A date spelled exactly as the wire models send it (pydantic's ISO 8601)."""
    return str(_DATES.dump_python(value, mode="json"))


class TaskStatusChangeView(TaskStatusChange):
    """One task status change, with the cause and message the scheduler recorded."""

    cause: str | None = None
    message: str | None = None


class ReplicateStatusUpdateView(ReplicateStatusUpdateModel):
    """One replicate status update, with what the worker or the scheduler reported along."""

    modifier: ReplicateStatusModifier | None = None
    errorMessage: str | None = None
    exitCode: int | None = None
    chainReceipt: ChainReceipt | None = None
    resultLink: str | None = None
    exitCauses: list[ExitCause] | None = None  # each cause of a failure that has several (decision 122)


class ReplicateView(ReplicateModel):
    """`GET /tasks/{id}/replicates/{wallet}`, and each replicate of a TaskView."""

    statusUpdateList: list[ReplicateStatusUpdateView]  # type: ignore[assignment]
    workerWeight: int | None = None  # the worker's weight in the consensus (spec/poco.md §8.2)
    workerScore: int | None = None  # the worker's score on chain when its contribution was recorded
    # per stream ("stdout", "stderr") whose stored log was cut: the cut (LogCut.wire(), protocol/applogs.py)
    appLogsCut: dict[str, dict] | None = None
    # each result file the worker reported with COMPUTED, by path: its variant among the task's
    # replicates (equal numbers, equal bytes; protocol/disagreement.py file_variants), never its hash
    resultFiles: dict[str, int] | None = None
    resultFilesMatch: bool | None = None  # whether those files give the contributed result (files_match)


class TaskView(TaskModel):
    """`GET /tasks/{id}`: the task, its status history and its replicates."""

    replicates: list[ReplicateView] = Field(default_factory=list)  # type: ignore[assignment]
    dateStatusList: list[TaskStatusChangeView]  # type: ignore[assignment]
    dealBlockNumber: int | None = None
    consensusReachedBlockNumber: int | None = None
    requester: str | None = None
    beneficiary: str | None = None


class DealTask(Wire):
    """One task of a DealView."""

    chainTaskId: str
    taskIndex: int
    currentStatus: TaskStatus


class DealView(Wire):
    """`GET /deals/{id}`: the tasks of a deal the scheduler knows."""

    dealId: str
    tasks: list[DealTask]


class WorkerView(Wire):
    """One entry of `GET /workers`: a registered worker, whether it is alive, and its tasks."""

    walletAddress: str
    name: str = ""
    os: str = ""
    cpu: str = ""
    cpuNb: int = 1
    memorySize: int = 0
    gpuEnabled: bool = False
    teeEnabled: bool = False
    tdxEnabled: bool = False
    maxNbTasks: int = 0
    alive: bool = False
    lastAliveDate: str | None = None
    lastReplicateDemandDate: str | None = None
    participatingChainTaskIds: list[str] = Field(default_factory=list)
    computingChainTaskIds: list[str] = Field(default_factory=list)


class TaskLogsView(Wire):
    """`GET /tasks/{id}/logs`: each worker's compute logs (the reference's TaskLogsModel)."""

    chainTaskId: str | None = None
    computeLogsList: list[ComputeLogs] = Field(default_factory=list)


@dataclass(frozen=True)
class OnChainTask:
    """What the views need of the chain's record of a task: its status and consensus value."""

    status: ChainTaskStatus
    consensus_value: str | None = None


@dataclass(frozen=True)
class StakeMove:
    """A Reward or Seize event of the chain (spec/poco.md §17): `amount` paid to or taken from
    `owner`, for the task `ref`."""

    name: str
    owner: str
    amount: int
    ref: str

    @classmethod
    def from_event(cls, name: str, args: Mapping[str, Any]) -> StakeMove:
        """From a chain event's name and named fields (`Event.name`, `Event.args`)."""
        return cls(name=name, owner=str(args["owner"]), amount=int(args["amount"]), ref=str(args["ref"]))


SCORE_EVENTS = {"AccurateContribution": "+1", "FaultyContribution": "×2/3"}  # spec/poco.md §8.5


@dataclass(frozen=True)
class ScoreMove:
    """An AccurateContribution or FaultyContribution event (spec/poco.md §8.5): the task's finalize
    raised `worker`'s score by one, or cut it to two thirds (rounded down)."""

    name: str
    worker: str
    task_id: str

    @classmethod
    def from_event(cls, name: str, args: Mapping[str, Any]) -> ScoreMove:
        """From a chain event's name and named fields (`Event.name`, `Event.args`)."""
        return cls(name=name, worker=str(args["worker"]), task_id=str(args["taskid"]))
