"""A task on one time axis: `timeline(model, now)`, pure, over the scheduler's task model JSON.

Each task status and each replicate stage becomes a segment [start, end) in seconds since the
first record of the task; a segment of a failure status (or with a failure cause) is marked. The CLI
draws it as a text bar chart, the web UI as an SVG chart, and `--json` gives it as "timeline".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .statuses import ReplicateStatus as RS
from .statuses import TaskStatus as TS
from .waiting import iso, parse_time

_REPLICATE_FAILURES = {s for s in RS if s.value.endswith("_FAILED")} | {RS.FAILED, RS.WORKER_LOST}


def _task_failed(status: str) -> bool:
    try:
        return TS(status).is_failure
    except ValueError:
        return False


def _segments(entries: list[tuple[str, float, str | None]], origin: float, end: float, final: bool,
              failed: Any) -> list[dict[str, Any]]:
    segments = []
    for index, (status, start, cause) in enumerate(entries):
        stop = entries[index + 1][1] if index + 1 < len(entries) else (start if final else max(end, start))
        segment: dict[str, Any] = {
            "status": status, "start": round(start - origin, 3), "end": round(stop - origin, 3),
            "at": iso(start), "failure": bool(failed(status)),
        }
        if cause:
            segment["cause"] = cause
        segments.append(segment)
    return segments


def timeline(model: Mapping[str, Any] | None, now: float) -> dict[str, Any] | None:
    if not model:
        return None
    task_entries = [(c["status"], parse_time(c.get("date")), c.get("cause"))
                    for c in model.get("dateStatusList", [])]
    task_entries = [(s, t, c) for s, t, c in task_entries if t is not None]
    replicate_entries = []
    for replicate in model.get("replicates", []):
        entries = [(u["status"], parse_time(u.get("date")), u.get("cause"))
                   for u in replicate.get("statusUpdateList", [])]
        replicate_entries.append((replicate, [(s, t, c) for s, t, c in entries if t is not None]))
    times = [t for _, t, _ in task_entries] + [t for _, es in replicate_entries for _, t, _ in es]
    if not times:
        return None
    origin = min(times)
    task_final = model.get("currentStatus") in (TS.COMPLETED.value, TS.FAILED.value)
    end = max(times) if task_final else max(max(times), now)
    return {
        "origin": iso(origin),
        "duration": round(end - origin, 3),
        "task": _segments(task_entries, origin, end, task_final, _task_failed),
        "replicates": [
            {
                "worker": replicate.get("walletAddress"),
                "status": replicate.get("currentStatus"),
                "stages": _segments(entries, origin, end,
                                    task_final or replicate.get("currentStatus") in ("COMPLETED", "FAILED", "ABORTED",
                                                                                   "WORKER_LOST"),
                                    lambda s: s in {f.value for f in _REPLICATE_FAILURES}),
            }
            for replicate, entries in replicate_entries
        ],
    }
