"""How each task status and each task cause is proven to happen, or why it cannot: the task half
of the registry of proof (proofs.py holds the replicate causes' and says what a proof is)."""

from __future__ import annotations

from .proof_kinds import Proof, Proven, Unreachable
from .statuses import TaskStatus as TS
from .task_causes import TaskFailureCause as T

__all__ = ["TASK_CAUSES", "TASK_STATUSES"]

TASK_STATUSES: dict[TS, Proof] = {
    TS.RECEIVED: Proven("tests/e2e/test_devnet_e2e.py::test_hello_with_trust_1_completes_and_its_history_explains_it"),
    TS.INITIALIZING: Proven(
        "tests/e2e/test_devnet_e2e.py::test_hello_with_trust_1_completes_and_its_history_explains_it"
    ),
    TS.INITIALIZED: Proven(
        "tests/e2e/test_consensus_faults_e2e.py::test_a_winner_that_never_reveals_fails_and_the_reopened_task_completes"
    ),
    TS.INITIALIZE_FAILED: Proven(
        "tests/e2e/test_task_failures_e2e.py::test_a_tee_task_bought_while_the_sms_is_down_fails_to_initialize"
    ),
    TS.RUNNING: Proven("tests/e2e/test_devnet_e2e.py::test_hello_with_trust_1_completes_and_its_history_explains_it"),
    TS.RUNNING_FAILED: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_app_failures_without_a_result_fail_the_task_and_blame_the_app"
    ),
    TS.CONTRIBUTION_TIMEOUT: Proven(
        "tests/e2e/test_consensus_faults_e2e.py::test_no_worker_means_contribution_timeout_then_a_claim_refunds_the_requester"
    ),
    TS.CONSENSUS_REACHED: Proven(
        "tests/e2e/test_consensus_faults_e2e.py::test_a_winner_that_never_reveals_fails_and_the_reopened_task_completes"
    ),
    TS.REOPENING: Proven(
        "tests/e2e/test_consensus_faults_e2e.py::test_a_winner_that_never_reveals_fails_and_the_reopened_task_completes"
    ),
    TS.REOPENED: Proven(
        "tests/e2e/test_consensus_faults_e2e.py::test_a_winner_that_never_reveals_fails_and_the_reopened_task_completes"
    ),
    TS.REOPEN_FAILED: Proven(
        "tests/e2e/test_evm_e2e.py::test_a_reopen_on_a_chain_whose_clock_runs_ahead_is_refused_at_the_final_deadline"
    ),
    TS.AT_LEAST_ONE_REVEALED: Proven(
        "tests/e2e/test_devnet_e2e.py::test_hello_with_trust_1_completes_and_its_history_explains_it"
    ),
    TS.RESULT_UPLOADING: Proven(
        "tests/e2e/test_devnet_e2e.py::test_hello_with_trust_1_completes_and_its_history_explains_it"
    ),
    TS.RESULT_UPLOADED: Proven(
        "tests/e2e/test_devnet_e2e.py::test_hello_with_trust_1_completes_and_its_history_explains_it"
    ),
    TS.RESULT_UPLOAD_TIMEOUT: Proven(
        "tests/e2e/test_task_failures_e2e.py::test_a_lone_revealer_that_never_uploads_ends_in_result_upload_timeout"
    ),
    TS.FINALIZING: Proven(
        "tests/e2e/test_devnet_e2e.py::test_hello_with_trust_1_completes_and_its_history_explains_it"
    ),
    TS.FINALIZED: Proven("tests/e2e/test_devnet_e2e.py::test_hello_with_trust_1_completes_and_its_history_explains_it"),
    TS.FINALIZE_FAILED: Proven(
        "tests/e2e/test_scheduler_refusals_e2e.py::test_a_callback_that_does_not_hash_to_the_revealed_digest_fails_the_finalize"
    ),
    TS.FINAL_DEADLINE_REACHED: Proven(
        "tests/e2e/test_task_failures_e2e.py::test_a_task_whose_scheduler_comes_back_after_the_final_deadline_ends_there"
    ),
    TS.COMPLETED: Proven("tests/e2e/test_devnet_e2e.py::test_hello_with_trust_1_completes_and_its_history_explains_it"),
    TS.FAILED: Proven(
        "tests/e2e/test_consensus_faults_e2e.py::test_no_worker_means_contribution_timeout_then_a_claim_refunds_the_requester"
    ),
}

TASK_CAUSES: dict[T, Proof] = {
    T.TEE_NOT_SUPPORTED: Proven(
        "tests/integration/scheduler/test_scheduler_tee.py::test_a_tee_task_without_an_sms_still_fails_to_initialize"
    ),
    T.SMS_UNREACHABLE: Proven(
        "tests/e2e/test_task_failures_e2e.py::test_a_tee_task_bought_while_the_sms_is_down_fails_to_initialize"
    ),
    T.SMS_FRAMEWORK_MISMATCH: Proven(
        "tests/integration/scheduler/test_scheduler_tee.py::test_an_sms_of_another_framework_fails_the_task_naming_its_url"
    ),
    T.ENCLAVE_CHALLENGE_REFUSED: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_an_sms_that_does_not_know_the_task_refuses_its_enclave_challenge"
    ),
    T.CONTRIBUTION_DEADLINE_PASSED: Proven(
        "tests/e2e/test_task_failures_e2e.py::"
        "test_a_tee_task_whose_sms_gives_no_enclave_challenge_fails_at_its_contribution_deadline"
    ),
    T.UNKNOWN_DEAL: Unreachable(
        "The scheduler makes a task only from a deal it read back from the ledger after the deal's event "
        "(scheduler/deals.py), and neither ledger ever deletes a deal, so its initialize always names a known deal."
    ),
    T.TASK_INDEX_OUT_OF_RANGE: Unreachable(
        "The scheduler stores a deal's tasks for the indexes of the deal's own bag, read from the ledger "
        "(deal.task_index_range in scheduler/deals.py), so it never initializes an index outside it."
    ),
    T.TASK_ALREADY_INITIALIZED: Unreachable(
        "The scheduler takes a task the chain shows initialized as INITIALIZED before it looks at its own "
        "initialize (_received and _initializing in scheduler/engine/contribution.py), and an initialize refused "
        "as task-already-initialized only waits for the next read of the chain, so no task fails with it."
    ),
    T.ALL_ALIVE_WORKERS_FAILED: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_app_failures_without_a_result_fail_the_task_and_blame_the_app"
    ),
    T.MANY_CONTRIBUTE_AND_FINALIZE: Unreachable(
        "The scheduler records CONTRIBUTE_AND_FINALIZE_DONE only when the chain shows that worker's contribution "
        "proved and the task COMPLETED (scheduler/engine/replicates.py _proof_of), and a trust-1 task takes one "
        "contribution at most, its first reaching consensus or completing it (protocol/consensus.py "
        "is_winning_group; contributeAndFinalize refuses a task with a contributor), so no second replicate is "
        "ever recorded as done."
    ),
    T.CONTRIBUTION_TIMEOUT: Proven(
        "tests/e2e/test_consensus_faults_e2e.py::test_no_worker_means_contribution_timeout_then_a_claim_refunds_the_requester"
    ),
    T.TASK_HAS_REVEALS: Unreachable(
        "A reopen refused as task-has-reveals, and a REOPENING task whose chain task holds a reveal, wait for the "
        "revealer's report and go on to AT_LEAST_ONE_REVEALED (_reopening and _DECIDED_BY_THE_NEXT_READ in "
        "scheduler/engine/reveal.py, decision 132), and _consensus_reached asks for no reopen of a task with a "
        "reveal on chain, so no task fails with it."
    ),
    T.REVEAL_DEADLINE_NOT_REACHED: Unreachable(
        "A reopen refused as reveal-deadline-not-reached fails no task: _reopening (scheduler/engine/reveal.py, "
        "_DECIDED_BY_THE_NEXT_READ) waits, and the reopened-task detector sends it again until the ledger's clock "
        "reaches the deadline (decision 130; tests/e2e/test_evm_e2e.py shows it on a chain whose clock lags)."
    ),
    T.TASK_NOT_REVEALING: Unreachable(
        "A reopen or a finalize refused as task-not-revealing fails no task: _reopening and _finalizing "
        "(scheduler/engine/reveal.py, _DECIDED_BY_THE_NEXT_READ) wait for the next read of the chain, which ends "
        "the task as what its chain task became (REOPENED, COMPLETED, or TASK_CLAIMED; _NOT_REOPENABLE names "
        "every other chain status), decision 130."
    ),
    T.TASK_COMPLETED: Unreachable(
        "A REVEALING chain task becomes COMPLETED only by a finalize, which only the scheduler sends and only from "
        "RESULT_UPLOADED or FINALIZING (scheduler/engine/reveal.py), never for a REOPENING task; "
        "contributeAndFinalize needs a task nobody contributed to, and a reopen keeps its contributors."
    ),
    T.TASK_UNSET: Unreachable(
        "The scheduler writes REOPENING only for a chain task it read as REVEALING (_consensus_reached in "
        "scheduler/engine/reveal.py), no ledger ever returns a task to UNSET and no chain rule is named "
        "task-unset, so _reopening never finds the task UNSET."
    ),
    T.TASK_CLAIMED: Proven(
        "tests/e2e/test_evm_e2e.py::test_a_task_claimed_on_a_chain_whose_clock_runs_ahead_ends_at_once"
    ),
    T.RESULT_UPLOAD_TIMEOUT: Proven(
        "tests/e2e/test_task_failures_e2e.py::test_a_lone_revealer_that_never_uploads_ends_in_result_upload_timeout"
    ),
    T.REVEALS_PENDING: Unreachable(
        "A finalize refused as reveals-pending fails no task: _finalizing (scheduler/engine/reveal.py, "
        "_DECIDED_BY_THE_NEXT_READ) waits, and the finalize detector sends it again until the ledger's clock "
        "passes the reveal deadline (decision 130); finalize_blocker sends none before the scheduler's does."
    ),
    T.WRONG_RESULTS_CALLBACK: Proven(
        "tests/e2e/test_scheduler_refusals_e2e.py::test_a_callback_that_does_not_hash_to_the_revealed_digest_fails_the_finalize"
    ),
    T.FINAL_DEADLINE_REACHED: Proven(
        "tests/e2e/test_task_failures_e2e.py::test_a_task_whose_scheduler_comes_back_after_the_final_deadline_ends_there"
    ),
    T.ONLY_SCHEDULER: Unreachable(
        "The scheduler refuses to start unless its key owns the workerpool (scheduler/service.py), no ledger "
        "lets a workerpool change owner, and it reopens or finalizes only tasks it initialized, so the rule's "
        "sender and its initialized task always hold."
    ),
    T.LEDGER_REFUSED: Proven(
        "tests/e2e/test_evm_e2e.py::test_a_callback_longer_than_the_evm_ledger_takes_fails_the_finalize"
    ),
}
