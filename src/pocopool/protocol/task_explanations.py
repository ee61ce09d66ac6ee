"""What each task cause means in plain words, whose it is, and what to do about it: the task causes'
twin of explanations.py, read by `pocopool explain`, the diagnosis and docs/debugging.md."""

from __future__ import annotations

from .causes import Component, Explanation, Origin
from .task_causes import TaskFailureCause as T

CH, SC, W = Component.CHAIN, Component.SCHEDULER, Component.WORKER
P, IN, PR = Origin.PLATFORM, Origin.INPUT, Origin.PROTOCOL
_REFUND = "Claim a refund after the final deadline (pocopool task claim)."
_REPORT = "A scheduler fault: report it with the scheduler's log. " + _REFUND

TASK_CAUSES: dict[T, Explanation] = {
    T.TEE_NOT_SUPPORTED: Explanation(
        SC,
        P,
        "The task asks for a TEE framework, and this workerpool runs no secret management service (SMS) for it.",
        "Buy the TEE task from a workerpool that serves its framework, or ask this pool's operator to start an SMS "
        "for it. " + _REFUND,
    ),
    T.SMS_UNREACHABLE: Explanation(
        SC,
        P,
        "The scheduler asked the workerpool's SMS which TEE framework it serves and got no answer, or a refusal.",
        "The pool's operator must check the SMS the scheduler is configured with (the message gives its answer). "
        + _REFUND,
    ),
    T.SMS_FRAMEWORK_MISMATCH: Explanation(
        SC,
        P,
        "The workerpool's SMS serves another TEE framework than the one the task's tag asks for.",
        "Buy the task with the framework this pool serves, or from another pool. " + _REFUND,
    ),
    T.ENCLAVE_CHALLENGE_REFUSED: Explanation(
        SC,
        P,
        "The SMS refused to create the enclave challenge the TEE task needs before it can be initialized.",
        "The pool's operator must read the SMS's refusal in the message (the SMS's rule and its words). " + _REFUND,
    ),
    T.CONTRIBUTION_DEADLINE_PASSED: Explanation(
        SC,
        PR,
        "The task's contribution deadline passed before the scheduler could initialize it (the scheduler was down, "
        "or waited for the SMS), so no worker could have contributed.",
        "Buy again when the workerpool is up. " + _REFUND,
    ),
    T.UNKNOWN_DEAL: Explanation(
        CH, P, "The ledger holds no deal of this id: the scheduler reads another chain than the deal's.", _REPORT
    ),
    T.TASK_INDEX_OUT_OF_RANGE: Explanation(
        CH, P, "The task index is outside the deal's bag of tasks: the scheduler read the deal wrongly.", _REPORT
    ),
    T.TASK_ALREADY_INITIALIZED: Explanation(
        CH,
        PR,
        "The ledger refused the initialize because the task is already initialized, while the scheduler's view of "
        "the chain said it was not.",
        "Nothing usually: the scheduler's next read of the chain finds the task initialized. " + _REFUND,
    ),
    T.ALL_ALIVE_WORKERS_FAILED: Explanation(
        Component.APP,
        IN,
        "Every alive worker failed the task before computing, each for a cause of the app or its input (a "
        "download, a checksum, the app's start): no worker of this pool can run it as it is.",
        "Read the replicates' causes in the message (task debug shows the decisive one) and fix the app or the "
        "input, then buy again. " + _REFUND,
    ),
    T.MANY_CONTRIBUTE_AND_FINALIZE: Explanation(
        W,
        P,
        "More than one worker reported the one-shot finalization of a trust-1 TEE task, which only one can do.",
        "A worker or scheduler fault: report it with their logs. " + _REFUND,
    ),
    T.CONTRIBUTION_TIMEOUT: Explanation(
        SC,
        PR,
        "The contribution deadline passed before enough workers agreed on a result.",
        "Buy again with a longer category, fewer required agreements (trust), or when workers are available. "
        + _REFUND,
    ),
    T.TASK_HAS_REVEALS: Explanation(
        CH,
        PR,
        "The scheduler wanted to reopen the task because no winner had revealed, but one revealed meanwhile; a "
        "task with a reveal cannot be reopened.",
        "Nothing to fix: a race between the reveal and the reopen. " + _REFUND,
    ),
    T.REVEAL_DEADLINE_NOT_REACHED: Explanation(
        CH, P, "The scheduler sent the reopen before the reveal deadline, which the ledger forbids.", _REPORT
    ),
    T.TASK_NOT_REVEALING: Explanation(
        CH,
        P,
        "The scheduler sent a reopen or a finalize while the chain task was not REVEALING.",
        "Read the message for the task's status on chain; if nobody claimed the task, report it. " + _REFUND,
    ),
    T.TASK_COMPLETED: Explanation(
        CH,
        P,
        "The scheduler wanted to reopen a task the chain already shows COMPLETED.",
        "The result is on chain: read it with pocopool task show. Report the scheduler's confusion.",
    ),
    T.TASK_UNSET: Explanation(
        CH,
        P,
        "The scheduler wanted to reopen a task the chain does not know: it reads another chain than the one "
        "the task was initialized on.",
        _REPORT,
    ),
    T.TASK_CLAIMED: Explanation(
        CH,
        PR,
        "Someone claimed the task on chain (after its final deadline there) before the scheduler ended it, "
        "reopened or finalized it: the ledger's clock passed the deadline before the scheduler's. The requester "
        "is refunded and the task can no longer succeed.",
        "Nothing: the refund is done. Buy again if you still need the result.",
    ),
    T.RESULT_UPLOAD_TIMEOUT: Explanation(
        Component.STORAGE,
        P,
        "No revealer uploaded the result: each one asked timed out or failed, and no other winner could still reveal.",
        "Check that the result store is up (the replicates' causes say what each uploader met). " + _REFUND,
    ),
    T.REVEALS_PENDING: Explanation(
        CH,
        P,
        "The scheduler sent the finalize while winners could still reveal (not all revealed, and the reveal "
        "deadline not reached).",
        _REPORT,
    ),
    T.WRONG_RESULTS_CALLBACK: Explanation(
        SC,
        P,
        "The callback data sent with the finalize does not hash to the result digest the workers agreed on "
        "(for a callback deal the digest is the hash of computed.json's callback-data), so the ledger refused it.",
        "The callback data reported with the result is not the one the workers hashed: report it with the "
        "scheduler's and the workers' logs. " + _REFUND,
    ),
    T.FINAL_DEADLINE_REACHED: Explanation(
        SC,
        PR,
        "The final deadline passed before the task ended.",
        "Claim a refund; buy again with a longer category or when enough workers are available.",
    ),
    T.ONLY_SCHEDULER: Explanation(
        SC,
        P,
        "The scheduler signs its transactions with a wallet that does not own the deal's workerpool.",
        "The pool's operator must start the scheduler with the workerpool owner's key. " + _REFUND,
    ),
    T.LEDGER_REFUSED: Explanation(
        CH,
        P,
        "The ledger refused a transaction of the scheduler for a rule no other cause names.",
        "Read the message: it names the chain's rule. " + _REFUND,
    ),
}


def explain_task_cause(cause: T) -> Explanation:
    return TASK_CAUSES[cause]
