"""docs/debugging.md is generated from protocol/: it must match what the generator writes now."""

from pathlib import Path

from pocopool.protocol.docs import render
from pocopool.protocol.proofs import CAUSES, Proven
from pocopool.protocol.statuses import ReplicateStatus, ReplicateStatusCause, TaskStatus
from pocopool.protocol.task_causes import TaskFailureCause

DOC = Path(__file__).resolve().parents[2] / "docs" / "debugging.md"


def test_the_committed_debugging_doc_is_current() -> None:
    assert DOC.read_text() == render(), "run: python -m pocopool.protocol.docs > docs/debugging.md"


def test_every_status_and_cause_is_on_the_page() -> None:
    text = render()
    for member in [*TaskStatus, *ReplicateStatus, *ReplicateStatusCause, *TaskFailureCause]:
        assert f"`{member.value}`" in text, member


def test_the_page_says_how_each_cause_is_proven_and_counts_them_at_its_top() -> None:
    text = render()
    head = text.split("## ", 1)[0]
    proven = sum(isinstance(p, Proven) for p in CAUSES.values())
    assert f"{len(CAUSES)} replicate causes: {proven} proven by a test" in head
    causes = text.split("## Failure causes", 1)[1].splitlines()
    for cause, proof in CAUSES.items():
        if isinstance(proof, Proven):
            row = next(line for line in causes if line.startswith(f"| `{cause.value}` | "))
            assert row.endswith(f"| proven by `{proof.test}` |"), row
