"""Why the scheduler failed a task: the cause written beside a task's failure status (INITIALIZE_FAILED,
RUNNING_FAILED, ...) in its history, each with its one-line meaning. The single source of truth for
the task causes' names, as causes.py is for the replicates'; task_explanations.py says whose each
one is and what to do.

A scheduler transaction the ledger refused (initialize, reopen, finalize) fails the task with the
cause of the chain's rule (`TaskFailureCause.of_chain_rule`): the rule's kebab-case name in upper
snake case, so `task-has-reveals` and the scheduler's own finding "the task has reveals" are one
cause, TASK_HAS_REVEALS (decision 119).
"""

from __future__ import annotations

from .described import Described
from .statuses import TaskStatus as TS


class TaskFailureCause(Described):
    """Why a task failed, as the scheduler records it with the failure status. The stored value is
    the member's name."""

    # --- the task could not be initialized (INITIALIZE_FAILED) ---
    TEE_NOT_SUPPORTED = "TEE_NOT_SUPPORTED", "The task asks for a TEE framework this workerpool has no SMS for."
    SMS_UNREACHABLE = "SMS_UNREACHABLE", "The workerpool's SMS did not say which TEE framework it serves."
    SMS_FRAMEWORK_MISMATCH = (
        "SMS_FRAMEWORK_MISMATCH",
        "The workerpool's SMS serves another TEE framework than the one the task asks for.",
    )
    ENCLAVE_CHALLENGE_REFUSED = "ENCLAVE_CHALLENGE_REFUSED", "The SMS gave the TEE task no enclave challenge."
    CONTRIBUTION_DEADLINE_PASSED = (
        "CONTRIBUTION_DEADLINE_PASSED",
        "The contribution deadline passed before the task was initialized (chain rule contribution-deadline-passed).",
    )
    UNKNOWN_DEAL = "UNKNOWN_DEAL", "The ledger holds no deal of this id (chain rule unknown-deal)."
    TASK_INDEX_OUT_OF_RANGE = (
        "TASK_INDEX_OUT_OF_RANGE",
        "The task index is outside the deal's bag of tasks (chain rule task-index-out-of-range).",
    )
    TASK_ALREADY_INITIALIZED = (
        "TASK_ALREADY_INITIALIZED",
        "The ledger refused the initialize: the task is already initialized (chain rule task-already-initialized).",
    )
    # --- the task cannot progress (RUNNING_FAILED) ---
    ALL_ALIVE_WORKERS_FAILED = (
        "ALL_ALIVE_WORKERS_FAILED",
        "Every alive worker failed the task before computing, each for a cause of the app or its input.",
    )
    MANY_CONTRIBUTE_AND_FINALIZE = (
        "MANY_CONTRIBUTE_AND_FINALIZE",
        "More than one replicate reported the one-shot finalization of a trust-1 TEE task.",
    )
    # --- no consensus in time (CONTRIBUTION_TIMEOUT) ---
    CONTRIBUTION_TIMEOUT = "CONTRIBUTION_TIMEOUT", "The contribution deadline passed before consensus was reached."
    # --- the task could not be reopened (REOPEN_FAILED) ---
    TASK_HAS_REVEALS = (
        "TASK_HAS_REVEALS",
        "A winner revealed after all, so the task cannot be reopened (chain rule task-has-reveals).",
    )
    REVEAL_DEADLINE_NOT_REACHED = (
        "REVEAL_DEADLINE_NOT_REACHED",
        "The reopen was sent before the reveal deadline (chain rule reveal-deadline-not-reached).",
    )
    TASK_NOT_REVEALING = (
        "TASK_NOT_REVEALING",
        "The chain task is not REVEALING, as reopen and finalize need (chain rule task-not-revealing).",
    )
    TASK_COMPLETED = "TASK_COMPLETED", "The chain task is already COMPLETED: there is nothing to reopen."
    TASK_UNSET = "TASK_UNSET", "The chain does not know the task (UNSET) the scheduler wanted to reopen."
    TASK_CLAIMED = (
        "TASK_CLAIMED",
        "The task was claimed on chain (FAILED there) before the scheduler ended it.",
    )
    # --- nobody uploaded the result (RESULT_UPLOAD_TIMEOUT) ---
    RESULT_UPLOAD_TIMEOUT = (
        "RESULT_UPLOAD_TIMEOUT",
        "No revealer uploaded the result, and no other revealer was left to ask.",
    )
    # --- the task could not be finalized (FINALIZE_FAILED) ---
    REVEALS_PENDING = (
        "REVEALS_PENDING",
        "Finalize was sent while winners could still reveal (chain rule reveals-pending).",
    )
    WRONG_RESULTS_CALLBACK = (
        "WRONG_RESULTS_CALLBACK",
        "The results callback does not hash to the result digest (chain rule wrong-results-callback).",
    )
    # --- at any step ---
    FINAL_DEADLINE_REACHED = (
        "FINAL_DEADLINE_REACHED",
        "The final deadline passed before the task ended (chain rule final-deadline-passed).",
    )
    ONLY_SCHEDULER = (
        "ONLY_SCHEDULER",
        "The scheduler's wallet is not the owner of the deal's workerpool, as reopen and finalize need (chain rule "
        "only-scheduler).",
    )
    LEDGER_REFUSED = (
        "LEDGER_REFUSED",
        "The ledger refused a transaction of the scheduler for a rule no other cause names; the message gives it.",
    )

    @classmethod
    def of_chain_rule(cls, rule: str | None) -> TaskFailureCause:
        """The cause of a scheduler transaction the ledger refused for `rule` (a kebab-case name of
        chain/errors.py): the member of the same name in upper snake case (`final-deadline-passed` is
        FINAL_DEADLINE_REACHED, the engine's name for the same deadline); LEDGER_REFUSED for a rule
        no member names (the message keeps the rule)."""
        name = (rule or "").strip().upper().replace("-", "_")
        name = _CHAIN_SPELLINGS.get(name, name)
        return cls.__members__.get(name, cls.LEDGER_REFUSED)

    @classmethod
    def parse(cls, stored: str | None) -> TaskFailureCause | None:
        """A cause read back from a task's history, or None when there is none or it is no task
        cause. Rows written before decision 119 may hold the chain's kebab-case rule or TASK_FAILED:
        each reads as the cause it is now written as."""
        if not stored:
            return None
        if "-" in stored:
            return cls.of_chain_rule(stored)
        return cls.__members__.get(_CHAIN_SPELLINGS.get(stored, stored))


# The chain's names for what a task cause already says, and the scheduler's old spellings.
_CHAIN_SPELLINGS: dict[str, str] = {
    "FINAL_DEADLINE_PASSED": TaskFailureCause.FINAL_DEADLINE_REACHED.value,
    "TASK_FAILED": TaskFailureCause.TASK_CLAIMED.value,  # a chain task is FAILED once claimed
}

_C = TaskFailureCause
# The failure statuses each cause is written with (the engine's `fail_task` calls).
WRITTEN_WITH: dict[TaskFailureCause, tuple[TS, ...]] = {
    _C.TEE_NOT_SUPPORTED: (TS.INITIALIZE_FAILED,),
    _C.SMS_UNREACHABLE: (TS.INITIALIZE_FAILED,),
    _C.SMS_FRAMEWORK_MISMATCH: (TS.INITIALIZE_FAILED,),
    _C.ENCLAVE_CHALLENGE_REFUSED: (TS.INITIALIZE_FAILED,),
    _C.CONTRIBUTION_DEADLINE_PASSED: (TS.INITIALIZE_FAILED,),
    _C.UNKNOWN_DEAL: (TS.INITIALIZE_FAILED,),
    _C.TASK_INDEX_OUT_OF_RANGE: (TS.INITIALIZE_FAILED,),
    _C.TASK_ALREADY_INITIALIZED: (TS.INITIALIZE_FAILED,),
    _C.ALL_ALIVE_WORKERS_FAILED: (TS.RUNNING_FAILED,),
    _C.MANY_CONTRIBUTE_AND_FINALIZE: (TS.RUNNING_FAILED,),
    _C.CONTRIBUTION_TIMEOUT: (TS.CONTRIBUTION_TIMEOUT,),
    _C.TASK_HAS_REVEALS: (TS.REOPEN_FAILED,),
    _C.REVEAL_DEADLINE_NOT_REACHED: (TS.REOPEN_FAILED,),
    _C.TASK_NOT_REVEALING: (TS.REOPEN_FAILED, TS.FINALIZE_FAILED),
    _C.TASK_COMPLETED: (TS.REOPEN_FAILED,),
    _C.TASK_UNSET: (TS.REOPEN_FAILED,),
    _C.TASK_CLAIMED: (TS.REOPEN_FAILED, TS.FINALIZE_FAILED, TS.FINAL_DEADLINE_REACHED),
    _C.RESULT_UPLOAD_TIMEOUT: (TS.RESULT_UPLOAD_TIMEOUT,),
    _C.REVEALS_PENDING: (TS.FINALIZE_FAILED,),
    _C.WRONG_RESULTS_CALLBACK: (TS.FINALIZE_FAILED,),
    _C.FINAL_DEADLINE_REACHED: (TS.FINAL_DEADLINE_REACHED, TS.REOPEN_FAILED, TS.FINALIZE_FAILED),
    _C.ONLY_SCHEDULER: (TS.REOPEN_FAILED, TS.FINALIZE_FAILED),
    _C.LEDGER_REFUSED: (TS.INITIALIZE_FAILED, TS.REOPEN_FAILED, TS.FINALIZE_FAILED),
}
