"""One real task through every component: deal → scheduler → worker sandbox → chain → result store."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from devnet_harness import HAPPY_PATH, WORKER_PATH, Devnet
from proving import assert_task_reached

pytestmark = pytest.mark.e2e  # starts whole devnets: left out of `make test-fast`

REPO = Path(__file__).resolve().parents[2]


def test_hello_with_trust_1_completes_and_its_history_explains_it(devnet: Devnet, tmp_path: Path) -> None:
    app = devnet.deploy_app(REPO / "examples" / "apps" / "hello")
    run = devnet.cli("run", app, "--args", "pocopool e2e", "--json").json()
    assert set(run) >= {"dealId", "taskIds"} and len(run["taskIds"]) == 1
    task = run["taskIds"][0]

    watched = devnet.cli("task", "show", task, "--watch", "--timeout", "120", "--json", check=False)
    assert watched.code == 0, f"{watched.stderr}\n{devnet.logs()}"
    debug = devnet.cli("task", "debug", task, "--json").json()
    assert debug["taskId"] == task and debug["status"] == "COMPLETED" and debug["onchainStatus"] == "COMPLETED"
    assert [s["status"] for s in debug["statusHistory"]] == HAPPY_PATH
    assert_task_reached(debug, *HAPPY_PATH)
    assert all(s["date"] for s in debug["statusHistory"])
    [replicate] = debug["replicates"]
    assert [u["status"] for u in replicate["statusHistory"]] == WORKER_PATH
    assert replicate["worker"] in {w["wallet"] for w in devnet.status["workers"]}

    downloaded = devnet.cli("task", "download", task, str(tmp_path / "out"), "--json").json()
    assert "greeting.txt" in downloaded["files"]
    assert (tmp_path / "out" / "greeting.txt").read_text() == "Hello, pocopool e2e!\n"

    text = devnet.cli("task", "debug", task).stdout
    assert "COMPLETED" in text and "RESULT_UPLOADED" in text


def test_wordcount_counts_the_words_of_its_dataset(devnet: Devnet, tmp_path: Path) -> None:
    words = ["alpha", "beta", "gamma", "delta"] * 25 + ["omega"]
    dataset_file = tmp_path / "corpus.txt"
    dataset_file.write_text("\n".join(" ".join(words[i : i + 7]) for i in range(0, len(words), 7)) + "\n")
    dataset = devnet.cli("dataset", "deploy", str(dataset_file), "--json").json()["dataset"]
    app = devnet.deploy_app(REPO / "examples" / "apps" / "wordcount")
    task = devnet.cli("run", app, "--dataset", dataset, "--json").json()["taskIds"][0]
    watched = devnet.cli("task", "show", task, "--watch", "--timeout", "120", check=False)
    assert watched.code == 0, f"{watched.stdout}\n{watched.stderr}\n{devnet.logs()}"
    devnet.cli("task", "download", task, str(tmp_path / "out"))
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["words"] == len(words)


def test_ten_tasks_in_one_deal_complete_on_three_workers(devnet: Devnet) -> None:
    app = devnet.deploy_app(REPO / "examples" / "apps" / "hello")
    run = devnet.cli("run", app, "--tasks", "10", "--args", "batch", "--json").json()
    assert len(run["taskIds"]) == 10 and len(set(run["taskIds"])) == 10
    workers_used = set()
    for task in run["taskIds"]:
        watched = devnet.cli("task", "show", task, "--watch", "--timeout", "180", "--json", check=False)
        assert watched.code == 0, f"{task}: {watched.stderr}\n{devnet.logs()}"
        view = watched.json()
        assert view["status"] == "COMPLETED"
        assert len(view["replicates"]) == 1  # trust 1: one replicate per task
        workers_used.add(view["replicates"][0]["worker"])
    assert len(workers_used) >= 2, "the deal's tasks should spread over the workers"
    deal = devnet.cli("deal", "show", run["dealId"], "--json").json()
    assert deal["counts"] == {"COMPLETED": 10}


def test_the_sandbox_refuses_the_key_file_other_tasks_and_the_network(devnet: Devnet, tmp_path: Path) -> None:
    worker = devnet.status["workers"][0]
    state = json.loads((devnet.home / "devnet.json").read_text())
    key_file = next(w["keyFile"] for w in state["workers"] if w["wallet"] == worker["wallet"])
    other_task_dir = str(Path(next(w["workdir"] for w in state["workers"])))
    port = urlparse(devnet.status["scheduler"]).port
    app = devnet.deploy_app(REPO / "tests" / "e2e" / "apps" / "snoop")
    task = devnet.cli("run", app, "--args", f"{key_file} {other_task_dir} {port}", "--json").json()["taskIds"][0]
    watched = devnet.cli("task", "show", task, "--watch", "--timeout", "120", check=False)
    assert watched.code == 0, f"{watched.stdout}\n{watched.stderr}\n{devnet.logs()}"
    devnet.cli("task", "download", task, str(tmp_path / "out"))
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(report) == {"read-worker-key", "list-other-task", "connect-network"}
    for attempt, outcome in report.items():
        assert outcome.startswith("refused"), f"{attempt}: {outcome}"
    # The app's own account of the refusals is in its logs, kept with the result.
    stderr = (tmp_path / "out" / "stderr.txt").read_text()
    assert "read-worker-key: refused" in stderr and "connect-network: refused" in stderr


def test_devnet_status_lists_every_worker(devnet: Devnet) -> None:
    status = devnet.cli("devnet", "status", "--json").json()
    assert status["scheduler"].startswith("http://127.0.0.1:") and status["results"].startswith("http://127.0.0.1:")
    assert len(status["workers"]) == 3
    for worker in status["workers"]:
        assert worker["wallet"].startswith("0x") and worker["pid"] and worker["running"] and worker["alive"]


def test_bad_input_gets_one_line_and_no_traceback(devnet: Devnet, tmp_path: Path) -> None:
    cases = [
        ("task", "show", "0x12"),
        ("task", "debug", "0x" + "ab" * 32),
        ("run", "0x" + "00" * 19 + "01"),
        ("run", "not-an-address"),
        ("deal", "show", "0x" + "cd" * 32),
        ("app", "deploy", str(tmp_path / "missing")),
        ("dataset", "deploy", str(tmp_path / "missing.txt")),
        ("task", "download", "0x" + "ab" * 32, str(tmp_path / "x")),
    ]
    for args in cases:
        result = devnet.cli(*args, check=False)
        assert result.code != 0, args
        assert "Traceback" not in result.stderr + result.stdout, args
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
