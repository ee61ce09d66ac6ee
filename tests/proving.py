"""The one proof of a cause or a status (issue 27, protocol/proofs.py).

A test proves a name by provoking it for real and then calling one of these: the name was reached with
its cause, the message carries the underlying error, and what `pocopool explain` says of it (the same
data, read in-process) gives the expected component and a fix. tests/unit/test_proofs.py checks that
each proving test calls one of them.

- `assert_reported(reports, ...)`: a replicate reached `status` with `cause`; `reports` are
  (status, cause, message) triples, from a task's debug view (`replicate_reports`) or from what a real
  worker or enclave process reported.
- `assert_task_failed(view, ...)`: a task's history holds the failure status with its task cause.
- `assert_task_reached(view, *statuses)`: a task went through statuses that are no failure.

A view is a `task debug --json` view or the scheduler's own task view (`GET /tasks/{id}`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pocopool.protocol import explanations

Report = tuple[str, str | None, str | None]


def replicate_reports(view: Mapping[str, Any]) -> list[Report]:
    """Every (status, cause, message) of every replicate of a task, in order: of a `task debug --json`
    view, or of the scheduler's task view (`GET /tasks/{id}`)."""
    return [
        (update["status"], update.get("cause"), update.get("message") or update.get("errorMessage"))
        for replicate in view["replicates"]
        for update in replicate.get("statusHistory", replicate.get("statusUpdateList", []))
    ]


def _task_history(view: Mapping[str, Any]) -> list[Report]:
    changes = view.get("statusHistory", view.get("dateStatusList", []))
    return [(u["status"], u.get("cause"), u.get("message")) for u in changes]


def _explained(name: str, kind: str) -> dict[str, Any]:
    [entry] = [e for e in explanations.lookup(name)["entries"] if e["kind"] == kind]  # type: ignore[index,union-attr]
    return dict(entry)


def _assert_explanation(name: str, kind: str, component: str, fix: str) -> None:
    entry = _explained(name, kind)
    assert entry["component"] == component, f"{name} is explained as {entry['component']}'s, not {component}'s"
    assert fix in entry["fix"], f"{name}'s fix {entry['fix']!r} does not say {fix!r}"


def assert_reported(
    reports: Iterable[Report], *, status: str, cause: str, error: str, component: str, fix: str
) -> None:
    """A replicate reached `status` with `cause`, its message holds `error`, and the cause is explained
    as `component`'s with a fix holding `fix`."""
    reports = list(reports)
    matching = [message or "" for s, c, message in reports if s == status and c == cause]
    assert matching, f"no replicate reached {status} with {cause}: {reports}"
    assert any(error in message for message in matching), f"{status}/{cause} without {error!r}: {matching}"
    _assert_explanation(cause, "cause", component, fix)


def assert_task_failed(
    view: Mapping[str, Any], *, status: str, cause: str, error: str, component: str, fix: str
) -> None:
    """The task's history holds `status` with the task cause `cause` and a message holding `error`, and
    the cause is explained as `component`'s with a fix holding `fix`."""
    history = _task_history(view)
    matching = [message or "" for s, c, message in history if s == status and c == cause]
    assert matching, f"the task never reached {status} with {cause}: {history}"
    assert any(error in message for message in matching), f"{status}/{cause} without {error!r}: {matching}"
    _assert_explanation(cause, "task cause", component, fix)


def assert_task_reached(view: Mapping[str, Any], *statuses: str) -> None:
    """The task's history holds `statuses` in this order (others may come between), each a task status
    `pocopool explain` describes."""
    history = [status for status, _, _ in _task_history(view)]
    rest = iter(history)
    missing = [status for status in statuses if status not in rest]  # `in` consumes: order is kept
    assert not missing, f"the task's history {history} lacks {missing} in the order {list(statuses)}"
    for status in statuses:
        _explained(status, "task status")
