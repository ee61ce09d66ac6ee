"""Disagreement explained (issue 27, point 6): a trust-3 task whose app writes the time ends with a
diagnosis that names the disagreement and the file that differed — on a devnet of three workers,
read through `pocopool task debug` as a requester reads it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from devnet_harness import Devnet, run_cli

REPO = Path(__file__).resolve().parents[2]
MISBEHAVE = REPO / "tests" / "e2e" / "apps" / "misbehave"
CATEGORY_SECONDS = 8  # contribution deadline 56 s: the app takes well under a second
WATCH = "150"
CONSTANT = "the same on every run"  # what the app writes into constant.txt: never shown

pytestmark = pytest.mark.e2e


def test_a_trust_3_task_whose_app_writes_the_time_is_diagnosed_with_the_file_that_differed(tmp_path: Path) -> None:
    home = tmp_path / "devnet"
    try:
        status = run_cli("devnet", "start", "--workers", "3", "--slots", "2", "--json", home=home, timeout=120).json()
        net = Devnet(home, status)
        category = net.cli("category", "create", "E2E-CLOCK", "--max-time", str(CATEGORY_SECONDS), "--json").json()
        app = net.deploy_app(MISBEHAVE)
        [task] = net.cli(
            "run", app, "--trust", "3", "--category", str(category["category"]), "--args", "clock", "--json"
        ).json()["taskIds"]
        net.cli("task", "show", task, "--watch", "--timeout", WATCH, "--json", check=False)
        debug = net.cli("task", "debug", task, "--json").json()
        assert debug["status"] == "FAILED", f"{json.dumps(debug, indent=1)}\n{net.logs()}"

        found = debug["disagreement"]
        assert found is not None, json.dumps(debug, indent=1)
        assert len(found["results"]) >= 2 and found["consensus"] is None
        assert all(len(result["workers"]) == 1 for result in found["results"])  # no two runs agreed
        assert found["differingFiles"] == ["time.txt"]
        assert "constant.txt" in found["sameFiles"] and "computed.json" in found["sameFiles"]
        assert found["filesNotMatching"] == [] and found["filesUnreported"] == []
        assert found["origin"] == "app"

        diagnosis = debug["diagnosis"]
        assert diagnosis["cause"] == "DIFFERENT_RESULTS" and diagnosis["stage"] == "consensus"
        assert diagnosis["summary"].startswith("The task ended CONTRIBUTION_TIMEOUT because its replicates disagreed")
        assert diagnosis["message"] == "files that differed: time.txt"
        assert "not be deterministic" in diagnosis["explanation"]
        assert "deterministic-output-path" in diagnosis["fix"] and "timestamps" in diagnosis["fix"]

        # the scheduler's public view gives variants, never the files' hashes
        view = net.task_view(task)
        assert view is not None
        reported = [r for r in view["replicates"] if r.get("contributionHash")]
        assert len(reported) == len(found["results"])
        assert sorted(r["resultFiles"]["time.txt"] for r in reported) == list(range(1, len(reported) + 1))
        assert {r["resultFiles"]["constant.txt"] for r in reported} == {1}
        assert all(r["resultFilesMatch"] is True for r in reported)
        assert not re.search(r"0x[0-9a-f]{64}", json.dumps([r["resultFiles"] for r in reported]))

        text = net.cli("task", "debug", task).stdout
        assert "Disagreement" in text and "files that differed: time.txt" in text, text
        assert "DIFFERENT_RESULTS" in text and "deterministic-output-path" in text, text
        assert CONSTANT not in text and CONSTANT not in json.dumps(debug)  # names only, never contents
    finally:
        run_cli("devnet", "stop", home=home, check=False)
