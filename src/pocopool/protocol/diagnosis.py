"""The decisive failure of a task, explained: which replicate, which stage, which cause, whose.

`diagnose` is pure: it reads the scheduler's task view (`GET /tasks/{id}` as a `TaskView`) and
returns a plain dict. The CLI, the API and the web UI all call it, so a task
explains itself the same way everywhere.

How the decisive failure is chosen: among every failure the replicates reported, the app's own
errors come first, then bad inputs (a dataset, an input file, the bundle), then platform faults,
and last the protocol's normal outcomes (a lost race, consensus reached without this worker),
which are consequences rather than causes. Within a rank, the earliest failure wins. When no
replicate failed for a reason of its own but the replicates contributed different results, that
disagreement is the diagnosis (protocol/disagreement.py), also of a task that completed. When
nothing of the replicates explains the failure, the task's own cause does (the one the scheduler
wrote with the failure status), else the failure status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .disagreement import disagreement_diagnosis
from .explanations import TASK_FAILURES, Explanation, Origin, explain_cause
from .statuses import (
    Component,
)
from .statuses import (
    ReplicateStatus as RS,
)
from .statuses import (
    ReplicateStatusCause as Cause,
)
from .statuses import (
    TaskStatus as TS,
)
from .task_causes import TaskFailureCause
from .task_explanations import explain_task_cause
from .transitions import CONTRIBUTABLE_FAILURES
from .views import ReplicateStatusUpdateView, TaskView

_STAGE_OF: dict[RS, str] = {
    RS.CREATED: "assignment",
    RS.STARTING: "start",
    RS.START_FAILED: "start",
    RS.STARTED: "start",
    RS.APP_DOWNLOADING: "app download",
    RS.APP_DOWNLOAD_FAILED: "app download",
    RS.APP_DOWNLOADED: "app download",
    RS.DATA_DOWNLOADING: "data download",
    RS.DATA_DOWNLOAD_FAILED: "data download",
    RS.DATA_DOWNLOADED: "data download",
    RS.COMPUTING: "compute",
    RS.COMPUTE_FAILED: "compute",
    RS.COMPUTED: "compute",
    RS.CONTRIBUTING: "contribute",
    RS.CONTRIBUTE_FAILED: "contribute",
    RS.CONTRIBUTED: "contribute",
    RS.REVEALING: "reveal",
    RS.REVEAL_FAILED: "reveal",
    RS.REVEALED: "reveal",
    RS.RESULT_UPLOAD_REQUESTED: "upload",
    RS.RESULT_UPLOADING: "upload",
    RS.RESULT_UPLOAD_FAILED: "upload",
    RS.RESULT_UPLOADED: "upload",
    RS.CONTRIBUTE_AND_FINALIZE_ONGOING: "contribute and finalize",
    RS.CONTRIBUTE_AND_FINALIZE_FAILED: "contribute and finalize",
    RS.CONTRIBUTE_AND_FINALIZE_DONE: "contribute and finalize",
    RS.COMPLETING: "complete",
    RS.COMPLETE_FAILED: "complete",
    RS.COMPLETED: "complete",
}
_RANK = {Origin.APP: 0, Origin.INPUT: 1, Origin.PLATFORM: 2, Origin.PROTOCOL: 3}
_WORKER_LOST = Explanation(
    Component.WORKER,
    Origin.PLATFORM,
    "The worker stopped answering the scheduler while it held this replicate.",
    "Nothing for the requester if another worker finished the task; the worker's operator should check why it stopped.",
)


def _stage_at(history: list[ReplicateStatusUpdateView], index: int, cause: Cause | None) -> str:
    """The stage a failure belongs to: a stage's own outcome names it; an interruption (ABORTED,
    FAILED, WORKER_LOST) names the stage it interrupted; a reveal timeout belongs to the reveal."""
    if cause is Cause.REVEAL_TIMEOUT:
        return "reveal"
    status = history[index].status
    if status in _STAGE_OF:
        return _STAGE_OF[status]
    for update in reversed(history[:index]):
        if update.status in _STAGE_OF:
            return _STAGE_OF[update.status]
    return "assignment"


def _candidates(task: TaskView) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for replicate in task.replicates:
        history = list(replicate.statusUpdateList)
        for index, update in enumerate(history):
            status, cause = update.status, update.cause
            if cause is not None:
                explanation = explain_cause(cause)
            elif status is RS.WORKER_LOST:
                explanation = _WORKER_LOST
            elif status is RS.COMPUTED and update.exitCode not in (None, 0):
                cause = Cause.APP_COMPUTE_FAILED
                explanation = explain_cause(cause)
            else:
                continue
            found.append(
                {
                    "replicate": replicate.walletAddress,
                    "status": status.value,
                    "stage": _stage_at(history, index, cause),
                    "cause": cause.value if cause else status.value,
                    "message": update.errorMessage or _exit_message(update.exitCode),
                    "exitCode": update.exitCode,
                    "date": update.date,
                    "explanation": explanation,
                    "contributable": bool(status in CONTRIBUTABLE_FAILURES and cause in CONTRIBUTABLE_FAILURES[status]),
                }
            )
    return found


def _exit_message(exit_code: int | None) -> str | None:
    return f"the app exited with code {exit_code}" if exit_code not in (None, 0) else None


def _task_failure(task: TaskView) -> tuple[TS | None, TaskFailureCause | None, str | None]:
    for change in reversed(task.dateStatusList):
        if change.status.is_failure:
            return change.status, TaskFailureCause.parse(change.cause), change.message
    return None, None, None


def _order(candidate: dict[str, Any]) -> tuple[int, datetime]:
    return _RANK[candidate["explanation"].origin], candidate["date"]


def _result(candidate: dict[str, Any], task_status: str, summary: str) -> dict[str, Any]:
    explanation: Explanation = candidate["explanation"]
    return {
        "taskStatus": task_status,
        "summary": summary,
        "cause": candidate["cause"],
        "component": explanation.component.value,
        "origin": explanation.origin.value,
        "replicate": candidate["replicate"],
        "stage": candidate["stage"],
        "message": candidate["message"],
        "exitCode": candidate["exitCode"],
        "explanation": explanation.explanation,
        "fix": explanation.fix,
    }


def diagnose(task: TaskView) -> dict[str, Any] | None:
    """The decisive failure of a task, or None when there is nothing to explain (yet).

    A COMPLETED task is explained only if its result is an error result (a download failed and
    the error was contributed) or the app exited non-zero: the requester must know that the
    result it downloads is an error report.
    """
    status = task.currentStatus
    candidates = sorted(_candidates(task), key=_order)
    if status is TS.COMPLETED:
        errors = [c for c in candidates if c["contributable"] or c["cause"] == Cause.APP_COMPUTE_FAILED.value]
        if not errors:
            return disagreement_diagnosis(task, None)
        decisive = errors[0]
        what = "an error report" if decisive["contributable"] else "the output of an app that failed"
        return _result(
            decisive,
            status.value,
            f"The task completed, but its result is {what}: {decisive['cause']} at {decisive['stage']}.",
        )
    failure, task_cause, task_message = _task_failure(task)
    if status is not TS.FAILED and failure is None:
        if candidates and _RANK[candidates[0]["explanation"].origin] < _RANK[Origin.PROTOCOL]:
            decisive = candidates[0]
            return _result(
                decisive,
                status.value,
                f"Not failed (yet), but a replicate failed: {decisive['cause']} at {decisive['stage']}.",
            )
        return disagreement_diagnosis(task, None)
    informative = [c for c in candidates if c["explanation"].origin is not Origin.PROTOCOL]
    if informative:
        decisive = informative[0]
        ended = f" and the task ended {failure.value}" if failure else ""
        return _result(
            decisive, status.value, f"{decisive['cause']} at {decisive['stage']} on {decisive['replicate']}{ended}."
        )
    disagreed = disagreement_diagnosis(task, failure.value if failure else None)
    if disagreed is not None:  # the replicates' disagreement explains a task-level failure
        return disagreed
    explanation = explain_task_cause(task_cause) if task_cause else None
    if explanation is None and failure is not None:
        explanation = TASK_FAILURES.get(failure)
    if explanation is None:
        explanation = Explanation(
            Component.SCHEDULER,
            Origin.PLATFORM,
            "The task failed without a recorded cause.",
            "Read the task's status history and the scheduler's log.",
        )
    no_replicate = not task.replicates
    explained = explanation.explanation
    if no_replicate and failure in (TS.CONTRIBUTION_TIMEOUT, TS.FINAL_DEADLINE_REACHED):
        explained += " No worker ever took the task: none was alive, free, or able to run it."
    ended = failure.value if failure else "FAILED"
    return {
        "taskStatus": status.value,
        "summary": f"The task ended {ended}"
        + (f" ({task_cause.value})" if task_cause and task_cause.value != ended else "")
        + (" with no replicate." if no_replicate else "."),
        "cause": task_cause.value if task_cause else ended,
        "component": explanation.component.value,
        "origin": explanation.origin.value,
        "replicate": None,
        "stage": "task",
        "message": task_message,
        "exitCode": None,
        "explanation": explained,
        "fix": explanation.fix,
    }
