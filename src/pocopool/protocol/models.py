"""The HTTP contract between scheduler, workers and tools (spec/scheduler.md §6).

Field names follow the reference exactly (camelCase), so that tools written for iexec-core can read
our answers. Both the scheduler and the worker import these models; neither imports the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from .applogs import bounded
from .crypto import InvalidHex, normalize_address, normalize_bytes32
from .digest import MAX_REPORTED_FILES
from .statuses import (
    ReplicateStatus,
    ReplicateStatusCause,
    ReplicateStatusModifier,
    TaskAbortCause,
    TaskNotificationType,
    TaskStatus,
)


class Wire(BaseModel):
    """Base of every wire model: unknown fields ignored, None fields omitted when dumped."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _address(value: str) -> str:
    try:
        return normalize_address(value)
    except InvalidHex as error:
        raise ValueError(str(error)) from error


def _bytes32(value: str) -> str:
    try:
        return normalize_bytes32(value)
    except InvalidHex as error:
        raise ValueError(str(error)) from error


class Signature(Wire):
    value: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="0x r(32) s(32) v(1)")


class WorkerModel(Wire):
    name: str = Field(default="worker", max_length=200)
    walletAddress: str | None = None  # ignored: the token's wallet wins
    os: str = Field(default="", max_length=100)
    cpu: str = Field(default="", max_length=100)
    cpuNb: int = Field(default=1, ge=1, le=4096)
    memorySize: int = Field(default=0, ge=0, description="GiB")
    gpuEnabled: bool = False
    teeEnabled: bool = False
    tdxEnabled: bool = False


class PublicConfiguration(Wire):
    workerPoolAddress: str
    schedulerPublicAddress: str
    configServerUrl: str = ""
    resultRepositoryURL: str
    askForReplicatePeriod: int  # ms
    requiredWorkerVersion: str = ""
    chainId: int


class WorkerpoolAuthorization(Wire):
    chainTaskId: str
    dealId: str
    taskIndex: int = Field(ge=0)
    workerWallet: str
    enclaveChallenge: str
    signature: Signature

    _task = field_validator("chainTaskId", "dealId")(_bytes32)
    _addr = field_validator("workerWallet", "enclaveChallenge")(_address)


class ReplicateTaskSummary(Wire):
    workerpoolAuthorization: WorkerpoolAuthorization
    smsUrl: str | None = None


class ChainReceipt(Wire):
    blockNumber: int = Field(ge=0)
    txHash: str | None = None


class ComputeLogs(Wire):
    walletAddress: str | None = None
    stdout: str = ""
    stderr: str = ""
    teeStages: list[dict] | None = None  # the logs view only: a TEE run's TeeStageLog entries
    # the logs view only: what each stream's cut marker says (LogCut.wire(), protocol/applogs.py)
    stdoutCut: dict | None = None
    stderrCut: dict | None = None

    def tailed(self) -> ComputeLogs:
        """The logs as the scheduler keeps them: each stream cut to MAX_LOG_BYTES (protocol/applogs.py)."""
        return ComputeLogs(walletAddress=self.walletAddress, stdout=bounded(self.stdout), stderr=bounded(self.stderr))


class TeeStageLog(Wire):
    """One enclave stage of a TEE run (pre-compute, app, post-compute): its exit code and logs,
    shown to the requester only, like the app's computeLogs."""

    stage: str = Field(pattern=r"^(pre-compute|app|post-compute)$")
    exitCode: int | None = None
    stdout: str = ""
    stderr: str = ""

    def tailed(self) -> TeeStageLog:
        """The stage's logs as the scheduler keeps them (see ComputeLogs.tailed)."""
        return self.model_copy(update={"stdout": bounded(self.stdout), "stderr": bounded(self.stderr)})


ResultFilePath = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-f]{64}$")]


MAX_EXIT_CAUSES = 32  # causes one failure may list (a result with many bad file names says the first 32)


class ExitCause(Wire):
    """One reason a stage failed, with its own message: iExec's WorkflowError (worker 9.2 reports a
    list of them per stage)."""

    cause: ReplicateStatusCause
    message: str = Field(default="", max_length=2_000)


class ReplicateStatusDetails(Wire):
    chainReceipt: ChainReceipt | None = None
    resultLink: str | None = Field(default=None, max_length=4096)
    chainCallbackData: str | None = Field(default=None, max_length=100_000)
    errorMessage: str | None = Field(default=None, max_length=10_000)
    cause: ReplicateStatusCause | None = None
    computeLogs: ComputeLogs | None = None
    exitCode: int | None = None
    teeSessionGenerationError: str | None = None
    teeStages: list[TeeStageLog] | None = Field(default=None, max_length=3)
    # pocopool, with COMPUTED: the sha256 of each file the result digest read, by path in iexec_out
    # (protocol/digest.py digest_and_files), so that replicates that disagree can say which files
    # differed (decision 120). The scheduler never shows these hashes, only which files differ.
    resultFiles: dict[ResultFilePath, Sha256] | None = Field(default=None, max_length=MAX_REPORTED_FILES)
    # pocopool, with a failure that has several causes (two input files that do not download, three
    # result files with too long a name): each, in the order met. `cause` is the first of them, the
    # decisive one the reference's tools read (decision 122).
    exitCauses: list[ExitCause] | None = Field(default=None, min_length=1, max_length=MAX_EXIT_CAUSES)

    @model_validator(mode="after")
    def _first_exit_cause_is_the_cause(self) -> ReplicateStatusDetails:
        if self.exitCauses:
            if self.cause is None:
                self.cause = self.exitCauses[0].cause
            elif self.cause is not self.exitCauses[0].cause:
                raise ValueError("details.cause must be the first of details.exitCauses")
        return self


MAX_STATUS_BATCH = 32  # updates in one POST /replicates/{id}/updateStatuses
MAX_ASK_HOLD = 25.0  # s a GET /replicates/available may wait for work (its `timeout`), below the usual 30 s proxies


class ReplicateStatusUpdate(Wire):
    status: ReplicateStatus
    modifier: ReplicateStatusModifier | None = None  # overwritten by the scheduler
    date: datetime | None = None  # overwritten by the scheduler
    details: ReplicateStatusDetails | None = None


class TaskNotificationExtra(Wire):
    workerpoolAuthorization: WorkerpoolAuthorization | None = None
    smsUrl: str | None = None
    blockNumber: int = 0
    taskAbortCause: TaskAbortCause | None = None
    # pocopool: the scheduler's signature that lets this worker upload the result (PLEASE_UPLOAD).
    resultUploadAuthorization: str | None = None


class TaskNotification(Wire):
    chainTaskId: str
    workersAddress: list[str] = Field(default_factory=list)
    taskNotificationType: TaskNotificationType
    taskNotificationExtra: TaskNotificationExtra | None = None


class StoredNotification(TaskNotification):
    """A push as delivered by `GET /workers/notifications`: with its id, to resume after it."""

    id: int


class NotificationBatch(Wire):
    notifications: list[StoredNotification]
    cursor: int


class TaskStatusChange(Wire):
    date: datetime
    status: TaskStatus
    chainReceipt: ChainReceipt | None = None


class ReplicateStatusUpdateModel(Wire):
    status: ReplicateStatus
    date: datetime
    cause: ReplicateStatusCause | None = None


class ReplicateModel(Wire):
    self_: str | None = Field(default=None, alias="self")
    chainTaskId: str
    walletAddress: str
    currentStatus: ReplicateStatus
    statusUpdateList: list[ReplicateStatusUpdateModel]
    resultLink: str | None = None
    chainCallbackData: str | None = None
    contributionHash: str | None = None
    appLogs: str | None = None
    appExitCode: int | None = None
    teeSessionGenerationError: str | None = None


class TaskModel(Wire):
    chainTaskId: str
    chainDealId: str | None = None
    taskIndex: int | None = None
    replicates: list[ReplicateModel] = Field(default_factory=list)
    maxExecutionTime: int  # ms
    tag: str
    dappType: str = "BUNDLE"
    dappName: str
    commandLine: str = ""
    initializationBlockNumber: int | None = None
    currentStatus: TaskStatus
    trust: int
    uploadingWorkerWalletAddress: str | None = None
    consensus: str | None = None
    contributionDeadline: datetime
    revealDeadline: datetime | None = None
    finalDeadline: datetime
    resultLink: str | None = None
    chainCallbackData: str | None = None
    dateStatusList: list[TaskStatusChange]


class ErrorBody(Wire):
    """Every 4xx/5xx answer of our services: one clear message."""

    error: str
    detail: Any | None = None
