"""The registry of proof (protocol/proofs.py, issue 27): every replicate cause, task status and task cause is
in exactly one of proven (by a test that exists and names it) or unreachable (with a reason of its own).
A new cause or status fails here until it is placed in one of them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pocopool.protocol.proofs import CAUSES, TASK_CAUSES, TASK_STATUSES, Proven, Unreachable
from pocopool.protocol.statuses import ReplicateStatusCause, TaskStatus
from pocopool.protocol.task_causes import TaskFailureCause

REPO = Path(__file__).resolve().parents[2]
REGISTRIES = [(ReplicateStatusCause, CAUSES), (TaskStatus, TASK_STATUSES), (TaskFailureCause, TASK_CAUSES)]
IDS = ["causes", "task statuses", "task causes"]


@pytest.mark.parametrize(("enum", "registry"), REGISTRIES, ids=IDS)
def test_every_name_has_exactly_one_entry(enum, registry) -> None:
    assert list(registry) == list(enum)  # each once, in the enum's order (a dict cannot hold two)
    unplaced = [name for name, proof in registry.items() if not isinstance(proof, Proven | Unreachable)]
    assert unplaced == []  # neither provoked by a test nor unreachable with a reason: place it


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _helpers(file: Path) -> list[Path]:
    """The test module and the helper modules beside it that it imports (a harness that holds, say,
    the happy path both the LocalChain and the EVM e2e tests assert)."""
    found = [file]
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            helper = file.parent / f"{node.module}.py"
            if helper.is_file():
                found.append(helper)
    return found


def _named_in(file: Path) -> str:
    return "\n".join(path.read_text() for path in _helpers(file))


# The one proof helper (tests/proving.py) and the devnet's form of it.
PROVERS = {"assert_reported", "assert_task_failed", "assert_task_reached", "assert_provoked"}


def _calls_a_prover(file: Path, function: str) -> bool:
    """Whether `function` calls one of PROVERS, itself or through functions of its module (or of
    the helper modules beside it) that it calls or takes as fixtures."""
    defined: dict[str, ast.AST] = {}
    for path in _helpers(file):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                defined.setdefault(node.name, node)
    seen, todo = set(), [function]
    while todo:
        name = todo.pop()
        if name in PROVERS:
            return True
        if name in seen or name not in defined:
            continue
        seen.add(name)
        node = defined[name]
        todo += [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]  # calls, and names passed on
        todo += [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]
        todo += [a.arg for a in node.args.args]  # type: ignore[attr-defined]  # fixtures
    return False


@pytest.mark.parametrize(("enum", "registry"), REGISTRIES, ids=IDS)
def test_each_proof_names_a_test_that_exists_and_names_what_it_proves(enum, registry) -> None:
    wrong = []
    for member, proof in registry.items():
        if not isinstance(proof, Proven):
            continue
        path, _, function = proof.test.partition("::")
        file = REPO / path
        if not path.startswith("tests/") or "/unit/" in path or not file.is_file():
            wrong.append(f"{member.value}: {proof.test} is not an e2e or integration test file")
        elif function not in _functions(file):
            wrong.append(f"{member.value}: {path} has no {function}")
        elif not re.search(rf"(?<![A-Z_]){member.value}(?![A-Z_])", _named_in(file)):
            wrong.append(f"{member.value}: {path} never names it")
        elif not _calls_a_prover(file, function):
            wrong.append(f"{member.value}: {proof.test} proves it without the proof helper (tests/proving.py)")
    assert wrong == []


@pytest.mark.parametrize(("enum", "registry"), REGISTRIES, ids=IDS)
def test_reasons_are_sentences_of_their_own(enum, registry) -> None:
    reasons = [p.reason for p in registry.values() if isinstance(p, Unreachable)]
    assert all(len(reason) > 40 and reason.endswith(".") for reason in reasons)
    assert len(set(reasons)) == len(reasons)  # no blanket reason standing for many names
