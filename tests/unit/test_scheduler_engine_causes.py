"""The task engine writes only `TaskFailureCause` members as a task's cause (decision 119): a plain
string is refused at construction, none is spelled in scheduler/, and each (status, cause) pair the
engine names is one the cause's table lists (so docs/debugging.md says where each cause appears)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pocopool.protocol.statuses import TaskStatus as TS
from pocopool.protocol.task_causes import WRITTEN_WITH, TaskFailureCause
from pocopool.scheduler.engine.transition import StatusChange

SCHEDULER = Path(__file__).resolve().parents[2] / "src" / "pocopool" / "scheduler"


def test_a_status_change_refuses_a_plain_string_as_its_cause() -> None:
    with pytest.raises(TypeError, match="TaskFailureCause"):
        StatusChange(TS.REOPEN_FAILED, "TASK_HAS_REVEALS")  # type: ignore[arg-type]
    assert StatusChange(TS.REOPEN_FAILED, TaskFailureCause.TASK_HAS_REVEALS).cause == "TASK_HAS_REVEALS"


def _cause_arguments(tree: ast.AST) -> list[tuple[str, ast.expr | None, ast.expr]]:
    """(function, status argument, cause argument) of every fail_task and StatusChange call."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        if node.func.id == "fail_task":
            status = node.args[1] if len(node.args) > 1 else keywords.get("status")
            cause = node.args[2] if len(node.args) > 2 else keywords.get("cause")
        elif node.func.id == "StatusChange":
            status = node.args[0] if node.args else keywords.get("status")
            cause = node.args[1] if len(node.args) > 1 else keywords.get("cause")
        else:
            continue
        if cause is not None:
            found.append((node.func.id, status, cause))
    return found


def _is_text(node: ast.expr) -> bool:
    """The expression holds a string literal: a cause spelled in place (`"X"`, `f"TASK_{s}"`, `rule or "X"`)."""
    return any(
        isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, str))
        for n in ast.walk(node)
    )


def test_the_scheduler_writes_no_task_cause_as_a_string() -> None:
    calls = [
        (path, *call) for path in SCHEDULER.rglob("*.py") for call in _cause_arguments(ast.parse(path.read_text()))
    ]
    assert len(calls) > 10  # the scan sees the engine's failures
    strings = [f"{path.relative_to(SCHEDULER)}:{cause.lineno}" for path, _, _, cause in calls if _is_text(cause)]
    assert strings == []


def test_each_cause_the_engine_names_is_written_with_a_status_its_table_lists() -> None:
    pairs = set()
    for path in SCHEDULER.rglob("*.py"):
        for _, status, cause in _cause_arguments(ast.parse(path.read_text())):
            if (
                isinstance(status, ast.Attribute)
                and isinstance(cause, ast.Attribute)
                and isinstance(cause.value, ast.Name)
                and cause.value.id == "TaskFailureCause"
            ):
                pairs.add((TS[status.attr], TaskFailureCause[cause.attr]))
    assert len(pairs) >= 10
    assert [(s, c) for s, c in sorted(pairs) if s not in WRITTEN_WITH[c]] == []
