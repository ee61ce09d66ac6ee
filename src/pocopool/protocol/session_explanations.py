"""What the SMS's refusals of a TEE session mean, whose they are, and what to do (explanations.py
falls back to one generic text for the others). The SMS is the workerpool operator's, as the
scheduler is: its own failures are the scheduler's component. A refusal that only a dishonest or
broken worker can earn says so, and the task goes to another worker.
"""

from __future__ import annotations

from .causes import Component, Explanation, Origin
from .causes import ReplicateStatusCause as C

_WORKER_FAULT = "A worker fault: report it with the worker's log; the task goes to another worker."
_SMS_LOG = "Read the SMS's log (its lines carry the task id); the task goes to another worker."

SESSION_CAUSES: dict[C, Explanation] = {
    C.TEE_SESSION_GENERATION_NO_SESSION_REQUEST: Explanation(
        Component.WORKER,
        Origin.PLATFORM,
        "The worker's session request has no body, or one that is not a workerpool authorization.",
        _WORKER_FAULT,
    ),
    C.TEE_SESSION_GENERATION_INVALID_AUTHORIZATION: Explanation(
        Component.WORKER,
        Origin.PLATFORM,
        "The worker's signature of its session request is not the signature of the worker the authorization names.",
        _WORKER_FAULT,
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_EMPTY_PARAMS_UNAUTHORIZED: Explanation(
        Component.WORKER,
        Origin.PLATFORM,
        "The worker asked for a session with an authorization whose fields are missing or empty.",
        _WORKER_FAULT,
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_NO_MATCH_ONCHAIN_TYPE: Explanation(
        Component.SCHEDULER,
        Origin.PLATFORM,
        "A worker asked for a TEE session for a task whose deal is not a TEE deal.",
        "A scheduler or worker fault: report it with their logs.",
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_TASK_FAILED: Explanation(
        Component.CHAIN,
        Origin.PLATFORM,
        "The SMS could not find the task on chain, or could not read it.",
        "Check that the SMS reads the workerpool's chain and can reach it; the task goes to another worker.",
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_INVALID_SIGNATURE: Explanation(
        Component.SCHEDULER,
        Origin.PLATFORM,
        "The authorization the worker showed the SMS is not signed by the workerpool's owner: the scheduler "
        "signs with another wallet, or the worker forged it.",
        "Check that the scheduler signs with the workerpool owner's wallet; if it does, the worker forged its "
        "authorization: report the worker.",
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_TASK_NOT_ACTIVE: Explanation(
        Component.CHAIN,
        Origin.PROTOCOL,
        "The task the worker asked a session for was not ACTIVE on chain: it had ended, or the worker showed "
        "the authorization of another task, which had.",
        "Nothing if the task had ended; if it had not, the worker replayed an old authorization: report the worker.",
    ),
    C.TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_GET_CHAIN_DEAL_FAILED: Explanation(
        Component.CHAIN,
        Origin.PLATFORM,
        "The SMS could not read the task's deal or workerpool on chain.",
        "Check the SMS's chain connection; the task goes to another worker.",
    ),
    C.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE: Explanation(
        Component.SCHEDULER,
        Origin.PLATFORM,
        "The SMS holds no enclave challenge for the task, though the scheduler's authorization names one: the "
        "SMS lost it (its database reset, or restored from before the task) or is not the SMS the scheduler asked.",
        "Check that the scheduler and its workers use the same SMS and that its database was not reset; the task "
        "cannot get a session any more: buy it again.",
    ),
    C.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_PUBLIC_ENCLAVE_CHALLENGE: Explanation(
        Component.SCHEDULER,
        Origin.PLATFORM,
        "The authorization's enclave challenge is not the one the SMS made for the task.",
        "Check that the scheduler and its workers use the same SMS.",
    ),
    C.TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CREDENTIALS: Explanation(
        Component.SCHEDULER,
        Origin.PLATFORM,
        "The SMS holds the task's enclave challenge but cannot open its private key.",
        "Check the SMS's master key: it must be the one its database was written with.",
    ),
    C.TEE_SESSION_GENERATION_PRE_COMPUTE_GET_DATASET_SECRET_FAILED: Explanation(
        Component.STORAGE,
        Origin.INPUT,
        "The dataset's owner pushed no key for it to the SMS, so no enclave could decrypt it.",
        "The dataset's owner must push the dataset's key to the workerpool's SMS; then buy the task again.",
    ),
    C.TEE_SESSION_GENERATION_APP_COMPUTE_NO_ENCLAVE_CONFIG: Explanation(
        Component.APP,
        Origin.APP,
        "The app has no enclave configuration on chain (its mrenclave is empty): it is not a TEE app.",
        "Deploy the app as a TEE app (pocopool app deploy --tee), then buy the task with it.",
    ),
    C.TEE_SESSION_GENERATION_APP_COMPUTE_INVALID_ENCLAVE_CONFIG: Explanation(
        Component.APP,
        Origin.APP,
        "The app's enclave configuration on chain (its mrenclave) is not a valid one (the message says why).",
        "Deploy the app again with a valid enclave configuration (pocopool app deploy --tee).",
    ),
    C.TEE_SESSION_GENERATION_SECURE_SESSION_GENERATION_FAILED: Explanation(
        Component.REQUESTER,
        Origin.INPUT,
        "The deal names a requester secret (iexec_secrets) that the requester never pushed to the SMS.",
        "Push the secret to the workerpool's SMS under the name the deal gives, then buy the task again.",
    ),
    C.TEE_SESSION_GENERATION_POST_COMPUTE_GET_ENCRYPTION_TOKENS_FAILED_EMPTY_BENEFICIARY_KEY: Explanation(
        Component.REQUESTER,
        Origin.INPUT,
        "The deal asks for an encrypted result, but its beneficiary pushed no result encryption key to the SMS.",
        "The beneficiary must push its result encryption public key to the workerpool's SMS; then buy the task again.",
    ),
    C.TEE_SESSION_GENERATION_POST_COMPUTE_GET_STORAGE_TOKENS_FAILED: Explanation(
        Component.REQUESTER,
        Origin.INPUT,
        "No token of the deal's result storage provider is in the SMS (dropbox needs the requester's), or the "
        "provider is unknown.",
        "Push a token of the storage provider the deal names to the workerpool's SMS, or buy the task with ipfs.",
    ),
    C.TEE_SESSION_GENERATION_SECURE_SESSION_STORAGE_CALL_FAILED: Explanation(
        Component.SCHEDULER,
        Origin.PLATFORM,
        "The SMS could not store the session in its database.",
        "Check the SMS's database (space, permissions, connection); " + _SMS_LOG,
    ),
    C.TEE_SESSION_GENERATION_GET_TASK_DESCRIPTION_FAILED: Explanation(
        Component.CHAIN,
        Origin.PLATFORM,
        "The SMS could not read the task's app or dataset on chain.",
        "Check the SMS's chain connection; the task goes to another worker.",
    ),
    C.TEE_SESSION_GENERATION_NO_TASK_DESCRIPTION: Explanation(
        Component.REQUESTER,
        Origin.INPUT,
        "The SMS cannot describe the task: the deal's dataset is not on chain, or its params are not a params "
        "document.",
        "Buy the task again with a dataset that exists and params the SMS can read (the message says which).",
    ),
    C.TEE_SESSION_GENERATION_UNKNOWN_ISSUE: Explanation(
        Component.SCHEDULER,
        Origin.PLATFORM,
        "The SMS failed to create the session for a reason it did not name.",
        _SMS_LOG,
    ),
}
