"""A replicate still computing when the task's contribution deadline passes is stopped with that cause
(issue 27 point 2: CONTRIBUTION_TIMEOUT as a replicate cause, provoked on a real devnet)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet_harness import Devnet, assert_provoked, is_final, run_cli

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "examples" / "apps" / "hello"


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    """One worker that computes until the contribution deadline has passed (`--fault 0:slow`)."""
    home = tmp_path_factory.mktemp("slow")
    status = run_cli("devnet", "start", "--workers", "1", "--fault", "0:slow", "--json", home=home, timeout=120).json()
    try:
        yield Devnet(home, status)
    finally:
        run_cli("devnet", "stop", home=home, check=False)


def test_a_replicate_computing_past_the_contribution_deadline_is_aborted_with_that_cause(slow: Devnet) -> None:
    # 3 s per task: contribution deadline 21 s, final deadline 30 s.
    category = str(slow.cli("category", "create", "TIGHT", "--max-time", "3", "--json").json()["category"])
    app = slow.deploy_app(HELLO)
    [task] = slow.cli("run", app, "--category", category, "--args", "late", "--json").json()["taskIds"]
    view = slow.debug_when(task, is_final, "a final status", 120)
    statuses = [s["status"] for s in view["statusHistory"]]
    assert statuses[-2:] == ["CONTRIBUTION_TIMEOUT", "FAILED"], statuses
    debug = assert_provoked(
        slow,
        task,
        status="ABORTED",
        cause="CONTRIBUTION_TIMEOUT",
        error="the scheduler asked it to abort (CONTRIBUTION_TIMEOUT)",
        component="scheduler",
        fix="longer category",
    )
    [replicate] = debug["replicates"]
    assert replicate["status"] == "ABORTED", replicate
