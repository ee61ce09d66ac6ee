"""Why a replicate failed or was aborted, each cause with its meaning, and which part of the system a
failure comes from (spec/scheduler.md §3, spec/debugging.md). The single source of truth for the
causes' names and one-line descriptions, as statuses.py is for the statuses."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .described import Described


class Component(str, Enum):
    """Which part of the system a failure comes from."""

    SCHEDULER = "scheduler"
    WORKER = "worker"
    APP = "app"
    STORAGE = "storage"
    CHAIN = "chain"
    REQUESTER = "requester"


class Origin(str, Enum):
    """Whose fault a failure is: keeps the app's own failures apart from the platform's and from the
    requester's inputs."""

    APP = "app"  # the app itself failed: its developer must fix it
    INPUT = "input"  # what the requester or a dataset owner supplied is wrong
    PLATFORM = "platform"  # the workerpool (scheduler, workers, chain, storage) failed
    PROTOCOL = "protocol"  # a normal outcome of the protocol, not a fault (e.g. a lost race)


@dataclass(frozen=True)
class Explanation:
    """What a failure means in plain words, whose it is, and what to do about it (explanations.py
    for the replicates' causes, task_explanations.py for the tasks')."""

    component: Component
    origin: Origin
    explanation: str
    fix: str


class ReplicateStatusCause(Described):
    """Why a replicate failed or was aborted (spec/scheduler.md §3). All 101 reference values, in
    the reference's order, then pocopool's own extensions in marked blocks at the end."""

    # §3.1 common
    CHAIN_UNREACHABLE = "CHAIN_UNREACHABLE", "The worker could not read the task on chain."
    BLOCK_NOT_REACHED = "BLOCK_NOT_REACHED", "The worker's chain view has not reached the consensus block yet."
    STAKE_TOO_LOW = "STAKE_TOO_LOW", "The worker's free stake is below the deal's worker stake."
    OUT_OF_GAS = "OUT_OF_GAS", "The worker's wallet cannot pay for a transaction."
    TASK_NOT_ACTIVE = (
        "TASK_NOT_ACTIVE",
        "The task is not ACTIVE on chain (consensus already reached, or not initialized).",
    )
    TASK_DESCRIPTION_INVALID = "TASK_DESCRIPTION_INVALID", "The deal is inconsistent and cannot be executed."
    TASK_DESCRIPTION_NOT_FOUND = "TASK_DESCRIPTION_NOT_FOUND", "The task description could not be read."
    CONTRIBUTION_ALREADY_SET = (
        "CONTRIBUTION_ALREADY_SET",
        "The worker already has a contribution on chain for this task.",
    )
    CONSENSUS_REACHED = "CONSENSUS_REACHED", "Consensus was reached without this worker's contribution."
    CHAIN_RECEIPT_NOT_VALID = "CHAIN_RECEIPT_NOT_VALID", "The transaction has no valid receipt: it failed on chain."
    CONSENSUS_BLOCK_MISSING = (
        "CONSENSUS_BLOCK_MISSING",
        "The reveal request did not say at which block consensus was reached.",
    )
    DETERMINISM_HASH_NOT_FOUND = (
        "DETERMINISM_HASH_NOT_FOUND",
        "The result digest could not be computed (computed.json or its output missing).",
    )
    ENCLAVE_SIGNATURE_NOT_FOUND = (
        "ENCLAVE_SIGNATURE_NOT_FOUND",
        "The enclave signature of the result is missing or invalid.",
    )
    WORKERPOOL_AUTHORIZATION_NOT_FOUND = (
        "WORKERPOOL_AUTHORIZATION_NOT_FOUND",
        "The worker holds no scheduler-signed authorization for the task.",
    )
    RESULT_LINK_MISSING = "RESULT_LINK_MISSING", "The upload produced no result link."
    CONTRIBUTION_TIMEOUT = "CONTRIBUTION_TIMEOUT", "The contribution deadline is reached."
    REVEAL_TIMEOUT = "REVEAL_TIMEOUT", "The worker did not reveal before the reveal deadline."
    CANNOT_REVEAL = "CANNOT_REVEAL", "The on-chain conditions for a reveal are not met."
    ABORTED_BY_WORKER = (
        "ABORTED_BY_WORKER",
        "The worker gave the replicate up on its own: it restarted and could not resume it.",
    )
    UNKNOWN = "UNKNOWN", "No specific cause is known."
    # §3.2 standard task
    APP_IMAGE_DOWNLOAD_FAILED = (
        "APP_IMAGE_DOWNLOAD_FAILED",
        "The app could not be downloaded or failed its checksum; an error result is contributed.",
    )
    INPUT_FILES_DOWNLOAD_FAILED = (
        "INPUT_FILES_DOWNLOAD_FAILED",
        "An input file could not be downloaded; an error result is contributed.",
    )
    DATASET_FILE_DOWNLOAD_FAILED = (
        "DATASET_FILE_DOWNLOAD_FAILED",
        "The dataset could not be downloaded; an error result is contributed.",
    )
    DATASET_FILE_BAD_CHECKSUM = (
        "DATASET_FILE_BAD_CHECKSUM",
        "The dataset's checksum differs from the one on chain; an error result is contributed.",
    )
    APP_NOT_FOUND_LOCALLY = "APP_NOT_FOUND_LOCALLY", "The app was not on the worker when computing."
    APP_COMPUTE_FAILED = "APP_COMPUTE_FAILED", "The app exited with an error."
    APP_COMPUTE_TIMEOUT = "APP_COMPUTE_TIMEOUT", "The app ran longer than the category's maximum time and was killed."
    POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME = (
        "POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME",
        "A result file name is longer than 31 characters.",
    )
    POST_COMPUTE_OUT_FOLDER_ZIP_FAILED = "POST_COMPUTE_OUT_FOLDER_ZIP_FAILED", "The output folder could not be zipped."
    POST_COMPUTE_SEND_COMPUTED_FILE_FAILED = (
        "POST_COMPUTE_SEND_COMPUTED_FILE_FAILED",
        "computed.json could not be copied or sent.",
    )
    POST_COMPUTE_COMPUTED_FILE_NOT_FOUND = "POST_COMPUTE_COMPUTED_FILE_NOT_FOUND", "The app wrote no computed.json."
    POST_COMPUTE_RESULT_DIGEST_COMPUTATION_FAILED = (
        "POST_COMPUTE_RESULT_DIGEST_COMPUTATION_FAILED",
        "The result digest could not be computed from computed.json.",
    )
    POST_COMPUTE_FAILED_UNKNOWN_ISSUE = (
        "POST_COMPUTE_FAILED_UNKNOWN_ISSUE",
        "Post-compute failed for an unknown reason.",
    )
    # §3.3 TEE session generation
    TEE_SESSION_GENERATION_INVALID_AUTHORIZATION = (
        "TEE_SESSION_GENERATION_INVALID_AUTHORIZATION",
        "The SMS rejected the workerpool authorization.",
    )
    TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_EMPTY_PARAMS_UNAUTHORIZED = (
        "TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_EMPTY_PARAMS_UNAUTHORIZED",
        "The session request had empty parameters.",
    )
    TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_NO_MATCH_ONCHAIN_TYPE = (
        "TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_NO_MATCH_ONCHAIN_TYPE",
        "The on-chain deal type does not match the session request.",
    )
    TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_TASK_FAILED = (
        "TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_TASK_FAILED",
        "The SMS could not read the task on chain.",
    )
    TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_TASK_NOT_ACTIVE = (
        "TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_TASK_NOT_ACTIVE",
        "The task is not active on chain.",
    )
    TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_DEAL_FAILED = (
        "TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_DEAL_FAILED",
        "The SMS could not read the deal on chain.",
    )
    TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_INVALID_SIGNATURE = (
        "TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_INVALID_SIGNATURE",
        "The authorization is not signed by the workerpool owner.",
    )
    TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_WORKER_ADDRESS = (
        "TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_WORKER_ADDRESS",
        "No worker address for the enclave signature.",
    )
    TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_PUBLIC_ENCLAVE_CHALLENGE = (
        "TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_PUBLIC_ENCLAVE_CHALLENGE",
        "No public enclave challenge.",
    )
    TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE = (
        "TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE",
        "No TEE challenge is stored for the task.",
    )
    TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CREDENTIALS = (
        "TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CREDENTIALS",
        "No TEE challenge credentials.",
    )
    TEE_SESSION_GENERATION_PRE_COMPUTE_GET_DATASET_SECRET_FAILED = (
        "TEE_SESSION_GENERATION_PRE_COMPUTE_GET_DATASET_SECRET_FAILED",
        "The dataset key is not in the SMS.",
    )
    TEE_SESSION_GENERATION_APP_COMPUTE_NO_ENCLAVE_CONFIG = (
        "TEE_SESSION_GENERATION_APP_COMPUTE_NO_ENCLAVE_CONFIG",
        "The app has no enclave configuration.",
    )
    TEE_SESSION_GENERATION_APP_COMPUTE_INVALID_ENCLAVE_CONFIG = (
        "TEE_SESSION_GENERATION_APP_COMPUTE_INVALID_ENCLAVE_CONFIG",
        "The app's enclave configuration is invalid.",
    )
    TEE_SESSION_GENERATION_POST_COMPUTE_GET_ENCRYPTION_TOKENS_FAILED_EMPTY_BENEFICIARY_KEY = (
        "TEE_SESSION_GENERATION_POST_COMPUTE_GET_ENCRYPTION_TOKENS_FAILED_EMPTY_BENEFICIARY_KEY",
        "Result encryption was asked but the beneficiary has no key.",
    )
    TEE_SESSION_GENERATION_POST_COMPUTE_GET_STORAGE_TOKENS_FAILED = (
        "TEE_SESSION_GENERATION_POST_COMPUTE_GET_STORAGE_TOKENS_FAILED",
        "The result storage token is missing.",
    )
    TEE_SESSION_GENERATION_SECURE_SESSION_STORAGE_CALL_FAILED = (
        "TEE_SESSION_GENERATION_SECURE_SESSION_STORAGE_CALL_FAILED",
        "The call to the secure session storage failed.",
    )
    TEE_SESSION_GENERATION_SECURE_SESSION_GENERATION_FAILED = (
        "TEE_SESSION_GENERATION_SECURE_SESSION_GENERATION_FAILED",
        "The TEE session could not be generated.",
    )
    TEE_SESSION_GENERATION_SECURE_SESSION_NO_TEE_FRAMEWORK = (
        "TEE_SESSION_GENERATION_SECURE_SESSION_NO_TEE_FRAMEWORK",
        "No TEE framework for the session.",
    )
    TEE_SESSION_GENERATION_GET_TASK_DESCRIPTION_FAILED = (
        "TEE_SESSION_GENERATION_GET_TASK_DESCRIPTION_FAILED",
        "The SMS could not build the task description.",
    )
    TEE_SESSION_GENERATION_NO_SESSION_REQUEST = (
        "TEE_SESSION_GENERATION_NO_SESSION_REQUEST",
        "The session request was empty.",
    )
    TEE_SESSION_GENERATION_NO_TASK_DESCRIPTION = (
        "TEE_SESSION_GENERATION_NO_TASK_DESCRIPTION",
        "The session request had no task description.",
    )
    TEE_SESSION_GENERATION_UNKNOWN_ISSUE = (
        "TEE_SESSION_GENERATION_UNKNOWN_ISSUE",
        "The TEE session could not be generated for an unknown reason.",
    )
    # §3.3 other TEE
    TEE_NOT_SUPPORTED = "TEE_NOT_SUPPORTED", "The worker does not support TEE tasks."
    UNKNOWN_SMS = "UNKNOWN_SMS", "No SMS is known for the task."
    GET_TEE_SERVICES_CONFIGURATION_FAILED = (
        "GET_TEE_SERVICES_CONFIGURATION_FAILED",
        "The TEE services configuration could not be fetched from the SMS.",
    )
    TEE_PREPARATION_FAILED = "TEE_PREPARATION_FAILED", "The TEE runtime could not be prepared."
    TRUST_NOT_1 = "TRUST_NOT_1", "contributeAndFinalize needs a deal with trust 1."
    TASK_ALREADY_CONTRIBUTED = "TASK_ALREADY_CONTRIBUTED", "contributeAndFinalize needs a task nobody contributed to."
    PRE_COMPUTE_MISSING_ENCLAVE_CONFIGURATION = (
        "PRE_COMPUTE_MISSING_ENCLAVE_CONFIGURATION",
        "The app has no enclave configuration.",
    )
    PRE_COMPUTE_INVALID_ENCLAVE_CONFIGURATION = (
        "PRE_COMPUTE_INVALID_ENCLAVE_CONFIGURATION",
        "The app's enclave configuration is invalid.",
    )
    PRE_COMPUTE_INVALID_ENCLAVE_HEAP_CONFIGURATION = (
        "PRE_COMPUTE_INVALID_ENCLAVE_HEAP_CONFIGURATION",
        "The enclave heap asked for is larger than the worker allows.",
    )
    PRE_COMPUTE_IMAGE_MISSING = "PRE_COMPUTE_IMAGE_MISSING", "The pre-compute image is not on the worker."
    PRE_COMPUTE_TASK_ID_MISSING = "PRE_COMPUTE_TASK_ID_MISSING", "Pre-compute could not read the task id."
    PRE_COMPUTE_EXIT_REPORTING_FAILED = (
        "PRE_COMPUTE_EXIT_REPORTING_FAILED",
        "Pre-compute failed and could not report why.",
    )
    PRE_COMPUTE_TIMEOUT = "PRE_COMPUTE_TIMEOUT", "Pre-compute did not finish in time."
    PRE_COMPUTE_WORKER_ADDRESS_MISSING = "PRE_COMPUTE_WORKER_ADDRESS_MISSING", "Pre-compute has no worker address."
    PRE_COMPUTE_TEE_CHALLENGE_PRIVATE_KEY_MISSING = (
        "PRE_COMPUTE_TEE_CHALLENGE_PRIVATE_KEY_MISSING",
        "Pre-compute has no enclave signing key.",
    )
    PRE_COMPUTE_INVALID_TEE_SIGNATURE = (
        "PRE_COMPUTE_INVALID_TEE_SIGNATURE",
        "Pre-compute produced an invalid enclave signature.",
    )
    PRE_COMPUTE_OUTPUT_PATH_MISSING = "PRE_COMPUTE_OUTPUT_PATH_MISSING", "Pre-compute has no output path."
    PRE_COMPUTE_IS_DATASET_REQUIRED_MISSING = (
        "PRE_COMPUTE_IS_DATASET_REQUIRED_MISSING",
        "Pre-compute does not know whether a dataset is required.",
    )
    PRE_COMPUTE_DATASET_URL_MISSING = "PRE_COMPUTE_DATASET_URL_MISSING", "Pre-compute has no dataset URL."
    PRE_COMPUTE_DATASET_KEY_MISSING = "PRE_COMPUTE_DATASET_KEY_MISSING", "Pre-compute has no dataset key."
    PRE_COMPUTE_DATASET_CHECKSUM_MISSING = (
        "PRE_COMPUTE_DATASET_CHECKSUM_MISSING",
        "Pre-compute has no dataset checksum.",
    )
    PRE_COMPUTE_DATASET_FILENAME_MISSING = (
        "PRE_COMPUTE_DATASET_FILENAME_MISSING",
        "Pre-compute has no dataset file name.",
    )
    PRE_COMPUTE_INPUT_FILES_NUMBER_MISSING = (
        "PRE_COMPUTE_INPUT_FILES_NUMBER_MISSING",
        "Pre-compute does not know the number of input files.",
    )
    PRE_COMPUTE_AT_LEAST_ONE_INPUT_FILE_URL_MISSING = (
        "PRE_COMPUTE_AT_LEAST_ONE_INPUT_FILE_URL_MISSING",
        "Pre-compute misses an input file URL.",
    )
    PRE_COMPUTE_OUTPUT_FOLDER_NOT_FOUND = (
        "PRE_COMPUTE_OUTPUT_FOLDER_NOT_FOUND",
        "Pre-compute's output folder does not exist.",
    )
    PRE_COMPUTE_DATASET_DOWNLOAD_FAILED = (
        "PRE_COMPUTE_DATASET_DOWNLOAD_FAILED",
        "Pre-compute could not download the dataset.",
    )
    PRE_COMPUTE_INVALID_DATASET_CHECKSUM = (
        "PRE_COMPUTE_INVALID_DATASET_CHECKSUM",
        "Pre-compute found a dataset checksum mismatch.",
    )
    PRE_COMPUTE_DATASET_DECRYPTION_FAILED = (
        "PRE_COMPUTE_DATASET_DECRYPTION_FAILED",
        "Pre-compute could not decrypt the dataset.",
    )
    PRE_COMPUTE_SAVING_PLAIN_DATASET_FAILED = (
        "PRE_COMPUTE_SAVING_PLAIN_DATASET_FAILED",
        "Pre-compute could not save the decrypted dataset.",
    )
    PRE_COMPUTE_INPUT_FILE_DOWNLOAD_FAILED = (
        "PRE_COMPUTE_INPUT_FILE_DOWNLOAD_FAILED",
        "Pre-compute could not download an input file.",
    )
    PRE_COMPUTE_FAILED_UNKNOWN_ISSUE = "PRE_COMPUTE_FAILED_UNKNOWN_ISSUE", "Pre-compute failed for an unknown reason."
    POST_COMPUTE_IMAGE_MISSING = "POST_COMPUTE_IMAGE_MISSING", "The post-compute image is not on the worker."
    POST_COMPUTE_TASK_ID_MISSING = "POST_COMPUTE_TASK_ID_MISSING", "Post-compute could not read the task id."
    POST_COMPUTE_EXIT_REPORTING_FAILED = (
        "POST_COMPUTE_EXIT_REPORTING_FAILED",
        "Post-compute failed and could not report why.",
    )
    POST_COMPUTE_TIMEOUT = "POST_COMPUTE_TIMEOUT", "Post-compute did not finish in time."
    POST_COMPUTE_WORKER_ADDRESS_MISSING = "POST_COMPUTE_WORKER_ADDRESS_MISSING", "Post-compute has no worker address."
    POST_COMPUTE_TEE_CHALLENGE_PRIVATE_KEY_MISSING = (
        "POST_COMPUTE_TEE_CHALLENGE_PRIVATE_KEY_MISSING",
        "Post-compute has no enclave signing key.",
    )
    POST_COMPUTE_INVALID_TEE_SIGNATURE = (
        "POST_COMPUTE_INVALID_TEE_SIGNATURE",
        "Post-compute produced an invalid enclave signature.",
    )
    POST_COMPUTE_ENCRYPTION_PUBLIC_KEY_MISSING = (
        "POST_COMPUTE_ENCRYPTION_PUBLIC_KEY_MISSING",
        "Post-compute has no beneficiary public key.",
    )
    POST_COMPUTE_MALFORMED_ENCRYPTION_PUBLIC_KEY = (
        "POST_COMPUTE_MALFORMED_ENCRYPTION_PUBLIC_KEY",
        "The beneficiary public key is malformed.",
    )
    POST_COMPUTE_ENCRYPTION_FAILED = "POST_COMPUTE_ENCRYPTION_FAILED", "The result could not be encrypted."
    POST_COMPUTE_STORAGE_TOKEN_MISSING = "POST_COMPUTE_STORAGE_TOKEN_MISSING", "Post-compute has no storage token."
    POST_COMPUTE_RESULT_FILE_NOT_FOUND = (
        "POST_COMPUTE_RESULT_FILE_NOT_FOUND",
        "The result file to upload was not found.",
    )
    POST_COMPUTE_DROPBOX_UPLOAD_FAILED = "POST_COMPUTE_DROPBOX_UPLOAD_FAILED", "The Dropbox upload failed."
    POST_COMPUTE_IPFS_UPLOAD_FAILED = "POST_COMPUTE_IPFS_UPLOAD_FAILED", "The IPFS upload failed."
    # --- pocopool extensions: the limits of an app run (not in the reference; docs/decisions.md 88) ---
    # Each limit the worker sets on an app run ends the run with its own cause (worker/runtimes/guard.py).
    APP_MEMORY_LIMIT_EXCEEDED = (
        "APP_MEMORY_LIMIT_EXCEEDED",
        "The app used more memory than the worker allows an app run, and was killed.",
    )
    APP_PROCESS_LIMIT_EXCEEDED = (
        "APP_PROCESS_LIMIT_EXCEEDED",
        "The app started more processes than the worker allows an app run, and was stopped.",
    )
    APP_OUTPUT_LIMIT_EXCEEDED = (
        "APP_OUTPUT_LIMIT_EXCEEDED",
        "The app wrote more into IEXEC_OUT than the worker allows, and was stopped.",
    )
    APP_TMP_LIMIT_EXCEEDED = (
        "APP_TMP_LIMIT_EXCEEDED",
        "The app wrote more into /tmp than the worker allows, and was stopped.",
    )
    APP_CPU_TIME_LIMIT_EXCEEDED = (
        "APP_CPU_TIME_LIMIT_EXCEEDED",
        "A process of the app used more CPU time than the worker allows, and was killed.",
    )
    # --- end of the app run limits ---


Cause = ReplicateStatusCause


class TaskAbortCause(str, Enum):
    CONTRIBUTION_TIMEOUT = "CONTRIBUTION_TIMEOUT"
    CONSENSUS_REACHED = "CONSENSUS_REACHED"
    UNKNOWN = "UNKNOWN"

    def as_replicate_cause(self) -> ReplicateStatusCause:
        return ReplicateStatusCause(self.value)
