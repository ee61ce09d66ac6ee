"""How each replicate cause is proven to happen, or why it cannot (issue 27, the registry of proof;
task_proofs.py holds the task statuses' and the task causes', proof_kinds.py the two kinds): `Proven(test)` names the test that provokes it for real and asserts it — an e2e
test on a devnet, or an integration test against the real process where a devnet cannot reach it;
`Unreachable(reason)` says why pocopool (with tee-sim) never meets it, in words the code does not
contradict. Every name is in exactly one
(tests/unit/test_proofs.py), and docs/debugging.md shows each with its proof.

Test names are `path::function` from the repository's root; the unit test checks that each exists and
that its module names the cause or status it proves.
"""

from __future__ import annotations

from .proof_kinds import Proof, Proven, Unreachable
from .statuses import ReplicateStatusCause as C
from .task_proofs import TASK_CAUSES, TASK_STATUSES

__all__ = ["CAUSES", "TASK_CAUSES", "TASK_STATUSES", "Proof", "Proven", "Unreachable"]


CAUSES: dict[C, Proof] = {
    C.CHAIN_UNREACHABLE: Proven(
        "tests/e2e/test_evm_e2e.py::test_a_worker_whose_chain_node_stopped_reports_chain_unreachable"
    ),
    C.BLOCK_NOT_REACHED: Proven(
        "tests/e2e/test_evm_e2e.py::test_a_worker_whose_own_node_stopped_syncing_never_reaches_the_consensus_block"
    ),
    C.STAKE_TOO_LOW: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_a_worker_without_stake_refuses_the_task_and_says_why"
    ),
    C.OUT_OF_GAS: Proven(
        "tests/e2e/test_evm_e2e.py::test_a_worker_whose_wallet_is_emptied_while_it_computes_is_out_of_gas_at_the_contribute"
    ),
    C.TASK_NOT_ACTIVE: Proven(
        "tests/integration/worker/test_worker_stages.py::test_start_refuses_a_task_that_is_not_initialized"
    ),
    C.TASK_DESCRIPTION_INVALID: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_a_deal_asking_what_a_standard_task_cannot_do_is_refused_at_start"
    ),
    C.TASK_DESCRIPTION_NOT_FOUND: Unreachable(
        "Every stage reads the task description from its replicate's context (worker/context.py), filled "
        "before a stage needs it: by the START preflight (worker/preflight.py, where an unreadable chain is "
        "CHAIN_UNREACHABLE) or, for a restarted worker, by the read that decides whether the replicate can be "
        "resumed (Resumable.description in worker/recovery.py, decision 134; a failure there leaves it not "
        "resumable), so _guarded in worker/replicate.py never meets DescriptionUnavailable."
    ),
    C.CONTRIBUTION_ALREADY_SET: Unreachable(
        "A worker gets at most one replicate of a task (the supply's rule), so it never finds a contribution of its own already on chain."
    ),
    C.CONSENSUS_REACHED: Proven(
        "tests/e2e/test_consensus_faults_e2e.py::test_a_liar_contributing_first_needs_three_honest_votes_and_loses_its_stake"
    ),
    C.CHAIN_RECEIPT_NOT_VALID: Proven(
        "tests/e2e/test_evm_e2e.py::test_a_reveal_sent_after_the_reveal_deadline_is_refused_by_the_contract"
    ),
    # pocopool's scheduler always sends the block (scheduler/engine/contribution.py, scheduler/recovery.py);
    # the test plays a scheduler of another make that leaves it out (tests/e2e/foreign_scheduler.py).
    C.CONSENSUS_BLOCK_MISSING: Proven(
        "tests/e2e/test_scheduler_refusals_e2e.py::test_a_request_to_reveal_without_the_consensus_block_is_refused_by_the_worker"
    ),
    C.DETERMINISM_HASH_NOT_FOUND: Proven(
        "tests/integration/worker/test_worker_stages.py::test_contribute_needs_a_result_digest"
    ),
    C.ENCLAVE_SIGNATURE_NOT_FOUND: Proven(
        "tests/integration/worker/test_worker_contribute_and_finalize.py::test_no_enclave_signature_is_enclave_signature_not_found"
    ),
    # A restarted worker without its task folder, asked to resume by a scheduler that sends no authorization.
    C.WORKERPOOL_AUTHORIZATION_NOT_FOUND: Proven(
        "tests/e2e/test_scheduler_refusals_e2e.py::test_a_worker_asked_to_resume_without_an_authorization_it_no_longer_holds_says_so"
    ),
    C.RESULT_LINK_MISSING: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_a_result_store_that_is_down_keeps_the_root_cause"
    ),
    C.CONTRIBUTION_TIMEOUT: Proven(
        "tests/e2e/test_timeouts_e2e.py::test_a_replicate_computing_past_the_contribution_deadline_is_aborted_with_that_cause"
    ),
    C.REVEAL_TIMEOUT: Proven(
        "tests/e2e/test_consensus_faults_e2e.py::test_a_winner_that_never_reveals_fails_and_the_reopened_task_completes"
    ),
    C.CANNOT_REVEAL: Proven(
        "tests/e2e/test_evm_e2e.py::test_a_worker_whose_node_catches_up_after_the_reveal_deadline_cannot_reveal"
    ),
    C.ABORTED_BY_WORKER: Proven(
        "tests/e2e/test_worker_death_e2e.py::test_a_worker_restarted_mid_compute_reports_the_replicate_it_cannot_resume_and_frees_its_slot"
    ),
    C.UNKNOWN: Proven(
        "tests/integration/worker/test_worker_replicate.py::test_a_refused_running_status_aborts_without_running_the_stage"
    ),
    C.APP_IMAGE_DOWNLOAD_FAILED: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_download_failures_are_contributed_as_error_results"
    ),
    C.INPUT_FILES_DOWNLOAD_FAILED: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_download_failures_are_contributed_as_error_results"
    ),
    C.DATASET_FILE_DOWNLOAD_FAILED: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_download_failures_are_contributed_as_error_results"
    ),
    C.DATASET_FILE_BAD_CHECKSUM: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_download_failures_are_contributed_as_error_results"
    ),
    C.APP_NOT_FOUND_LOCALLY: Proven(
        "tests/integration/worker/test_worker_stages.py::test_compute_without_a_downloaded_app_fails_on_the_worker_side"
    ),
    C.APP_COMPUTE_FAILED: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_app_failures_without_a_result_fail_the_task_and_blame_the_app"
    ),
    C.APP_COMPUTE_TIMEOUT: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_app_failures_without_a_result_fail_the_task_and_blame_the_app"
    ),
    C.POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_app_failures_without_a_result_fail_the_task_and_blame_the_app"
    ),
    C.POST_COMPUTE_OUT_FOLDER_ZIP_FAILED: Proven(
        "tests/e2e/test_tee_e2e.py::test_each_failure_tee_sim_meets_is_reported_under_its_own_cause"
    ),
    C.POST_COMPUTE_SEND_COMPUTED_FILE_FAILED: Unreachable(
        "tee-sim hands its computed file to the worker inside its signed report.json, the one channel its exit causes also use (teesim/enclave.py write_report): a report that cannot be written is POST_COMPUTE_EXIT_REPORTING_FAILED."
    ),
    C.POST_COMPUTE_COMPUTED_FILE_NOT_FOUND: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_app_failures_without_a_result_fail_the_task_and_blame_the_app"
    ),
    C.POST_COMPUTE_RESULT_DIGEST_COMPUTATION_FAILED: Proven(
        "tests/e2e/test_failure_matrix_e2e.py::test_app_failures_without_a_result_fail_the_task_and_blame_the_app"
    ),
    C.POST_COMPUTE_FAILED_UNKNOWN_ISSUE: Proven(
        "tests/integration/worker/test_worker_postcompute.py::test_an_error_result_cannot_serve_a_callback_deal"
    ),
    C.TEE_SESSION_GENERATION_INVALID_AUTHORIZATION: Proven(
        "tests/integration/sms/test_sms_sessions.py::test_a_wrong_worker_signature_is_invalid_authorization"
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_EMPTY_PARAMS_UNAUTHORIZED: Proven(
        "tests/integration/sms/test_sms_session_failures.py::test_an_authorization_without_its_fields_is_empty_params"
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_NO_MATCH_ONCHAIN_TYPE: Proven(
        "tests/integration/sms/test_sms_sessions.py::test_a_standard_deal_is_no_match_onchain_type"
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_TASK_FAILED: Proven(
        "tests/integration/sms/test_sms_sessions.py::test_a_task_not_on_chain_cannot_get_a_session"
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_TASK_NOT_ACTIVE: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_the_authorization_of_an_ended_task_replayed_gets_no_session"
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_DEAL_FAILED: Proven(
        "tests/integration/sms/test_sms_session_failures.py::test_a_chain_that_fails_to_read_the_deal_is_get_chain_deal_failed"
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_INVALID_SIGNATURE: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_a_forged_workerpool_authorization_gets_no_session"
    ),
    C.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_WORKER_ADDRESS: Unreachable(
        "The SMS first requires the Authorization header to be the signature of the authorization's workerWallet "
        "(INVALID_AUTHORIZATION otherwise, sms/sessions.py check_worker_signature) and a missing or empty one is "
        "EMPTY_PARAMS_UNAUTHORIZED: no key signs for the zero address, so no request reaches the signature tokens "
        "without a worker address."
    ),
    C.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_PUBLIC_ENCLAVE_CHALLENGE: Proven(
        "tests/integration/sms/test_sms_sessions.py::test_no_challenge_and_another_challenge_are_refused"
    ),
    C.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_a_task_whose_enclave_challenge_the_sms_lost_gets_no_session"
    ),
    C.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CREDENTIALS: Proven(
        "tests/integration/sms/test_sms_session_failures.py::test_a_challenge_whose_key_does_not_open_is_empty_tee_credentials"
    ),
    C.TEE_SESSION_GENERATION_PRE_COMPUTE_GET_DATASET_SECRET_FAILED: Proven(
        "tests/integration/sms/test_sms_sessions.py::test_missing_secrets_each_have_their_cause"
    ),
    C.TEE_SESSION_GENERATION_APP_COMPUTE_NO_ENCLAVE_CONFIG: Proven(
        "tests/integration/sms/test_sms_sessions.py::test_an_app_without_a_valid_enclave_configuration_is_refused"
    ),
    C.TEE_SESSION_GENERATION_APP_COMPUTE_INVALID_ENCLAVE_CONFIG: Proven(
        "tests/integration/sms/test_sms_sessions.py::test_an_app_without_a_valid_enclave_configuration_is_refused"
    ),
    C.TEE_SESSION_GENERATION_POST_COMPUTE_GET_ENCRYPTION_TOKENS_FAILED_EMPTY_BENEFICIARY_KEY: Proven(
        "tests/e2e/test_tee_e2e.py::test_sms_refusals_reach_the_requester_as_their_tee_session_causes"
    ),
    C.TEE_SESSION_GENERATION_POST_COMPUTE_GET_STORAGE_TOKENS_FAILED: Proven(
        "tests/e2e/test_tee_e2e.py::test_sms_refusals_reach_the_requester_as_their_tee_session_causes"
    ),
    C.TEE_SESSION_GENERATION_SECURE_SESSION_STORAGE_CALL_FAILED: Proven(
        "tests/integration/sms/test_sms_session_failures.py::test_a_session_the_database_does_not_store_is_storage_call_failed"
    ),
    C.TEE_SESSION_GENERATION_SECURE_SESSION_GENERATION_FAILED: Proven(
        "tests/e2e/test_tee_e2e.py::test_sms_refusals_reach_the_requester_as_their_tee_session_causes"
    ),
    C.TEE_SESSION_GENERATION_SECURE_SESSION_NO_TEE_FRAMEWORK: Unreachable(
        "The scheduler asks the SMS which framework it serves before initializing a TEE task and fails a task of another framework at INITIALIZE_FAILED (TEE_NOT_SUPPORTED): no session is ever asked for a framework the SMS does not serve."
    ),
    C.TEE_SESSION_GENERATION_GET_TASK_DESCRIPTION_FAILED: Proven(
        "tests/integration/sms/test_sms_session_failures.py::test_a_chain_that_fails_to_read_the_app_is_get_task_description_failed"
    ),
    C.TEE_SESSION_GENERATION_NO_SESSION_REQUEST: Proven(
        "tests/integration/sms/test_sms_sessions.py::test_a_missing_or_malformed_body_is_no_session_request"
    ),
    C.TEE_SESSION_GENERATION_NO_TASK_DESCRIPTION: Unreachable(
        "The SMS names it when the deal's dataset is not on chain, but both ledgers refuse a deal whose app or "
        "dataset is not registered (unknown-app, unknown-dataset) and never remove an asset, so a task's "
        "description is always there to read."
    ),
    C.TEE_SESSION_GENERATION_UNKNOWN_ISSUE: Proven(
        "tests/integration/sms/test_sms_session_failures.py::test_a_stored_secret_that_does_not_open_is_an_unknown_issue"
    ),
    C.TEE_NOT_SUPPORTED: Unreachable(
        "The scheduler gives a TEE task only to a worker registered with teeEnabled (scheduler/supply.py "
        "worker_fits; TDX needs tdxEnabled, which no pocopool worker registers), and a worker registers "
        "teeEnabled from its own --tee (worker/identity.py worker_model) before it first asks for work, so a "
        "worker without --tee is never given one."
    ),
    C.UNKNOWN_SMS: Proven("tests/e2e/test_tee_refusals_e2e.py::test_a_worker_that_cannot_reach_the_sms_says_so"),
    C.GET_TEE_SERVICES_CONFIGURATION_FAILED: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_an_sms_of_another_framework_gives_the_worker_no_tee_services"
    ),
    C.TEE_PREPARATION_FAILED: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_a_worker_without_its_platform_key_cannot_prepare_its_enclaves"
    ),
    C.TRUST_NOT_1: Proven(
        "tests/integration/worker/test_worker_contribute_and_finalize.py::test_a_deal_of_trust_2_is_trust_not_1"
    ),
    C.TASK_ALREADY_CONTRIBUTED: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_a_task_someone_contributed_to_cannot_be_contributed_and_finalized"
    ),
    C.PRE_COMPUTE_MISSING_ENCLAVE_CONFIGURATION: Unreachable(
        "The chain refuses a TEE deal whose app has no mrenclave (rule tee-app-required, chain/local/assets.py create_deal and the contract), so the worker's check in worker/tee/session.py enclave_config never finds it empty."
    ),
    C.PRE_COMPUTE_INVALID_ENCLAVE_CONFIGURATION: Proven(
        "tests/e2e/test_tee_e2e.py::test_tee_failures_are_provoked_and_explained"
    ),
    C.PRE_COMPUTE_INVALID_ENCLAVE_HEAP_CONFIGURATION: Proven(
        "tests/e2e/test_tee_e2e.py::test_tee_failures_are_provoked_and_explained"
    ),
    C.PRE_COMPUTE_IMAGE_MISSING: Unreachable(
        "tee-sim runs its pre-compute program from the installed pocopool package: there is no image to pull, so none can be missing."
    ),
    C.PRE_COMPUTE_TASK_ID_MISSING: Unreachable(
        "The SMS puts IEXEC_TASK_ID in every pre-compute session (sms/sessions.py plan_session); tee-sim's pre-compute exits 3 without it and the worker names this cause, but a pocopool SMS never omits it."
    ),
    C.PRE_COMPUTE_EXIT_REPORTING_FAILED: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_an_enclave_whose_report_folder_is_read_only_says_so_by_its_exit_code"
    ),
    C.PRE_COMPUTE_TIMEOUT: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_hosts_that_never_answer_are_stopped_by_the_stage_time_limit"
    ),
    C.PRE_COMPUTE_WORKER_ADDRESS_MISSING: Unreachable(
        "The SMS signs each pre-compute session for the worker whose authorization it checked, so SIGN_WORKER_ADDRESS is always set; without it tee-sim exits 5 and the worker names this cause (tests/unit/test_enclave_exit_causes.py)."
    ),
    C.PRE_COMPUTE_TEE_CHALLENGE_PRIVATE_KEY_MISSING: Unreachable(
        "A pre-compute session exists only once the SMS found the task's enclave challenge key, which it always puts in SIGN_TEE_CHALLENGE_PRIVATE_KEY; without it tee-sim exits 6 and the worker names this cause."
    ),
    C.PRE_COMPUTE_INVALID_TEE_SIGNATURE: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_a_pre_compute_report_signed_by_another_key_is_an_invalid_tee_signature"
    ),
    C.PRE_COMPUTE_OUTPUT_PATH_MISSING: Unreachable(
        "plan_session in sms/sessions.py writes IEXEC_PRE_COMPUTE_OUT=/iexec_in into every pre-compute session it plans, so tee-sim's precompute.py never finds it absent."
    ),
    C.PRE_COMPUTE_IS_DATASET_REQUIRED_MISSING: Unreachable(
        "The SMS sets IS_DATASET_REQUIRED to true or false from the deal's dataset in every pre-compute session (sms/sessions.py plan_session), so it is never absent."
    ),
    C.PRE_COMPUTE_DATASET_URL_MISSING: Proven(
        "tests/e2e/test_tee_e2e.py::test_each_failure_tee_sim_meets_is_reported_under_its_own_cause"
    ),
    C.PRE_COMPUTE_DATASET_KEY_MISSING: Unreachable(
        "A deal with a dataset gets a session only once the SMS found the dataset's key (else TEE_SESSION_GENERATION_PRE_COMPUTE_GET_DATASET_SECRET_FAILED), and the SMS refuses to store an empty secret (sms/http/secrets.py), so IEXEC_DATASET_KEY is never empty."
    ),
    C.PRE_COMPUTE_DATASET_CHECKSUM_MISSING: Unreachable(
        "The chain stores a dataset's checksum as a bytes32 (chain/arguments.py bytes32), so the IEXEC_DATASET_CHECKSUM the SMS copies from it is always 0x and 64 hex digits, never empty."
    ),
    C.PRE_COMPUTE_DATASET_FILENAME_MISSING: Unreachable(
        "The SMS names the plain dataset file after the dataset's checksummed address (IEXEC_DATASET_FILENAME in sms/sessions.py), which a dataset on chain always has."
    ),
    C.PRE_COMPUTE_INPUT_FILES_NUMBER_MISSING: Unreachable(
        "plan_session in sms/sessions.py always writes IEXEC_INPUT_FILES_NUMBER, the count of the deal's input files (0 when it has none)."
    ),
    C.PRE_COMPUTE_AT_LEAST_ONE_INPUT_FILE_URL_MISSING: Proven(
        "tests/e2e/test_tee_e2e.py::test_each_failure_tee_sim_meets_is_reported_under_its_own_cause"
    ),
    C.PRE_COMPUTE_OUTPUT_FOLDER_NOT_FOUND: Unreachable(
        "The worker creates the task's input folder before pre-compute starts (worker/stages/app_output.py prepare_output) and binds it where TEESIM_IEXEC_IN says, so the folder is always there."
    ),
    C.PRE_COMPUTE_DATASET_DOWNLOAD_FAILED: Proven(
        "tests/e2e/test_tee_e2e.py::test_each_failure_tee_sim_meets_is_reported_under_its_own_cause"
    ),
    C.PRE_COMPUTE_INVALID_DATASET_CHECKSUM: Proven(
        "tests/e2e/test_tee_e2e.py::test_tee_failures_are_provoked_and_explained"
    ),
    C.PRE_COMPUTE_DATASET_DECRYPTION_FAILED: Proven(
        "tests/e2e/test_tee_e2e.py::test_tee_failures_are_provoked_and_explained"
    ),
    C.PRE_COMPUTE_SAVING_PLAIN_DATASET_FAILED: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_a_pre_compute_that_cannot_write_into_the_input_folder_cannot_save_the_plain_dataset"
    ),
    C.PRE_COMPUTE_INPUT_FILE_DOWNLOAD_FAILED: Proven(
        "tests/e2e/test_tee_e2e.py::test_each_failure_tee_sim_meets_is_reported_under_its_own_cause"
    ),
    C.PRE_COMPUTE_FAILED_UNKNOWN_ISSUE: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_a_pre_compute_that_dies_without_a_report_is_an_unknown_issue"
    ),
    C.POST_COMPUTE_IMAGE_MISSING: Unreachable(
        "tee-sim runs its post-compute program from the installed pocopool package: there is no image to pull, so none can be missing."
    ),
    C.POST_COMPUTE_TASK_ID_MISSING: Unreachable(
        "The SMS puts IEXEC_TASK_ID in every post-compute session (sms/sessions.py plan_session); tee-sim's post-compute exits 3 without it and the worker names this cause, but a pocopool SMS never omits it."
    ),
    C.POST_COMPUTE_EXIT_REPORTING_FAILED: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_an_enclave_whose_report_folder_is_read_only_says_so_by_its_exit_code"
    ),
    C.POST_COMPUTE_TIMEOUT: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_hosts_that_never_answer_are_stopped_by_the_stage_time_limit"
    ),
    C.POST_COMPUTE_WORKER_ADDRESS_MISSING: Unreachable(
        "The SMS signs each post-compute session for the worker whose authorization it checked, so SIGN_WORKER_ADDRESS is always set; without it tee-sim exits 5 and the worker names this cause (tests/unit/test_enclave_exit_causes.py)."
    ),
    C.POST_COMPUTE_TEE_CHALLENGE_PRIVATE_KEY_MISSING: Unreachable(
        "A post-compute session exists only once the SMS found the task's enclave challenge key, which it always puts in SIGN_TEE_CHALLENGE_PRIVATE_KEY; without it tee-sim exits 6 and the worker names this cause."
    ),
    C.POST_COMPUTE_INVALID_TEE_SIGNATURE: Proven(
        "tests/e2e/test_tee_refusals_e2e.py::test_a_tampered_enclave_signature_is_refused_before_any_transaction"
    ),
    C.POST_COMPUTE_ENCRYPTION_PUBLIC_KEY_MISSING: Unreachable(
        "The SMS refuses a session asking for result encryption whose beneficiary pushed no key (TEE_SESSION_GENERATION_POST_COMPUTE_GET_ENCRYPTION_TOKENS_FAILED_EMPTY_BENEFICIARY_KEY) and never stores an empty one, so post-compute always gets RESULT_ENCRYPTION_PUBLIC_KEY when it must encrypt."
    ),
    C.POST_COMPUTE_MALFORMED_ENCRYPTION_PUBLIC_KEY: Proven(
        "tests/e2e/test_tee_e2e.py::test_each_failure_tee_sim_meets_is_reported_under_its_own_cause"
    ),
    C.POST_COMPUTE_ENCRYPTION_FAILED: Proven(
        "tests/e2e/test_tee_e2e.py::test_each_failure_tee_sim_meets_is_reported_under_its_own_cause"
    ),
    C.POST_COMPUTE_STORAGE_TOKEN_MISSING: Unreachable(
        "_storage_token in sms/sessions.py returns a non-empty token or refuses the session; only a callback deal gets an empty one, and tee-sim's post-compute uploads nothing for a callback deal."
    ),
    C.POST_COMPUTE_RESULT_FILE_NOT_FOUND: Unreachable(
        "tee-sim's post-compute uploads the archive it has just zipped and read back in the same step (postcompute.py _archive, whose failure is POST_COMPUTE_OUT_FOLDER_ZIP_FAILED), so no result file can go missing before the upload."
    ),
    C.POST_COMPUTE_DROPBOX_UPLOAD_FAILED: Proven(
        "tests/e2e/test_tee_e2e.py::test_each_failure_tee_sim_meets_is_reported_under_its_own_cause"
    ),
    C.POST_COMPUTE_IPFS_UPLOAD_FAILED: Proven(
        "tests/e2e/test_tee_e2e.py::test_sms_refusals_reach_the_requester_as_their_tee_session_causes"
    ),
    C.APP_MEMORY_LIMIT_EXCEEDED: Proven(
        "tests/e2e/test_attacks_e2e.py::test_a_bomb_is_stopped_at_its_limit_with_its_own_cause"
    ),
    C.APP_PROCESS_LIMIT_EXCEEDED: Proven(
        "tests/e2e/test_attacks_e2e.py::test_a_bomb_is_stopped_at_its_limit_with_its_own_cause"
    ),
    C.APP_OUTPUT_LIMIT_EXCEEDED: Proven(
        "tests/e2e/test_attacks_e2e.py::test_a_bomb_is_stopped_at_its_limit_with_its_own_cause"
    ),
    C.APP_TMP_LIMIT_EXCEEDED: Proven(
        "tests/e2e/test_attacks_e2e.py::test_a_bomb_is_stopped_at_its_limit_with_its_own_cause"
    ),
    C.APP_CPU_TIME_LIMIT_EXCEEDED: Proven(
        "tests/e2e/test_attacks_e2e.py::test_a_bomb_is_stopped_at_its_limit_with_its_own_cause"
    ),
}
