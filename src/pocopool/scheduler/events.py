"""Live status events (`GET /events`, served by http/events.py): the rows as events, and their cursor.

The stream is a view of the status histories, not a second source of truth: each event is one
stored row (a task status change or a replicate status update), read back from the database after
the commit that wrote it. The event id is `<last task change id>-<last replicate update id>`, so a
client that reconnects with `Last-Event-ID` (or `?after=`) gets exactly what it missed, even after a
scheduler restart. The scheduler's status wake-ups (a `Wakeups`) only wakes the open streams when the
store says it wrote statuses; streams also re-read the database every few seconds, so a write of
another process is never missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def parse_cursor(value: str | None) -> tuple[int, int]:
    """`"12-40"` -> (12, 40); anything unreadable starts from the beginning."""
    if not value:
        return 0, 0
    try:
        task_part, replicate_part = value.strip().split("-", 1)
        return max(int(task_part), 0), max(int(replicate_part), 0)
    except ValueError:
        return 0, 0


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def merge_events(
    task_rows: list[Mapping[str, Any]], replicate_rows: list[Mapping[str, Any]], cursor: tuple[int, int]
) -> list[tuple[str, str, dict[str, Any]]]:
    """The rows as (event id, event name, data), in time order; each id covers everything before it."""
    items: list[tuple[Any, int, str, Mapping[str, Any]]] = [(row["date"], 0, "task", row) for row in task_rows] + [
        (row["date"], 1, "replicate", row) for row in replicate_rows
    ]
    items.sort(key=lambda item: (item[0], item[1], item[3]["id"]))
    task_cursor, replicate_cursor = cursor
    events = []
    for _, _, kind, row in items:
        if kind == "task":
            task_cursor = max(task_cursor, row["id"])
            data = {
                "type": "task",
                "chainTaskId": row["task_id"],
                "dealId": row["deal_id"],
                "status": row["status"],
                "date": _date(row["date"]),
                "cause": row["cause"],
                "message": row["message"],
            }
        else:
            replicate_cursor = max(replicate_cursor, row["id"])
            data = {
                "type": "replicate",
                "chainTaskId": row["task_id"],
                "dealId": row["deal_id"],
                "walletAddress": row["wallet"],
                "status": row["status"],
                "date": _date(row["date"]),
                "cause": row["cause"],
            }
        events.append((f"{task_cursor}-{replicate_cursor}", kind, {k: v for k, v in data.items() if v is not None}))
    return events
