"""Statuses of tasks and replicates, each with its meaning (their causes are causes.py).

This module is the single source of truth for the names and one-line descriptions: the CLI, the
HTTP API, the web UI and docs/ read them from here. Enum order is the protocol's ordinal order
(spec/scheduler.md §1.1 and §2.1), which matters for comparisons.
"""

from __future__ import annotations

from enum import Enum

# The causes are read from here too: statuses and causes are the protocol's one vocabulary.
from .causes import Cause as Cause
from .causes import Component as Component
from .causes import ReplicateStatusCause as ReplicateStatusCause
from .causes import TaskAbortCause as TaskAbortCause
from .described import Described


class TaskStatus(Described):
    """Off-chain status of a task, as the scheduler follows it (spec/scheduler.md §1.1)."""

    RECEIVED = "RECEIVED", "The scheduler saw the deal and created the task."
    INITIALIZING = "INITIALIZING", "The scheduler sent the on-chain initialize transaction and waits for it."
    INITIALIZED = "INITIALIZED", "The task is initialized on chain; workers can be given replicates."
    INITIALIZE_FAILED = "INITIALIZE_FAILED", "The task could not be initialized on chain."
    RUNNING = "RUNNING", "At least one worker started working on the task."
    RUNNING_FAILED = (
        "RUNNING_FAILED",
        "The task cannot progress: every alive worker failed it before computing (for a standard task, "
        "for a cause of the app or its input) or the one-shot finalization was reported twice.",
    )
    CONTRIBUTION_TIMEOUT = "CONTRIBUTION_TIMEOUT", "The contribution deadline passed before consensus was reached."
    CONSENSUS_REACHED = "CONSENSUS_REACHED", "Enough workers agree on one result; the winners must reveal it."
    REOPENING = "REOPENING", "No winner revealed in time; the scheduler sent the reopen transaction."
    REOPENED = "REOPENED", "The task is open again on chain after a reopen; new workers may contribute."
    REOPEN_FAILED = "REOPEN_FAILED", "The reopen transaction failed."
    AT_LEAST_ONE_REVEALED = "AT_LEAST_ONE_REVEALED", "At least one winner revealed its result on chain."
    RESULT_UPLOADING = "RESULT_UPLOADING", "One revealer was asked to upload the result."
    RESULT_UPLOADED = "RESULT_UPLOADED", "The result is uploaded to the result store."
    RESULT_UPLOAD_TIMEOUT = (
        "RESULT_UPLOAD_TIMEOUT",
        "No revealer uploaded the result in time, and no other revealer was left to ask.",
    )
    FINALIZING = "FINALIZING", "The scheduler sent the on-chain finalize transaction and waits for it."
    FINALIZED = "FINALIZED", "The task is finalized on chain; rewards are paid."
    FINALIZE_FAILED = "FINALIZE_FAILED", "The task could not be finalized on chain."
    FINAL_DEADLINE_REACHED = "FINAL_DEADLINE_REACHED", "The final deadline passed before the task ended."
    COMPLETED = "COMPLETED", "Final, success: the result is on chain and in the result store."
    FAILED = (
        "FAILED",
        "Final, failure: see the previous status and the replicates' causes; the requester can claim a refund.",
    )

    @property
    def is_final(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED)

    @property
    def is_failure(self) -> bool:
        """An intermediate failure status, always followed by FAILED."""
        return self in TASK_FAILURE_STATUSES


TASK_FAILURE_STATUSES = frozenset(
    {
        TaskStatus.INITIALIZE_FAILED,
        TaskStatus.RUNNING_FAILED,
        TaskStatus.CONTRIBUTION_TIMEOUT,
        TaskStatus.REOPEN_FAILED,
        TaskStatus.RESULT_UPLOAD_TIMEOUT,
        TaskStatus.FINALIZE_FAILED,
        TaskStatus.FINAL_DEADLINE_REACHED,
    }
)
CONTRIBUTION_PHASE = frozenset({TaskStatus.INITIALIZED, TaskStatus.RUNNING})
REVEAL_PHASE = frozenset(
    {
        TaskStatus.CONSENSUS_REACHED,
        TaskStatus.AT_LEAST_ONE_REVEALED,
        TaskStatus.RESULT_UPLOADING,
        TaskStatus.RESULT_UPLOADED,
    }
)
COMPLETION_PHASE = frozenset({TaskStatus.FINALIZING, TaskStatus.FINALIZED, TaskStatus.COMPLETED})


class ReplicateStatus(Described):
    """Status of one worker's run of a task (spec/scheduler.md §2.1)."""

    CREATED = "CREATED", "The replicate was assigned to the worker right after it asked for work."
    STARTING = "STARTING", "The worker runs its preflight checks."
    START_FAILED = "START_FAILED", "The preflight checks failed; the worker will not work on this task."
    STARTED = "STARTED", "The worker confirmed it will work on the task."
    APP_DOWNLOADING = "APP_DOWNLOADING", "The worker is downloading the app."
    APP_DOWNLOAD_FAILED = "APP_DOWNLOAD_FAILED", "The app download or its checksum check failed."
    APP_DOWNLOADED = "APP_DOWNLOADED", "The app is downloaded and verified."
    DATA_DOWNLOADING = "DATA_DOWNLOADING", "The worker is downloading the dataset and input files."
    DATA_DOWNLOAD_FAILED = "DATA_DOWNLOAD_FAILED", "The dataset or an input file could not be downloaded or verified."
    DATA_DOWNLOADED = "DATA_DOWNLOADED", "The dataset and input files are ready."
    COMPUTING = "COMPUTING", "The app is running in the sandbox."
    COMPUTE_FAILED = "COMPUTE_FAILED", "The computation could not run."
    COMPUTED = "COMPUTED", "The computation ended; the result digest is known (exit code and logs attached)."
    CONTRIBUTING = "CONTRIBUTING", "The worker is sending its contribution (result hash and seal) on chain."
    CONTRIBUTE_FAILED = "CONTRIBUTE_FAILED", "The contribution could not be sent."
    CONTRIBUTED = "CONTRIBUTED", "The contribution is on chain."
    REVEALING = "REVEALING", "The worker is revealing its result digest on chain."
    REVEAL_FAILED = "REVEAL_FAILED", "The reveal could not be sent."
    REVEALED = "REVEALED", "The reveal is on chain."
    RESULT_UPLOAD_REQUESTED = "RESULT_UPLOAD_REQUESTED", "The scheduler chose this worker to upload the result."
    RESULT_UPLOADING = "RESULT_UPLOADING", "The worker is uploading the result."
    RESULT_UPLOAD_FAILED = "RESULT_UPLOAD_FAILED", "The result upload failed or timed out."
    RESULT_UPLOADED = "RESULT_UPLOADED", "The result is uploaded."
    CONTRIBUTE_AND_FINALIZE_ONGOING = (
        "CONTRIBUTE_AND_FINALIZE_ONGOING",
        "The worker is sending the one-shot contributeAndFinalize transaction.",
    )
    CONTRIBUTE_AND_FINALIZE_FAILED = "CONTRIBUTE_AND_FINALIZE_FAILED", "The contributeAndFinalize transaction failed."
    CONTRIBUTE_AND_FINALIZE_DONE = (
        "CONTRIBUTE_AND_FINALIZE_DONE",
        "The worker contributed and finalized; the task is completed on chain.",
    )
    COMPLETING = "COMPLETING", "The task is finalized; the worker cleans up its files."
    COMPLETE_FAILED = "COMPLETE_FAILED", "The worker could not clean up after the task."
    COMPLETED = (
        "COMPLETED",
        "Final, success: the task is completed and the worker was paid if it was among the winners.",
    )
    FAILED = "FAILED", "Final, failure: the worker failed to take part (see the cause)."
    ABORTED = "ABORTED", "The worker stopped this replicate because the scheduler told it to (see the cause)."
    RECOVERING = "RECOVERING", "The worker restarted and resumes this replicate where it stopped."
    WORKER_LOST = "WORKER_LOST", "The worker stopped pinging the scheduler; it is considered gone for this task."


RS = ReplicateStatus

SUCCESS_STATUSES: tuple[ReplicateStatus, ...] = (
    RS.CREATED,
    RS.STARTING,
    RS.STARTED,
    RS.APP_DOWNLOADING,
    RS.APP_DOWNLOADED,
    RS.DATA_DOWNLOADING,
    RS.DATA_DOWNLOADED,
    RS.COMPUTING,
    RS.COMPUTED,
    RS.CONTRIBUTING,
    RS.CONTRIBUTED,
    RS.REVEALING,
    RS.REVEALED,
    RS.CONTRIBUTE_AND_FINALIZE_ONGOING,
    RS.CONTRIBUTE_AND_FINALIZE_DONE,
    RS.COMPLETING,
    RS.COMPLETED,
)
FAILURE_STATUSES = frozenset(
    {
        RS.START_FAILED,
        RS.APP_DOWNLOAD_FAILED,
        RS.DATA_DOWNLOAD_FAILED,
        RS.COMPUTE_FAILED,
        RS.CONTRIBUTE_FAILED,
        RS.REVEAL_FAILED,
        RS.RESULT_UPLOAD_FAILED,
        RS.CONTRIBUTE_AND_FINALIZE_FAILED,
        RS.COMPLETE_FAILED,
        RS.FAILED,
    }
)
FAILED_BEFORE_COMPUTED = frozenset(
    {
        RS.START_FAILED,
        RS.APP_DOWNLOAD_FAILED,
        RS.DATA_DOWNLOAD_FAILED,
        RS.COMPUTE_FAILED,
    }
)
FINAL_REPLICATE_STATUSES = frozenset({RS.COMPLETED, RS.FAILED})
# Statuses that say nothing about progress: "last relevant status" skips them (spec §2.7).
IRRELEVANT_STATUSES = frozenset({RS.WORKER_LOST, RS.RECOVERING})


def missing_statuses(last: ReplicateStatus, target: ReplicateStatus) -> list[ReplicateStatus]:
    """Success statuses strictly after `last` up to and including `target` (spec §2.1 getMissingStatuses)."""
    if last not in SUCCESS_STATUSES or target not in SUCCESS_STATUSES:
        return []
    i, j = SUCCESS_STATUSES.index(last), SUCCESS_STATUSES.index(target)
    return list(SUCCESS_STATUSES[i + 1 : j + 1]) if i < j else []


class TaskNotificationType(str, Enum):
    """What the scheduler asks a worker to do next (spec/scheduler.md §2.6)."""

    PLEASE_CONTINUE = "PLEASE_CONTINUE"
    PLEASE_WAIT = "PLEASE_WAIT"
    PLEASE_START = "PLEASE_START"
    PLEASE_DOWNLOAD_APP = "PLEASE_DOWNLOAD_APP"
    PLEASE_DOWNLOAD_DATA = "PLEASE_DOWNLOAD_DATA"
    PLEASE_COMPUTE = "PLEASE_COMPUTE"
    PLEASE_CONTRIBUTE = "PLEASE_CONTRIBUTE"
    PLEASE_REVEAL = "PLEASE_REVEAL"
    PLEASE_UPLOAD = "PLEASE_UPLOAD"
    PLEASE_CONTRIBUTE_AND_FINALIZE = "PLEASE_CONTRIBUTE_AND_FINALIZE"
    PLEASE_COMPLETE = "PLEASE_COMPLETE"
    PLEASE_ABORT = "PLEASE_ABORT"


class ReplicateStatusModifier(str, Enum):
    WORKER = "WORKER"
    POOL_MANAGER = "POOL_MANAGER"


class ChainTaskStatus(Described):
    """On-chain task status (spec/poco.md §6.1)."""

    UNSET = "UNSET", "The task is not initialized on chain."
    ACTIVE = "ACTIVE", "Contributions are open."
    REVEALING = "REVEALING", "Consensus is reached; winners reveal their result."
    COMPLETED = "COMPLETED", "Finalized: the result is on chain and everyone is paid."
    FAILED = "FAILED", "Claimed after the final deadline: the requester was refunded."


class ChainContributionStatus(str, Enum):
    """On-chain status of one worker's contribution (spec/poco.md §6.1)."""

    UNSET = "UNSET"
    CONTRIBUTED = "CONTRIBUTED"
    PROVED = "PROVED"
    REJECTED = "REJECTED"


# The public docs spell a few names differently from the code (spec/debugging.md §1.8). These doc
# spellings are accepted wherever a user types a name (`pocopool explain`); the code spelling is the
# one on the wire.
_SIGNATURE_TOKENS = "TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_"
DOC_SPELLINGS: dict[str, str] = {
    "POST_COMPUTE_FAILED_UNKOWN_ISSUE": ReplicateStatusCause.POST_COMPUTE_FAILED_UNKNOWN_ISSUE.value,
    "TEE_SESSION_GENERATION_SECURE_SESSION_NO_TEE_PROVIDER": ReplicateStatusCause.TEE_SESSION_GENERATION_SECURE_SESSION_NO_TEE_FRAMEWORK.value,
    **{
        f"TEE_SESSION_GENERATION_POST_COMPUTE_GET_SIGNATURE_TOKENS_FAILED_EMPTY_{what}": ReplicateStatusCause[
            _SIGNATURE_TOKENS + what
        ].value
        for what in ("WORKER_ADDRESS", "PUBLIC_ENCLAVE_CHALLENGE", "TEE_CHALLENGE", "TEE_CREDENTIALS")
    },
    "UPLOADING": TaskStatus.RESULT_UPLOADING.value,
}
