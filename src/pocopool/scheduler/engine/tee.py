"""The TEE steps of a task (spec/scheduler.md §1.3, docs/tee.md): the SMS framework check before
initialize, the enclave challenge after it, the one-shot contributeAndFinalize completion of trust-1
tasks (RUNNING_FAILED when every alive worker failed the task is running_failed.py, for every task).

Pure like the rest of the engine: the SMS calls are actions (`SmsCall.FRAMEWORK`,
`SmsCall.ENCLAVE_CHALLENGE`) that the updater makes; their answers come back as `chain.tx`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...protocol.statuses import (
    ChainTaskStatus as CTS,
)
from ...protocol.statuses import (
    ReplicateStatus as RS,
)
from ...protocol.statuses import (
    TaskNotificationType as Next,
)
from ...protocol.statuses import (
    TaskStatus as TS,
)
from ...protocol.task_causes import TaskFailureCause
from ...protocol.time import iso
from ..state import ReplicateRecord, TaskState
from .rules import fail_task, holders
from .transition import NOTHING, ChainView, Notification, SmsCall, StatusChange, Transition, TxOutcome


def _outcome(chain: ChainView, action: SmsCall) -> TxOutcome | None:
    return chain.tx if chain.tx is not None and chain.tx.action is action else None


def framework_check(task: TaskState, replicates: Sequence[ReplicateRecord], chain: ChainView) -> Transition | None:
    """At RECEIVED, before initialize: the SMS must serve the task's framework. None: checked, go on.
    Without an answer yet, the action asks for one (the SMS client caches a good answer)."""
    framework = task.tee_framework
    assert framework is not None
    answer = _outcome(chain, SmsCall.FRAMEWORK)
    if answer is None:
        return Transition(action=SmsCall.FRAMEWORK)
    where = answer.source or "the SMS"
    if answer.error is not None or answer.reverted:
        reason = answer.error or f"{answer.revert_rule}: {answer.revert_message}"
        return fail_task(
            replicates,
            TS.INITIALIZE_FAILED,
            TaskFailureCause.SMS_UNREACHABLE,
            f"the SMS {where} did not say which TEE framework it serves ({reason})",
        )
    if answer.value != framework.value:
        return fail_task(
            replicates,
            TS.INITIALIZE_FAILED,
            TaskFailureCause.SMS_FRAMEWORK_MISMATCH,
            f"the SMS {where} serves {answer.value}, the task asks for {framework.value}",
        )
    return None


def enclave_challenge(
    task: TaskState, replicates: Sequence[ReplicateRecord], chain: ChainView, now: float, initialize: TxOutcome | None
) -> Transition:
    """At INITIALIZING once the chain shows the task: INITIALIZED with the challenge from the SMS.

    A refusal (an SMS 4xx, or an answer without an address) fails the task at once; an unreachable SMS
    (transport error, 5xx) is asked again on the next pass of the initialized-task detector, until the
    contribution deadline (docs/decisions.md).
    """
    answer = _outcome(chain, SmsCall.ENCLAVE_CHALLENGE)
    if answer is not None and answer.answered:
        return Transition(
            statuses=(
                StatusChange(
                    TS.INITIALIZED,
                    block_number=task.initialization_block,
                    message=f"enclave challenge {answer.value} from the SMS {answer.source or ''}".rstrip(),
                ),
            ),
            fields={"enclave_challenge": answer.value},
        )
    if answer is not None and answer.reverted:
        return fail_task(
            replicates,
            TS.INITIALIZE_FAILED,
            TaskFailureCause.ENCLAVE_CHALLENGE_REFUSED,
            f"the SMS {answer.source or ''} gave no enclave challenge ({answer.revert_rule}): "
            f"{answer.revert_message or answer.revert_rule}",
        )
    if now >= task.contribution_deadline:
        reason = f": {answer.error}" if answer is not None and answer.error else ""
        return fail_task(
            replicates,
            TS.INITIALIZE_FAILED,
            TaskFailureCause.CONTRIBUTION_DEADLINE_PASSED,
            f"the contribution deadline {iso(task.contribution_deadline)} passed before the SMS gave an enclave "
            f"challenge{reason}",
        )
    if answer is not None:
        return NOTHING  # unreachable: the initialized-task detector asks again on its next pass
    mined = initialize is not None and initialize.mined
    return Transition(
        fields={"initialization_block": initialize.block_number} if mined else {},  # type: ignore[union-attr]
        action=SmsCall.ENCLAVE_CHALLENGE,
    )


def contribute_and_finalize(task: TaskState, replicates: Sequence[ReplicateRecord], chain: ChainView) -> Transition:
    """RUNNING step 3 of a trust-1 TEE task: one replicate CONTRIBUTE_AND_FINALIZE_DONE (proven on
    chain when accepted) → FINALIZED, COMPLETED with the chain's result; more than one → RUNNING_FAILED."""
    done = [r for r in replicates if r.has(RS.CONTRIBUTE_AND_FINALIZE_DONE)]
    if len(done) > 1:
        return fail_task(
            replicates,
            TS.RUNNING_FAILED,
            TaskFailureCause.MANY_CONTRIBUTE_AND_FINALIZE,
            f"{len(done)} replicates report CONTRIBUTE_AND_FINALIZE_DONE; a trust-1 task has one",
        )
    ct = chain.task
    if not done or ct is None or ct.status is not CTS.COMPLETED:
        return NOTHING
    wallets = holders(replicates)
    return Transition(
        statuses=(
            StatusChange(
                TS.FINALIZED,
                block_number=chain.consensus_block,
                message=f"worker {done[0].wallet} contributed and finalized the task on chain",
            ),
            StatusChange(TS.COMPLETED),
        ),
        fields={
            "consensus": ct.consensus_value,
            "consensus_block": chain.consensus_block,
            "reveal_deadline": float(ct.reveal_deadline),
            "result_link": ct.results.decode("utf-8", "replace") or None,
            "callback_data": "0x" + ct.results_callback.hex() if ct.results_callback else None,
        },
        notifications=(Notification(Next.PLEASE_COMPLETE, wallets),) if wallets else (),
    )
