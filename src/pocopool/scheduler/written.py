"""The task as a written transition leaves it, without reading the store again (issue 14).

The updater decides on a task, writes the transition (guarded by the status it read), and decides
again until the engine has nothing more to do. After a step with no outside call (no transaction, no
SMS call), the next decision reads the state `written` gives: the one the store now holds, as
`Store.load` would return it (tests/integration/scheduler/test_scheduler_store.py compares the two).
A replicate status written meanwhile by a worker asks for another update of the task, which loads it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .engine import Transition
from .state import ReplicateEntry, ReplicateRecord, TaskState


def written(
    task: TaskState, replicates: list[ReplicateRecord], transition: Transition, now: float
) -> tuple[TaskState, list[ReplicateRecord]]:
    """`task` and `replicates` once `transition` is written at `now` (store/tasks.py write_transition)."""
    changes: dict[str, Any] = dict(transition.fields)
    if transition.new_status is not None:
        changes.update(status=transition.new_status, status_date=now)
    changed = {change.wallet.lower(): change.accepted for change in transition.replicates}
    records = []
    for record in replicates:
        accepted = changed.get(record.wallet.lower())
        if accepted is None:
            records.append(record)
            continue
        entry = accepted.entry
        update: dict[str, Any] = {
            "history": (*record.history, ReplicateEntry(entry.status, entry.date, entry.modifier, entry.cause))
        }
        if accepted.contribution is not None:
            update["contribution_hash"], update["worker_weight"] = accepted.contribution
        if accepted.result_link is not None:
            update["result_link"] = accepted.result_link
        if accepted.callback_data is not None:
            update["callback_data"] = accepted.callback_data
        records.append(replace(record, **update))
    return replace(task, **changes), records
