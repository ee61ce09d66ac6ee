"""What each failure means in plain words, whose it is, and what to do about it.

One source for `pocopool task debug`, `pocopool explain`, the API's diagnosis and docs/debugging.md.
`origin` keeps the app's own failures apart from the platform's and from the requester's inputs.
"""

from __future__ import annotations

from .causes import Explanation as Explanation
from .causes import Origin as Origin
from .session_explanations import SESSION_CAUSES
from .statuses import Component
from .statuses import ReplicateStatusCause as C
from .statuses import TaskStatus as TS
from .task_causes import TaskFailureCause
from .task_explanations import explain_task_cause


def _e(component: Component, origin: Origin, explanation: str, fix: str) -> Explanation:
    return Explanation(component, origin, explanation, fix)


W, A, S, CH, SC = Component.WORKER, Component.APP, Component.STORAGE, Component.CHAIN, Component.SCHEDULER
P, AP, IN, PR = Origin.PLATFORM, Origin.APP, Origin.INPUT, Origin.PROTOCOL

CAUSES: dict[C, Explanation] = {
    C.CHAIN_UNREACHABLE: _e(
        CH,
        P,
        "The worker could not read the task on chain, so it could not check it may work on it.",
        "Check the worker's chain connection; the task is given to another worker meanwhile.",
    ),
    C.BLOCK_NOT_REACHED: _e(
        W,  # the chain went on (the other winners reveal on it): the worker's own node lags behind it
        P,
        "The worker's own chain node is behind the block where consensus was reached, and did not reach it "
        "while the worker waited, so the worker could not check that it may reveal.",
        "Let the worker's node sync (is it connected to the network?), or point the worker at a healthy node "
        "(its --chain URL). Meanwhile the task goes on with the other winners.",
    ),
    C.STAKE_TOO_LOW: _e(
        W,
        P,
        "The worker's free balance is below the stake the deal asks of each contributor.",
        "The worker's operator must deposit more; the task goes to another worker.",
    ),
    C.OUT_OF_GAS: _e(
        W,
        P,
        "The worker's wallet holds too little of the chain's currency (ETH) to pay the gas of the transaction it "
        "had to send (contribute, contributeAndFinalize or reveal), so it sent nothing.",
        "Refill the worker's wallet with ETH: the message says its address and what one transaction needs. "
        "Meanwhile the task goes on with other workers.",
    ),
    C.TASK_NOT_ACTIVE: _e(
        CH,
        PR,
        "The task was no longer open for contributions on chain: consensus was already reached, or it was not initialized.",
        "Usually nothing: other workers got there first. If the task never became ACTIVE, look at the task's INITIALIZE status.",
    ),
    C.TASK_DESCRIPTION_INVALID: _e(
        Component.REQUESTER,
        IN,
        "The deal asks for something this kind of task cannot do (for example result encryption on a standard task).",
        "Buy the task again without the inconsistent parameter.",
    ),
    C.TASK_DESCRIPTION_NOT_FOUND: _e(
        CH, P, "The task's description could not be read.", "Check the chain connection of the scheduler and workers."
    ),
    C.CONTRIBUTION_ALREADY_SET: _e(
        CH, PR, "This worker already contributed to the task on chain.", "Nothing: a worker votes once per task."
    ),
    C.CONSENSUS_REACHED: _e(
        SC,
        PR,
        "Consensus was reached without this worker's vote (or against it), so its replicate was stopped.",
        "Nothing for the requester; if the worker voted for another result, its result was wrong.",
    ),
    C.CHAIN_RECEIPT_NOT_VALID: _e(
        CH,
        P,
        "A transaction of the worker was refused by the chain or has no valid receipt.",
        "Read the message: it names the rule the chain applied.",
    ),
    C.CONSENSUS_BLOCK_MISSING: _e(
        SC,
        P,
        "The request to reveal did not say at which block consensus was reached.",
        "A scheduler fault: report it.",
    ),
    C.DETERMINISM_HASH_NOT_FOUND: _e(
        A,
        AP,
        "No result digest could be computed: the app left no computed.json or no deterministic output.",
        "Make the app write $IEXEC_OUT/computed.json naming its deterministic output.",
    ),
    C.ENCLAVE_SIGNATURE_NOT_FOUND: _e(
        W, P, "The enclave's signature of the result is missing or wrong.", "Check the TEE setup of the worker."
    ),
    C.WORKERPOOL_AUTHORIZATION_NOT_FOUND: _e(
        SC,
        P,
        "The worker holds no authorization from the scheduler for this task.",
        "A scheduler or worker fault: report it.",
    ),
    C.RESULT_LINK_MISSING: _e(
        S,
        P,
        "The result upload produced no link: the result store refused it or did not answer.",
        "Read the message for the store's answer; another revealer is asked to upload.",
    ),
    C.CONTRIBUTION_TIMEOUT: _e(
        SC,
        PR,
        "The contribution deadline passed before enough workers agreed on a result.",
        "Buy again with a longer category, fewer required agreements (trust), or when workers are available; claim the refund of this task.",
    ),
    C.REVEAL_TIMEOUT: _e(
        W,
        P,
        "The worker contributed but did not reveal its result before the reveal deadline; its stake is seized.",
        "Nothing for the requester if another winner revealed; the worker's operator should check why it stopped.",
    ),
    C.CANNOT_REVEAL: _e(
        CH,
        PR,
        "The chain's conditions for a reveal were not met (deadline passed or the vote is not the consensus).",
        "Read the message; a worker whose vote lost cannot reveal.",
    ),
    C.ABORTED_BY_WORKER: _e(
        W,
        P,
        "The worker gave the replicate up on its own: it restarted and could not resume it, because what it had computed was lost with the crash (the message says what was missing).",
        "Nothing for the requester: the scheduler gives the task to another worker at once. Operators: find in the worker's log why it stopped, and keep its work folder on a disk that survives restarts.",
    ),
    C.UNKNOWN: _e(
        SC,
        P,
        "The replicate was stopped without a specific cause, usually because the task itself ended.",
        "Look at the task's status history for the decisive failure.",
    ),
    C.APP_IMAGE_DOWNLOAD_FAILED: _e(
        S,
        IN,
        "The worker could not download the app bundle, or the bundle it got does not match the checksum registered on chain.",
        "Check that the app's URL serves the exact bundle that was deployed; deploy the app again if it changed.",
    ),
    C.INPUT_FILES_DOWNLOAD_FAILED: _e(
        S,
        IN,
        "An input file of the deal could not be downloaded.",
        "Check the input file URLs (the message names the failing one) and buy again.",
    ),
    C.DATASET_FILE_DOWNLOAD_FAILED: _e(
        S,
        IN,
        "The dataset could not be downloaded from its URL.",
        "Check that the dataset's URL serves the file; deploy the dataset again if it moved.",
    ),
    C.DATASET_FILE_BAD_CHECKSUM: _e(
        S,
        IN,
        "The dataset file served at its URL differs from the one registered on chain (checksum mismatch).",
        "Deploy the dataset again, or restore the original file at its URL.",
    ),
    C.APP_NOT_FOUND_LOCALLY: _e(
        W, P, "The app was not on the worker when it had to run.", "A worker fault: report it."
    ),
    C.APP_COMPUTE_FAILED: _e(
        A,
        AP,
        "The app exited with an error.",
        "Read the app's logs (task debug --logs) and its exit code; fix the app or its arguments.",
    ),
    C.APP_COMPUTE_TIMEOUT: _e(
        A,
        AP,
        "The app ran longer than the category allows and was stopped.",
        "Make the app faster, or buy the task in a category with a longer maximum time.",
    ),
    C.POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME: _e(
        A,
        AP,
        "The app wrote a result file whose name is longer than 31 characters.",
        "Use file names of at most 31 characters in $IEXEC_OUT.",
    ),
    C.POST_COMPUTE_OUT_FOLDER_ZIP_FAILED: _e(
        W, P, "The worker could not zip the app's output folder.", "Read the message; check the worker's disk."
    ),
    C.POST_COMPUTE_SEND_COMPUTED_FILE_FAILED: _e(
        W, P, "computed.json could not be copied.", "Read the message; check the worker's disk."
    ),
    C.POST_COMPUTE_COMPUTED_FILE_NOT_FOUND: _e(
        A,
        AP,
        "The app wrote no $IEXEC_OUT/computed.json, so no result digest can be computed.",
        'Make the app write computed.json with {"deterministic-output-path": "/iexec_out/<file>"}.',
    ),
    C.POST_COMPUTE_RESULT_DIGEST_COMPUTATION_FAILED: _e(
        A,
        AP,
        "computed.json names a deterministic output that is missing or unreadable.",
        "Make deterministic-output-path point at a file or folder the app really writes under /iexec_out.",
    ),
    C.POST_COMPUTE_FAILED_UNKNOWN_ISSUE: _e(
        W, P, "Post-compute failed for an unknown reason.", "Read the message and the worker's log."
    ),
    C.TEE_NOT_SUPPORTED: _e(
        W, P, "The worker cannot run TEE tasks.", "The scheduler should not have given it this task: report it."
    ),
    C.UNKNOWN_SMS: _e(
        SC,
        P,
        "The worker knows no secret management service (SMS) for this TEE task, or cannot reach the one it was given.",
        "Check the workerpool's TEE configuration: that its SMS runs and that the worker can reach its URL "
        "(the message gives it).",
    ),
    C.GET_TEE_SERVICES_CONFIGURATION_FAILED: _e(
        Component.SCHEDULER, P, "The TEE services configuration could not be fetched.", "Check the workerpool's SMS."
    ),
    C.TEE_PREPARATION_FAILED: _e(
        W, P, "The worker could not prepare its TEE runtime.", "Check the worker's TEE setup."
    ),
    C.TRUST_NOT_1: _e(
        Component.REQUESTER,
        IN,
        "The one-shot TEE finalization needs a deal with trust 1.",
        "Buy the TEE task with trust 1.",
    ),
    C.TASK_ALREADY_CONTRIBUTED: _e(
        W,
        P,
        "Another contribution to this trust-1 TEE task reached the chain before the worker's one-shot "
        "finalization: a worker of the pool contributed the ordinary way (only the pool's workers hold an "
        "authorization for the task), so contributeAndFinalize was no longer possible.",
        "A worker fault: report the pool's workers with their logs. The task waits for a reveal it never gets and "
        "ends at its final deadline (FINAL_DEADLINE_REACHED), when the requester can claim a refund.",
    ),
    # --- TEE causes that come from the deal, its data or its beneficiary, not from the worker ---
    C.PRE_COMPUTE_TIMEOUT: _e(
        S,
        IN,
        "The pre-compute enclave was still fetching the deal's dataset or input files when the time limit of the "
        "deal's category ran out: a host of the data did not answer in time.",
        "Check the dataset and input files: their hosts must answer the worker quickly (the message gives the time "
        "limit), or buy the task in a category with a longer time limit.",
    ),
    C.PRE_COMPUTE_SAVING_PLAIN_DATASET_FAILED: _e(
        W,
        P,
        "The pre-compute enclave decrypted the dataset but could not write it into the task's input folder, "
        "which the worker gives it.",
        "Check the worker's TEE setup and its disk: the task's input folder must be writable by pre-compute.",
    ),
    C.POST_COMPUTE_TIMEOUT: _e(
        S,
        P,
        "The post-compute enclave was still sending the result when the time limit of the deal's category ran "
        "out: the result storage did not answer in time.",
        "Check the result storage the deal names (iexec_result_storage_proxy, else the workerpool's result "
        "store): it must answer the worker quickly (the message gives the time limit).",
    ),
    C.POST_COMPUTE_MALFORMED_ENCRYPTION_PUBLIC_KEY: _e(
        Component.REQUESTER,
        IN,
        "The deal asks for an encrypted result, and the public key its beneficiary pushed to the SMS is not a "
        "base64 PEM RSA public key: the enclave cannot encrypt the result for it.",
        "The beneficiary must push its result encryption public key again, well formed (pocopool keys result-key "
        "makes one), then buy the task again.",
    ),
    C.POST_COMPUTE_ENCRYPTION_FAILED: _e(
        Component.REQUESTER,
        IN,
        "The deal asks for an encrypted result, and the public key its beneficiary pushed to the SMS cannot "
        "encrypt it (for example an RSA key too small to wrap the result's AES key).",
        "The beneficiary must push a 2048-bit or larger RSA result encryption public key (pocopool keys "
        "result-key makes one), then buy the task again.",
    ),
    C.POST_COMPUTE_DROPBOX_UPLOAD_FAILED: _e(
        Component.REQUESTER,
        IN,
        "The deal names Dropbox as its result storage, and the post-compute enclave could not upload the result there.",
        "Buy the task again with the IPFS result storage (the default): a workerpool on tee-sim cannot upload to "
        "Dropbox.",
    ),
    # --- pocopool extensions: the limits of an app run ---
    C.APP_MEMORY_LIMIT_EXCEEDED: _e(
        A,
        AP,
        "The memory of all the app's processes together reached the limit the worker sets on each app run; the kernel killed a process and the worker stopped the run.",
        "Make the app use less memory (the message gives the limit), or ask the workerpool's operator for more: the worker option --app-memory-mb.",
    ),
    C.APP_PROCESS_LIMIT_EXCEEDED: _e(
        A,
        AP,
        "The app's processes and threads together reached the limit the worker sets on each app run; a fork was refused and the worker stopped the run.",
        "Start fewer processes or threads (the message gives the limit), or ask the workerpool's operator for more: the worker option --app-max-processes.",
    ),
    C.APP_OUTPUT_LIMIT_EXCEEDED: _e(
        A,
        AP,
        "The app wrote more into $IEXEC_OUT (bytes, or files and folders) than the worker allows an app run; the worker stopped the run.",
        "Write a smaller result (the message gives the limit), or ask the workerpool's operator for more: the worker option --app-output-mb.",
    ),
    C.APP_TMP_LIMIT_EXCEEDED: _e(
        A,
        AP,
        "The app wrote more into /tmp (bytes, or files and folders) than the worker allows an app run; the worker stopped the run.",
        "Keep less in /tmp (the message gives the limit), or ask the workerpool's operator for more: the worker option --app-tmp-mb.",
    ),
    C.APP_CPU_TIME_LIMIT_EXCEEDED: _e(
        A,
        AP,
        "A process of the app used all the CPU time the worker allows each process of an app run, and the kernel killed it (SIGXCPU).",
        "Make the app compute less (the message gives the limit), or ask the workerpool's operator for more: the worker option --app-cpu-seconds.",
    ),
}


def _tee_default(cause: C) -> Explanation:
    name = cause.value
    if name.startswith("TEE_SESSION_GENERATION_"):
        return _e(
            SC,
            P,
            f"The TEE session could not be created: {cause.description[0].lower()}{cause.description[1:]}",
            "Check the secrets and enclave configuration the TEE task needs (SMS, app enclave config, dataset key).",
        )
    if name.startswith("PRE_COMPUTE_"):
        input_side = any(part in name for part in ("DATASET", "INPUT_FILE"))
        return _e(
            S if input_side else W,
            IN if input_side else P,
            f"The TEE pre-compute step failed: {cause.description[0].lower()}{cause.description[1:]}",
            "Check the dataset and input files of the deal." if input_side else "Check the worker's TEE setup.",
        )
    if name.startswith("POST_COMPUTE_"):
        return _e(
            W,
            P,
            f"The TEE post-compute step failed: {cause.description[0].lower()}{cause.description[1:]}",
            "Check the result storage and encryption settings of the deal, and the worker's TEE setup.",
        )
    return _e(W, P, cause.description, "Read the message and the worker's log.")


def explain_cause(cause: C) -> Explanation:
    return CAUSES.get(cause) or SESSION_CAUSES.get(cause) or _tee_default(cause)


TASK_FAILURES: dict[TS, Explanation] = {
    TS.INITIALIZE_FAILED: _e(
        CH,
        P,
        "The scheduler could not initialize the task on chain.",
        "Read the message (the chain's rule); claim a refund after the final deadline.",
    ),
    TS.RUNNING_FAILED: _e(
        W,
        P,
        "Every alive worker failed the task before computing: no worker of this pool can run it as it is.",
        "Read the replicates' causes (the decisive one is shown) and fix the app or the input; claim a refund "
        "after the final deadline (the chain opens claims then).",
    ),
    TS.CONTRIBUTION_TIMEOUT: CAUSES[C.CONTRIBUTION_TIMEOUT],
    TS.REOPEN_FAILED: _e(
        CH, P, "The task could not be reopened after nobody revealed.", "Claim a refund after the final deadline."
    ),
    TS.RESULT_UPLOAD_TIMEOUT: _e(
        S,
        P,
        "No revealer uploaded the result: each one asked timed out or failed, and no other winner could still reveal.",
        "Claim a refund after the final deadline.",
    ),
    TS.FINALIZE_FAILED: _e(
        CH,
        P,
        "The scheduler could not finalize the task on chain.",
        "Read the message (the chain's rule); claim a refund after the final deadline.",
    ),
    TS.FINAL_DEADLINE_REACHED: _e(
        SC,
        PR,
        "The final deadline passed before the task ended.",
        "Claim a refund; buy again with a longer category or when enough workers are available.",
    ),
}


def all_cause_explanations() -> dict[C, Explanation]:
    return {cause: explain_cause(cause) for cause in C}


def lookup(name: str) -> dict[str, object]:
    """Everything protocol/ says about a status or cause name (case-insensitive; a chain rule's
    kebab-case name finds the task cause of the same name).

    Raises KeyError if the name is neither a task status, a replicate status, a cause nor a task cause.
    """
    from .statuses import DOC_SPELLINGS, ChainTaskStatus, ReplicateStatus

    typed = name.strip().upper().replace("-", "_")
    key = DOC_SPELLINGS.get(typed, typed)
    entries: list[dict[str, object]] = []
    if key in TS.__members__:
        status = TS[key]
        entry: dict[str, object] = {"kind": "task status", "name": key, "description": status.description}
        if status in TASK_FAILURES:
            entry.update(_explanation_dict(TASK_FAILURES[status]))
        entries.append(entry)
    if key in ReplicateStatus.__members__:
        entries.append({"kind": "replicate status", "name": key, "description": ReplicateStatus[key].description})
    if key in C.__members__:
        cause = C[key]
        entries.append(
            {"kind": "cause", "name": key, "description": cause.description, **_explanation_dict(explain_cause(cause))}
        )
    if key in TaskFailureCause.__members__:
        task_cause = TaskFailureCause[key]
        entries.append(
            {
                "kind": "task cause",
                "name": key,
                "description": task_cause.description,
                **_explanation_dict(explain_task_cause(task_cause)),
            }
        )
    if key in ChainTaskStatus.__members__ and not entries:
        entries.append({"kind": "on-chain task status", "name": key, "description": ChainTaskStatus[key].description})
    if not entries:
        raise KeyError(name)
    found: dict[str, object] = {"name": key, "entries": entries}
    if key != typed:
        found["docSpelling"] = typed  # the public docs' spelling of this name (spec/debugging.md §1.8)
    return found


def known_names() -> list[str]:
    """Every name `lookup` knows, for suggestions when one is mistyped."""
    from .statuses import ReplicateStatus

    return list(
        dict.fromkeys([*TS.__members__, *ReplicateStatus.__members__, *C.__members__, *TaskFailureCause.__members__])
    )


def _explanation_dict(explanation: Explanation) -> dict[str, object]:
    return {
        "component": explanation.component.value,
        "origin": explanation.origin.value,
        "explanation": explanation.explanation,
        "fix": explanation.fix,
    }
