"""Every standard-task failure cause that can happen here, provoked the way users meet it.

Each scenario runs on a real devnet; `task debug --json` must name the replicate status, the cause,
the underlying error and the task's final status, and the diagnosis must say whose fault it is
and what to do. All scenarios start together so the module runs in the time of the slowest one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from devnet_harness import Devnet, is_final, run_cli
from pocopool.chain import connect
from pocopool.chain.base import DealRequest
from pocopool.protocol.params import DealParams
from proving import assert_reported, replicate_reports

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
MISBEHAVE = REPO / "tests" / "e2e" / "apps" / "misbehave"
FAST_SECONDS = 3  # category max time: contribution deadline 21 s, final deadline 30 s


@dataclass
class Scenario:
    task: str
    files: dict[str, Any] = field(default_factory=dict)


def _bundle_copy(tmp: Path, name: str) -> Path:
    """A copy of the misbehave bundle with its own checksum, so breaking it breaks nobody else's."""
    target = tmp / name
    shutil.copytree(MISBEHAVE, target)
    (target / "variant.txt").write_text(name)
    return target


def _served_path(net: Devnet, url: str) -> Path:
    return net.home / "files" / url.split("/", 3)[3]


def _run(net: Devnet, app: str, *extra: str) -> str:
    return net.cli("run", app, *extra, "--json").json()["taskIds"][0]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Devnet, dict[str, Scenario]]]:
    home = tmp_path_factory.mktemp("matrix-devnet")
    tmp = tmp_path_factory.mktemp("matrix-assets")
    status = run_cli("devnet", "start", "--workers", "2", "--slots", "3", "--json", home=home, timeout=120).json()
    net = Devnet(home, status)
    try:
        fast = str(net.cli("category", "create", "FAST", "--max-time", str(FAST_SECONDS), "--json").json()["category"])
        app = net.deploy_app(MISBEHAVE)
        scenarios: dict[str, Scenario] = {}

        broken = net.cli("app", "deploy", str(_bundle_copy(tmp, "gone")), "--json").json()
        _served_path(net, broken["url"]).unlink()
        scenarios["bundle-404"] = Scenario(_run(net, broken["app"], "--args", "ok"), {"url": broken["url"]})

        tampered = net.cli("app", "deploy", str(_bundle_copy(tmp, "tampered")), "--json").json()
        served = _served_path(net, tampered["url"])
        served.write_bytes(served.read_bytes() + b"tampered")
        scenarios["bundle-bad-checksum"] = Scenario(
            _run(net, tampered["app"], "--args", "ok"), {"checksum": tampered["checksum"]}
        )

        for name, damage in (("dataset-404", "delete"), ("dataset-bad-checksum", "edit")):
            corpus = tmp / f"{name}.txt"
            corpus.write_text("some words to count\n")
            dataset = net.cli("dataset", "deploy", str(corpus), "--json").json()
            path = _served_path(net, dataset["url"])
            path.unlink() if damage == "delete" else path.write_text("other words entirely\n")
            scenarios[name] = Scenario(
                _run(net, app, "--dataset", dataset["dataset"], "--args", "ok"), {"url": dataset["url"]}
            )

        missing_input = f"{status['files']}/nothing-here.txt"
        scenarios["input-file-404"] = Scenario(
            _run(net, app, "--input-file", missing_input, "--args", "ok"), {"url": missing_input}
        )
        missing_inputs = [f"{status['files']}/first-missing.txt", f"{status['files']}/second-missing.txt"]
        scenarios["two-inputs-404"] = Scenario(
            _run(net, app, "--input-file", missing_inputs[0], "--input-file", missing_inputs[1], "--args", "ok"),
            {"urls": " ".join(missing_inputs)},
        )
        scenarios["three-long-names"] = Scenario(_run(net, app, "--args", "long-names"))
        # On the default category (contribution deadline 35 min): only RUNNING_FAILED can end them in time.
        scenarios["app-exit"] = Scenario(_run(net, app, "--args", "exit 3"))
        scenarios["app-exit-with-result"] = Scenario(_run(net, app, "--args", "exit-with-result 2"))
        scenarios["app-timeout"] = Scenario(_run(net, app, "--category", fast, "--args", "sleep 60"))
        scenarios["long-file-name"] = Scenario(_run(net, app, "--args", "long-name"))
        scenarios["no-computed-json"] = Scenario(_run(net, app, "--args", "no-computed"))
        scenarios["bad-output-path"] = Scenario(_run(net, app, "--args", "bad-path"))
        scenarios["result-encryption-on-a-standard-task"] = Scenario(_encrypted_deal(net, app, int(fast)))
        yield net, scenarios
    finally:
        run_cli("devnet", "stop", home=home, check=False)


def _encrypted_deal(net: Devnet, app: str, category: int) -> str:
    """A deal asking for result encryption, which only TEE tasks can do (the CLI cannot ask it)."""
    state = json.loads((net.home / "devnet.json").read_text())
    requester = Account.from_key(Path(state["keys"]["requester"]).read_text().strip())
    chain = connect(state["chain"])
    try:
        receipt = chain.create_deal(
            requester,
            DealRequest(
                app=app,
                workerpool=state["workerpool"],
                category=category,
                params=DealParams(iexec_args="ok", iexec_result_encryption=True).to_json(),
            ),
        )
        deal = chain.view_deal(receipt.return_value)
        assert deal is not None
        return deal.task_ids()[0]
    finally:
        chain.close()


def _final_debug(net: Devnet, task: str, timeout: float = 150.0) -> dict[str, Any]:
    return net.debug_when(task, is_final, "a final status", timeout)


def _failures(view: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [
        (u["status"], u.get("cause"), u.get("message"))
        for r in view["replicates"]
        for u in r["statusHistory"]
        if u.get("cause")
    ]


def _assert_explained(
    net: Devnet, task: str, view: dict[str, Any], status: str | None, cause: str, origin: str, message_part: str
) -> None:
    """`task debug` leads with the cause: its diagnosis names it, whose it is and a fix, in JSON and in
    text; and, when a replicate reported it with `status`, the cause is proven (tests/proving.py:
    status, cause, underlying error, and the diagnosis's component and fix)."""
    diagnosis = view["diagnosis"]
    assert diagnosis is not None, view
    assert set(diagnosis) >= {"cause", "component", "replicate", "stage", "message", "explanation", "fix"}
    if status is not None:
        assert_reported(
            replicate_reports(view),
            status=status,
            cause=cause,
            error=message_part,
            component=diagnosis["component"],
            fix=diagnosis["fix"],
        )
    assert diagnosis["cause"] == cause, diagnosis
    assert diagnosis["origin"] == origin, diagnosis
    assert diagnosis["fix"] and diagnosis["explanation"]
    assert message_part in (diagnosis["message"] or ""), diagnosis
    text = net.cli("task", "debug", task).stdout
    assert cause in text and diagnosis["fix"] in text and message_part in text


@pytest.mark.parametrize(
    ("scenario", "status", "cause", "message_part"),
    [
        ("bundle-404", "APP_DOWNLOAD_FAILED", "APP_IMAGE_DOWNLOAD_FAILED", "404"),
        ("bundle-bad-checksum", "APP_DOWNLOAD_FAILED", "APP_IMAGE_DOWNLOAD_FAILED", "expected"),
        ("dataset-404", "DATA_DOWNLOAD_FAILED", "DATASET_FILE_DOWNLOAD_FAILED", "404"),
        ("dataset-bad-checksum", "DATA_DOWNLOAD_FAILED", "DATASET_FILE_BAD_CHECKSUM", "expected"),
        ("input-file-404", "DATA_DOWNLOAD_FAILED", "INPUT_FILES_DOWNLOAD_FAILED", "404"),
    ],
)
def test_download_failures_are_contributed_as_error_results(
    matrix: tuple[Devnet, dict[str, Scenario]],
    scenario: str,
    status: str,
    cause: str,
    message_part: str,
    tmp_path: Path,
) -> None:
    net, scenarios = matrix
    task = scenarios[scenario].task
    view = _final_debug(net, task)
    assert view["status"] == "COMPLETED", f"an error result still reaches consensus: {json.dumps(view, indent=1)}"
    assert (status, cause) in [(s, c) for s, c, _ in _failures(view)], _failures(view)
    _assert_explained(net, task, view, status, cause, "input", message_part)
    assert view["diagnosis"]["summary"].startswith("The task completed, but its result is an error report")
    net.cli("task", "download", task, str(tmp_path))
    error = (tmp_path / "error.txt").read_text()
    assert (
        error
        == f"[IEXEC] Errors occurred while computing the task [error:{status}, causes:[WorkflowError[cause={cause}, message=]]]"
    )


@pytest.mark.parametrize(
    ("scenario", "cause", "message_part", "endings"),
    [
        ("app-exit", "APP_COMPUTE_FAILED", "3", {"RUNNING_FAILED"}),
        # 3 s max time: the contribution deadline (21 s) may come before both workers timed out.
        ("app-timeout", "APP_COMPUTE_TIMEOUT", "3", {"RUNNING_FAILED", "CONTRIBUTION_TIMEOUT"}),
        (
            "long-file-name",
            "POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME",
            "a-result-file-name-longer-than-31-characters.txt",
            {"RUNNING_FAILED"},
        ),
        ("no-computed-json", "POST_COMPUTE_COMPUTED_FILE_NOT_FOUND", "computed.json", {"RUNNING_FAILED"}),
        ("bad-output-path", "POST_COMPUTE_RESULT_DIGEST_COMPUTATION_FAILED", "missing.txt", {"RUNNING_FAILED"}),
    ],
)
def test_app_failures_without_a_result_fail_the_task_and_blame_the_app(
    matrix: tuple[Devnet, dict[str, Scenario]],
    scenario: str,
    cause: str,
    message_part: str,
    endings: set[str],
) -> None:
    """A failure every worker meets ends the task as soon as every alive worker met it (decision 111),
    not at the contribution deadline; no replicate shows UNKNOWN while its cause is known."""
    net, scenarios = matrix
    task = scenarios[scenario].task
    view = _final_debug(net, task)
    assert view["status"] == "FAILED"
    ended = [s["status"] for s in view["statusHistory"] if s["status"] in ("RUNNING_FAILED", "CONTRIBUTION_TIMEOUT")]
    assert len(ended) == 1 and ended[0] in endings, view["statusHistory"]
    assert ("COMPUTE_FAILED", cause) in [(s, c) for s, c, _ in _failures(view)], _failures(view)
    if ended == ["RUNNING_FAILED"]:
        assert len(view["replicates"]) == 2  # both workers of the devnet met it
        [change] = [s for s in view["statusHistory"] if s["status"] == "RUNNING_FAILED"]
        assert change.get("cause") == "ALL_ALIVE_WORKERS_FAILED", change
    for replicate in view["replicates"]:
        history = replicate["statusHistory"]
        failed = [u.get("cause") for u in history if u["status"] == "COMPUTE_FAILED"]
        aborted = [u.get("cause") for u in history if u["status"] == "ABORTED"]
        assert "UNKNOWN" not in aborted, history
        if failed:  # an abort after the replicate's own failure says that failure
            assert aborted in ([], failed), history
    _assert_explained(net, task, view, "COMPUTE_FAILED", cause, "app", message_part)
    assert view["diagnosis"]["stage"] == "compute"
    assert view["diagnosis"]["component"] == "app"


def test_an_app_that_fails_after_writing_a_result_completes_and_says_so(
    matrix: tuple[Devnet, dict[str, Scenario]],
) -> None:
    net, scenarios = matrix
    task = scenarios["app-exit-with-result"].task
    view = _final_debug(net, task)
    assert view["status"] == "COMPLETED"
    [replicate] = view["replicates"]
    assert replicate["exitCode"] == 2
    # the replicate completed: the diagnosis reads the app's exit code, no replicate reported a cause
    _assert_explained(net, task, view, None, "APP_COMPUTE_FAILED", "app", "2")
    assert "the output of an app that failed" in view["diagnosis"]["summary"]


def test_a_worker_without_stake_refuses_the_task_and_says_why(tmp_path: Path) -> None:
    home = tmp_path / "poor-devnet"
    status = run_cli("devnet", "start", "--workers", "1", "--json", home=home, timeout=120).json()
    net = Devnet(home, status)
    try:
        state = json.loads((home / "devnet.json").read_text())
        worker = Account.from_key((Path(state["workers"][0]["keyFile"])).read_text().strip())
        chain = connect(state["chain"])
        try:
            balance = chain.view_account(worker.address).balance
            chain.transfer(worker, state["requester"], balance)
        finally:
            chain.close()
        fast = str(net.cli("category", "create", "FAST", "--max-time", str(FAST_SECONDS), "--json").json()["category"])
        app = net.deploy_app(MISBEHAVE)
        task = _run(net, app, "--category", fast, "--args", "ok")
        view = _final_debug(net, task)
        assert view["status"] == "FAILED"
        assert ("START_FAILED", "STAKE_TOO_LOW") in [(s, c) for s, c, _ in _failures(view)], _failures(view)
        _assert_explained(net, task, view, "START_FAILED", "STAKE_TOO_LOW", "platform", "stake")
        assert view["diagnosis"]["stage"] == "start" and view["diagnosis"]["component"] == "worker"
    finally:
        run_cli("devnet", "stop", home=home, check=False)


def test_a_deal_asking_what_a_standard_task_cannot_do_is_refused_at_start(
    matrix: tuple[Devnet, dict[str, Scenario]],
) -> None:
    net, scenarios = matrix
    task = scenarios["result-encryption-on-a-standard-task"].task
    view = _final_debug(net, task)
    assert view["status"] == "FAILED"
    assert ("START_FAILED", "TASK_DESCRIPTION_INVALID") in [(s, c) for s, c, _ in _failures(view)], _failures(view)
    _assert_explained(net, task, view, "START_FAILED", "TASK_DESCRIPTION_INVALID", "input", "encryption")
    assert view["diagnosis"]["stage"] == "start"


def test_a_result_store_that_is_down_keeps_the_root_cause(tmp_path: Path) -> None:
    home = tmp_path / "no-store-devnet"
    status = run_cli("devnet", "start", "--workers", "1", "--json", home=home, timeout=120).json()
    net = Devnet(home, status)
    try:
        fast = str(net.cli("category", "create", "FAST", "--max-time", str(FAST_SECONDS), "--json").json()["category"])
        app = net.deploy_app(MISBEHAVE)
        results_pid = json.loads((home / "devnet.json").read_text())["processes"]["results"]["pid"]
        os.kill(results_pid, signal.SIGTERM)
        task = _run(net, app, "--category", fast, "--args", "ok")
        view = _final_debug(net, task)
        assert view["status"] == "FAILED"
        assert ("RESULT_UPLOAD_FAILED", "RESULT_LINK_MISSING") in [(s, c) for s, c, _ in _failures(view)], _failures(
            view
        )
        _assert_explained(net, task, view, "RESULT_UPLOAD_FAILED", "RESULT_LINK_MISSING", "platform", status["results"])
        assert view["diagnosis"]["component"] == "storage" and view["diagnosis"]["stage"] == "upload"
    finally:
        run_cli("devnet", "stop", home=home, check=False)


def _causes_of(view: dict[str, Any], status: str) -> list[dict[str, str]]:
    """Each cause listed with `status` in the replicates' histories (a failure with several)."""
    return [
        c for r in view["replicates"] for u in r["statusHistory"] if u["status"] == status for c in u.get("causes", [])
    ]


def test_two_input_files_that_do_not_download_are_two_causes(
    matrix: tuple[Devnet, dict[str, Scenario]], tmp_path: Path
) -> None:
    """Issue 27 point 5 (decision 122): a stage that fails for several reasons reports each, with its
    own message, and task debug shows each; the error result names each, as the reference's list."""
    net, scenarios = matrix
    task = scenarios["two-inputs-404"].task
    first, second = scenarios["two-inputs-404"].files["urls"].split()
    view = _final_debug(net, task)
    assert view["status"] == "COMPLETED", view  # the error result, agreed by both workers
    for replicate in view["replicates"]:
        [failure] = [u for u in replicate["statusHistory"] if u["status"] == "DATA_DOWNLOAD_FAILED"]
        listed = [(c["cause"], c["message"]) for c in failure["causes"]]
        assert [cause for cause, _ in listed] == ["INPUT_FILES_DOWNLOAD_FAILED"] * 2, failure
        assert first in listed[0][1] and second in listed[1][1] and "404" in listed[1][1], failure
    for url in (first, second):
        _assert_explained(net, task, view, "DATA_DOWNLOAD_FAILED", "INPUT_FILES_DOWNLOAD_FAILED", "input", url)
    text = net.cli("task", "debug", task).stdout
    assert "2 causes:" in text and first in text and second in text
    net.cli("task", "download", task, str(tmp_path))
    listed = ", ".join(["WorkflowError[cause=INPUT_FILES_DOWNLOAD_FAILED, message=]"] * 2)
    assert (tmp_path / "error.txt").read_text() == (
        f"[IEXEC] Errors occurred while computing the task [error:DATA_DOWNLOAD_FAILED, causes:[{listed}]]"
    )


def test_three_result_files_with_too_long_names_are_three_causes(matrix: tuple[Devnet, dict[str, Scenario]]) -> None:
    net, scenarios = matrix
    task = scenarios["three-long-names"].task
    view = _final_debug(net, task)
    assert view["status"] == "FAILED", view
    causes = _causes_of(view, "COMPUTE_FAILED")
    names = ["first-result-file-with-a-long-name.txt", "second-result-file-with-a-long-name.txt"]
    names.append("third-result-file-with-a-long-name.txt")
    for name in names:
        found = [c for c in causes if c["message"].startswith(f"{name}:")]
        assert found and all(c["cause"] == "POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME" for c in found), causes
        _assert_explained(net, task, view, "COMPUTE_FAILED", "POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME", "app", name)
    assert not any("short.txt" in c["message"] for c in causes), causes
    text = net.cli("task", "debug", task).stdout
    assert "3 causes:" in text and all(name in text for name in names)
