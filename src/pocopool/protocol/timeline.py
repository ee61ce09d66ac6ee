"""A task on one time axis: `timeline(task, now)`, pure, over the scheduler's task view.

Each task status and each replicate stage becomes a segment [start, end) in seconds since the
first record of the task, labelled with its phase (download, compute, reveal…); a segment of a
failure status (or with a failure cause) is marked. The CLI draws it as a text bar chart, the web UI
as an SVG chart, and `--json` gives it as "timeline".

`Axis` places those seconds on a drawing: linear when every change has room, otherwise warped so
that each interval between two changes gets a minimum share of the width and long waits are
shortened (a 0.3 s compute stays visible inside a 30 s task); both drawings label the moments where
the scale changes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from .statuses import ReplicateStatus as RS
from .statuses import TaskStatus as TS
from .time import iso, parse_time
from .views import TaskView

_REPLICATE_FAILURES = {s.value for s in RS if s.value.endswith("_FAILED")} | {RS.FAILED.value, RS.WORKER_LOST.value}
_REPLICATE_ENDED = {RS.COMPLETED, RS.FAILED, RS.ABORTED, RS.WORKER_LOST}

Entry = tuple[str, float, str | None]  # status, epoch seconds, cause


# What each stretch of a task or a replicate is spent on, for the labels of the drawings.
PHASES: dict[str, str] = {
    "RECEIVED": "initialize",
    "INITIALIZING": "initialize",
    "INITIALIZED": "wait for workers",
    "RUNNING": "contributions",
    "CONSENSUS_REACHED": "reveal",
    "AT_LEAST_ONE_REVEALED": "reveal",
    "RESULT_UPLOADING": "upload",
    "RESULT_UPLOADED": "finalize",
    "FINALIZING": "finalize",
    "REOPENING": "reopen",
    "REOPENED": "reopen",
    "CREATED": "start",
    "STARTING": "start",
    "STARTED": "download app",
    "APP_DOWNLOADING": "download app",
    "APP_DOWNLOADED": "download data",
    "DATA_DOWNLOADING": "download data",
    "DATA_DOWNLOADED": "compute",
    "COMPUTING": "compute",
    "COMPUTED": "contribute",
    "CONTRIBUTING": "contribute",
    "CONTRIBUTED": "wait for consensus",
    "REVEALING": "reveal",
    "REVEALED": "wait",
    "RESULT_UPLOAD_REQUESTED": "upload",
    "RECOVERING": "recover",
}


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
            "phase": "failure" if failed(status) else PHASES.get(status, status.lower().replace("_", " ")),
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


@dataclass(frozen=True)
class Axis:
    """Seconds since the origin → a position in [0, width] of a drawing, and the moments to label."""

    marks: tuple[float, ...]  # the moments where something changes, 0 and the end included
    positions: tuple[float, ...]  # where each mark is drawn
    linear: bool

    def at(self, seconds: float) -> float:
        if len(self.marks) < 2:
            return 0.0
        index = min(max(bisect_right(self.marks, seconds) - 1, 0), len(self.marks) - 2)
        (t0, t1), (x0, x1) = self.marks[index : index + 2], self.positions[index : index + 2]
        return x0 + (min(max(seconds, t0), t1) - t0) / (t1 - t0) * (x1 - x0) if t1 > t0 else x0

    def ticks(self, count: int = 5) -> list[tuple[float, float]]:
        """(seconds, position) to label: evenly spaced on a linear axis; on a warped one the ends and
        the moments around the longest waits, where the scale changes."""
        if self.linear or len(self.marks) <= 2:
            end = self.marks[-1] if self.marks else 0.0
            return [(end * i / (count - 1), self.at(end * i / (count - 1))) for i in range(count)]
        gaps = sorted(range(len(self.marks) - 1), key=lambda i: self.marks[i + 1] - self.marks[i], reverse=True)
        chosen = {0, len(self.marks) - 1}
        for index in gaps:
            if len(chosen) >= count:
                break
            chosen |= {index, index + 1}
        return [(self.marks[i], self.positions[i]) for i in sorted(chosen)][: max(count, 2)]


def axis(data: dict[str, Any], width: float, shortest: float) -> Axis:
    """The axis of a timeline drawn `width` wide: linear when every interval between two changes is
    at least `shortest` wide on it; otherwise each interval gets `shortest` (or less when there are
    too many) and the rest of the width is shared in proportion to time."""
    segments = list(data["task"]) + [s for r in data["replicates"] for s in r["stages"]]
    duration = max(float(data["duration"]), 0.0)
    marks = sorted({0.0, duration, *(float(s["start"]) for s in segments), *(float(s["end"]) for s in segments)})
    marks = [m for m in marks if 0.0 <= m <= duration]
    gaps = [b - a for a, b in pairwise(marks)]
    if not gaps or duration <= 0:
        return Axis((0.0, max(duration, 0.001)), (0.0, width), True)
    if min(gaps) / duration * width >= shortest:
        return Axis(tuple(marks), tuple(m / duration * width for m in marks), True)
    floor = min(shortest, width / len(gaps))
    spare = width - floor * len(gaps)
    positions = [0.0]
    for gap in gaps:
        positions.append(positions[-1] + floor + gap / duration * spare)
    return Axis(tuple(marks), tuple(positions), False)
