"""diagnose(): the decisive failure of a task, from the scheduler's task model alone."""

from __future__ import annotations

from typing import Any

from pocopool.protocol.diagnosis import diagnose
from pocopool.protocol.explanations import all_cause_explanations, lookup
from pocopool.protocol.statuses import ReplicateStatusCause
from pocopool.protocol.task_causes import TaskFailureCause
from pocopool.protocol.task_explanations import explain_task_cause
from pocopool.protocol.views import TaskView

W1, W2 = "0x" + "11" * 20, "0x" + "22" * 20
TASK = "0x" + "33" * 32


def replicate(wallet: str, *updates: tuple[Any, ...]) -> dict[str, Any]:
    history = []
    for i, update in enumerate(updates):
        status, *rest = update
        entry: dict[str, Any] = {"status": status, "date": f"2026-01-01T00:00:{i:02d}Z"}
        if rest:
            entry["cause"] = rest[0]
        if len(rest) > 1:
            entry["errorMessage"] = rest[1]
        if len(rest) > 2:
            entry["exitCode"] = rest[2]
        history.append(entry)
    return {"chainTaskId": TASK, "walletAddress": wallet, "currentStatus": updates[-1][0], "statusUpdateList": history}


def task(
    status: str,
    *changes: str,
    replicates: list[dict[str, Any]] = (),
    message: str | None = None,
    cause: str | None = None,
) -> TaskView:
    history = [{"status": s, "date": "2026-01-01T00:00:00Z"} for s in changes]
    if message:
        history[-2]["message"] = message
    if cause:
        history[-2]["cause"] = cause
    return TaskView.model_validate(
        {
            "chainTaskId": TASK,
            "maxExecutionTime": 300_000,
            "tag": "0x" + "00" * 32,
            "dappName": "http://files/app.tar.gz",
            "trust": 1,
            "contributionDeadline": "2026-01-01T00:35:00Z",
            "finalDeadline": "2026-01-01T00:50:00Z",
            "currentStatus": status,
            "dateStatusList": history,
            "replicates": list(replicates),
        }
    )


START = [("CREATED",), ("STARTING",), ("STARTED",)]


def test_a_completed_task_with_a_normal_result_needs_no_diagnosis() -> None:
    done = replicate(W1, *START, ("COMPUTED", None, None, 0), ("CONTRIBUTED",), ("COMPLETED",))
    assert diagnose(task("COMPLETED", "RECEIVED", "COMPLETED", replicates=[done])) is None


def test_the_apps_own_error_wins_over_the_timeout_it_caused() -> None:
    failed = replicate(
        W1,
        *START,
        ("APP_DOWNLOADING",),
        ("APP_DOWNLOADED",),
        ("DATA_DOWNLOADING",),
        ("DATA_DOWNLOADED",),
        ("COMPUTING",),
        ("COMPUTE_FAILED", "APP_COMPUTE_FAILED", "the app exited with code 3", 3),
        ("ABORTED", "CONTRIBUTION_TIMEOUT"),
    )
    found = diagnose(task("FAILED", "RUNNING", "CONTRIBUTION_TIMEOUT", "FAILED", replicates=[failed]))
    assert found is not None
    assert (found["cause"], found["origin"], found["component"], found["stage"]) == (
        "APP_COMPUTE_FAILED",
        "app",
        "app",
        "compute",
    )
    assert found["replicate"] == W1 and found["message"] == "the app exited with code 3" and found["exitCode"] == 3
    assert "CONTRIBUTION_TIMEOUT" in found["summary"]


def test_bad_input_wins_over_a_platform_fault_and_the_earliest_wins_within_a_rank() -> None:
    poor = replicate(W1, ("CREATED",), ("STARTING",), ("START_FAILED", "STAKE_TOO_LOW", "free stake 0 < 30000000"))
    bad_data = replicate(
        W2,
        *START,
        ("APP_DOWNLOADING",),
        ("APP_DOWNLOADED",),
        ("DATA_DOWNLOADING",),
        ("DATA_DOWNLOAD_FAILED", "DATASET_FILE_BAD_CHECKSUM", "expected 0xaa, found 0xbb"),
    )
    found = diagnose(task("FAILED", "RUNNING", "CONTRIBUTION_TIMEOUT", "FAILED", replicates=[poor, bad_data]))
    assert found and found["cause"] == "DATASET_FILE_BAD_CHECKSUM" and found["origin"] == "input"
    assert found["stage"] == "data download" and found["message"] == "expected 0xaa, found 0xbb"


def test_a_lost_race_is_never_the_diagnosis_when_something_else_failed() -> None:
    loser = replicate(W1, *START, ("ABORTED", "CONSENSUS_REACHED"))
    poor = replicate(W2, ("CREATED",), ("STARTING",), ("START_FAILED", "STAKE_TOO_LOW", "no stake"))
    found = diagnose(task("FAILED", "RUNNING", "FINAL_DEADLINE_REACHED", "FAILED", replicates=[loser, poor]))
    assert found and found["cause"] == "STAKE_TOO_LOW" and found["stage"] == "start"


def test_an_error_result_on_a_completed_task_is_explained() -> None:
    errored = replicate(
        W1,
        *START,
        ("APP_DOWNLOADING",),
        ("APP_DOWNLOAD_FAILED", "APP_IMAGE_DOWNLOAD_FAILED", "404 GET http://x/app.tar.gz"),
        ("CONTRIBUTING",),
        ("CONTRIBUTED",),
        ("COMPLETED",),
    )
    found = diagnose(task("COMPLETED", "RECEIVED", "COMPLETED", replicates=[errored]))
    assert found and found["cause"] == "APP_IMAGE_DOWNLOAD_FAILED" and found["stage"] == "app download"
    assert found["summary"].startswith("The task completed, but its result is an error report")


def test_a_completed_task_whose_app_exited_non_zero_is_explained() -> None:
    partial = replicate(W1, *START, ("COMPUTING",), ("COMPUTED", None, None, 2), ("COMPLETED",))
    found = diagnose(task("COMPLETED", "RECEIVED", "COMPLETED", replicates=[partial]))
    assert found and found["cause"] == "APP_COMPUTE_FAILED" and found["exitCode"] == 2
    assert found["message"] == "the app exited with code 2"


def test_a_timeout_with_no_replicate_says_no_worker_took_the_task() -> None:
    found = diagnose(task("FAILED", "INITIALIZED", "CONTRIBUTION_TIMEOUT", "FAILED", message="deadline 12:00 passed"))
    assert found and found["cause"] == "CONTRIBUTION_TIMEOUT" and found["replicate"] is None
    assert "No worker ever took the task" in found["explanation"] and found["message"] == "deadline 12:00 passed"


def test_a_failure_no_replicate_explains_is_explained_by_the_tasks_own_cause() -> None:
    found = diagnose(task("FAILED", "REOPENING", "REOPEN_FAILED", "FAILED", cause="TASK_HAS_REVEALS", message="late"))
    assert found and found["cause"] == "TASK_HAS_REVEALS" and found["stage"] == "task"
    assert found["explanation"] == explain_task_cause(TaskFailureCause.TASK_HAS_REVEALS).explanation
    assert found["summary"] == "The task ended REOPEN_FAILED (TASK_HAS_REVEALS) with no replicate."
    assert found["message"] == "late"


def test_a_task_cause_stored_as_the_chains_rule_reads_as_its_task_cause() -> None:
    found = diagnose(task("FAILED", "FINALIZING", "FINALIZE_FAILED", "FAILED", cause="reveals-pending"))
    assert found and found["cause"] == "REVEALS_PENDING" and found["origin"] == "platform"


def test_a_worker_lost_is_a_platform_failure_at_the_stage_it_interrupted() -> None:
    lost = replicate(W1, *START, ("APP_DOWNLOADING",), ("WORKER_LOST",))
    found = diagnose(task("FAILED", "RUNNING", "FINAL_DEADLINE_REACHED", "FAILED", replicates=[lost]))
    assert (
        found and found["cause"] == "WORKER_LOST" and found["stage"] == "app download" and found["origin"] == "platform"
    )


def test_reveal_timeout_belongs_to_the_reveal_stage() -> None:
    silent = replicate(W1, *START, ("COMPUTED",), ("CONTRIBUTING",), ("CONTRIBUTED",), ("FAILED", "REVEAL_TIMEOUT"))
    found = diagnose(task("FAILED", "CONSENSUS_REACHED", "FINAL_DEADLINE_REACHED", "FAILED", replicates=[silent]))
    assert found and found["stage"] == "reveal" and found["cause"] == "REVEAL_TIMEOUT"


def test_a_running_task_with_a_failed_replicate_is_flagged_but_not_failed() -> None:
    failed = replicate(W1, ("CREATED",), ("STARTING",), ("START_FAILED", "STAKE_TOO_LOW", "no stake"))
    found = diagnose(task("RUNNING", "RECEIVED", "RUNNING", replicates=[failed]))
    assert found and found["summary"].startswith("Not failed (yet)")


def test_every_cause_has_an_explanation_and_a_fix() -> None:
    explanations = all_cause_explanations()
    assert set(explanations) == set(ReplicateStatusCause)
    for cause, explanation in explanations.items():
        assert explanation.explanation and explanation.fix, cause


def test_lookup_finds_statuses_and_causes_by_any_case() -> None:
    assert {e["kind"] for e in lookup("completed")["entries"]} == {"task status", "replicate status"}
    assert lookup("dataset-file-bad-checksum")["entries"][0]["origin"] == "input"
