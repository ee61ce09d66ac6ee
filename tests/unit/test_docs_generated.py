"""docs/debugging.md is generated from protocol/: it must match what the generator writes now."""

from pathlib import Path

from pocopool.protocol.docs import CANNOT_OCCUR, TEE_ONLY, render
from pocopool.protocol.statuses import ReplicateStatus, ReplicateStatusCause, TaskStatus
from pocopool.protocol.task_causes import TaskFailureCause

DOC = Path(__file__).resolve().parents[2] / "docs" / "debugging.md"


def test_the_committed_debugging_doc_is_current() -> None:
    assert DOC.read_text() == render(), "run: python -m pocopool.protocol.docs > docs/debugging.md"


def test_every_status_and_cause_is_on_the_page() -> None:
    text = render()
    for member in [*TaskStatus, *ReplicateStatus, *ReplicateStatusCause, *TaskFailureCause]:
        assert f"`{member.value}`" in text, member


def test_unreachable_causes_are_not_also_tee_causes() -> None:
    assert not set(CANNOT_OCCUR) & TEE_ONLY
