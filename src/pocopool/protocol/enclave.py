"""What the worker and any enclave program it starts agree on (docs/tee.md "Flows"): the environment
variables the worker sets, the files a stage leaves in its report folder and the meaning of its exit
code (spec/worker.md §8.5). The worker reads these; an enclave platform's programs write them.
"""

from __future__ import annotations

ENV_SESSION = "TEESIM_SESSION"
ENV_SMS_FD = "TEESIM_SMS_FD"  # a connected TCP socket to the SMS, one HTTP request
ENV_PLATFORM_FD = "TEESIM_PLATFORM_KEY_FD"  # the simulated platform key, read once then closed
ENV_REPORT_DIR = "TEESIM_REPORT_DIR"  # where the stage writes report.json (as this sandbox sees it)
ENV_IEXEC_IN = "TEESIM_IEXEC_IN"  # the task's input folder as this sandbox sees it
ENV_IEXEC_OUT = "TEESIM_IEXEC_OUT"  # the task's iexec_out as this sandbox sees it
WORKER_ENV = (ENV_SESSION, ENV_SMS_FD, ENV_PLATFORM_FD, ENV_REPORT_DIR, ENV_IEXEC_IN, ENV_IEXEC_OUT)

REPORT_FILE = "report.json"  # pre- and post-compute: signed by the task's enclave key
LOADER_REPORT = "loader.json"  # the app stage: why the app enclave did not start, if it did not

EXIT_OK, EXIT_REPORTED, EXIT_REPORTING_FAILED, EXIT_TASK_ID_MISSING, EXIT_NOT_PROVISIONED = 0, 1, 2, 3, 4
# pocopool's own: a stage whose session lacks a signing token cannot sign a report, so it says which
# token by its exit code (the reference exits 2, EXIT_REPORTING_FAILED, and the cause is lost).
EXIT_WORKER_ADDRESS_MISSING, EXIT_CHALLENGE_KEY_MISSING = 5, 6
# The cause each of these exit codes stands for, without the stage's PRE_COMPUTE_/POST_COMPUTE_ prefix.
EXIT_CAUSES = {
    EXIT_REPORTING_FAILED: "EXIT_REPORTING_FAILED",
    EXIT_TASK_ID_MISSING: "TASK_ID_MISSING",
    EXIT_WORKER_ADDRESS_MISSING: "WORKER_ADDRESS_MISSING",
    EXIT_CHALLENGE_KEY_MISSING: "TEE_CHALLENGE_PRIVATE_KEY_MISSING",
}
