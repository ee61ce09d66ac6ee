"""A task on one time axis: `timeline(task, now)`, pure, over the scheduler's task view.

Each task status and each replicate stage becomes a segment [start, end) in seconds since the
first record of the task; a segment of a failure status (or with a failure cause) is marked. The CLI
draws it as a text bar chart, the web UI as an SVG chart, and `--json` gives it as "timeline".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .statuses import ReplicateStatus as RS
from .statuses import TaskStatus as TS
from .time import iso, parse_time
from .views import TaskView

_REPLICATE_FAILURES = {s.value for s in RS if s.value.endswith("_FAILED")} | {RS.FAILED.value, RS.WORKER_LOST.value}
_REPLICATE_ENDED = {RS.COMPLETED, RS.FAILED, RS.ABORTED, RS.WORKER_LOST}

Entry = tuple[str, float, str | None]  # status, epoch seconds, cause


def _task_failed(status: str) -> bool:
    return TS(status).is_failure


def _segments(
    entries: list[Entry], origin: float, end: float, final: bool, failed: Callable[[str], bool]
) -> list[dict[str, Any]]:
    segments = []
    for index, (status, start, cause) in enumerate(entries):
        stop = entries[index + 1][1] if index + 1 < len(entries) else (start if final else max(end, start))
        segment: dict[str, Any] = {
            "status": status,
            "start": round(start - origin, 3),
            "end": round(stop - origin, 3),
            "at": iso(start),
            "failure": bool(failed(status)),
        }
        if cause:
            segment["cause"] = cause
        segments.append(segment)
    return segments


def timeline(task: TaskView | None, now: float) -> dict[str, Any] | None:
    """The task's segments and each replicate's, on one axis; None without any dated record."""
    if task is None:
        return None
    task_entries: list[Entry] = []
    for change in task.dateStatusList:
        at = parse_time(change.date)
        if at is not None:
            task_entries.append((change.status.value, at, change.cause))
    replicate_entries = []
    for replicate in task.replicates:
        entries: list[Entry] = []
        for update in replicate.statusUpdateList:
            at = parse_time(update.date)
            if at is not None:
                entries.append((update.status.value, at, update.cause.value if update.cause else None))
        replicate_entries.append((replicate, entries))
    times = [t for _, t, _ in task_entries] + [t for _, es in replicate_entries for _, t, _ in es]
    if not times:
        return None
    origin = min(times)
    task_final = task.currentStatus in (TS.COMPLETED, TS.FAILED)
    end = max(times) if task_final else max(max(times), now)
    return {
        "origin": iso(origin),
        "duration": round(end - origin, 3),
        "task": _segments(task_entries, origin, end, task_final, _task_failed),
        "replicates": [
            {
                "worker": replicate.walletAddress,
                "status": replicate.currentStatus.value,
                "stages": _segments(
                    entries,
                    origin,
                    end,
                    task_final or replicate.currentStatus in _REPLICATE_ENDED,
                    lambda s: s in _REPLICATE_FAILURES,
                ),
            }
            for replicate, entries in replicate_entries
        ],
    }
