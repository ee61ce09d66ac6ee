"""Task failures the scheduler decides, provoked on one real devnet (issue 27, "every cause accounted
for"): one worker, on tee-sim so that it also serves TEE tasks, with an SMS, on LocalChain. Each case
sets up the devnet as it needs it (the worker restarted with a fault or held back, the scheduler or
the SMS stopped), runs on a short category, waits for conditions (never a fixed time) and asserts
what `pocopool task debug --json` shows through the proof helper:

- RESULT_UPLOAD_TIMEOUT: the only revealer of a trust-1 task ignores PLEASE_UPLOAD (`no-upload`);
- FINAL_DEADLINE_REACHED: a task initialized while no worker asks for work, whose scheduler is
  stopped and started again only once the final deadline has passed on chain;
- SMS_UNREACHABLE (INITIALIZE_FAILED): a TEE task bought while the SMS is stopped;
- CONTRIBUTION_DEADLINE_PASSED (INITIALIZE_FAILED): a TEE task initialized on chain while the SMS, whose
  framework the scheduler already knows, is stopped: no enclave challenge comes before the contribution
  deadline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet_harness import Devnet, is_final, started_devnet, until
from pocopool.chain import connect
from pocopool.devnet import manager
from pocopool.devnet.processes import terminate
from proving import assert_task_failed, assert_task_reached
from test_consensus_faults_e2e import run_task, short_category, task_statuses, watch

pytestmark = pytest.mark.e2e

PROBE = Path(__file__).resolve().parent / "apps" / "tee-probe"
WORKER = 0  # the devnet's only worker, on tee-sim


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    with started_devnet(
        tmp_path_factory.mktemp("task-failures-devnet"), "--workers", "1", "--tee-workers", "1"
    ) as devnet:
        yield devnet


def restarted(net: Devnet, *faults: str, start_delay: float = 0) -> None:
    """The worker, restarted with `faults` and `start_delay`, once the scheduler sees it alive."""
    worker = manager.restart_worker(net.home, WORKER, faults, start_delay=start_delay)

    def alive() -> bool:
        listed = {w["wallet"].lower(): w for w in net.cli("devnet", "status", "--json").json()["workers"]}
        return bool(listed[worker.wallet.lower()]["alive"])

    until(alive, 60, f"worker {worker.wallet} alive with faults {faults}", net)


def test_a_lone_revealer_that_never_uploads_ends_in_result_upload_timeout(net: Devnet) -> None:
    restarted(net, "no-upload")
    # 6 s per task: the upload is given 12 s after its request, the final deadline is 60 s away
    [task] = run_task(net, trust=1, category=short_category(net, 6))
    debug = watch(net, task)
    assert task_statuses(debug)[-2:] == ["RESULT_UPLOAD_TIMEOUT", "FAILED"], json.dumps(debug, indent=1)
    assert_task_reached(debug, "RUNNING", "AT_LEAST_ONE_REVEALED", "RESULT_UPLOADING", "RESULT_UPLOAD_TIMEOUT")
    assert_task_failed(
        debug,
        status="RESULT_UPLOAD_TIMEOUT",
        cause="RESULT_UPLOAD_TIMEOUT",
        error="no revealer uploaded the result",
        component="storage",
        fix="Check that the result store is up",
    )
    [replicate] = debug["replicates"]
    uploads = [(u["status"], u.get("message") or "") for u in replicate["statusHistory"]]
    assert any(s == "RESULT_UPLOAD_FAILED" and "no upload within 12 s" in m for s, m in uploads), uploads


def test_a_task_whose_scheduler_comes_back_after_the_final_deadline_ends_there(net: Devnet) -> None:
    restarted(net, start_delay=600)  # alive, but it asks for no work: nobody computes the task
    # 3 s per task: the contribution deadline is 21 s away, the final deadline 30 s
    [task] = run_task(net, trust=1, category=short_category(net, 3))
    until(
        lambda: "INITIALIZED" in {s["status"] for s in (net.task_view(task) or {}).get("dateStatusList", [])},
        60,
        f"task {task} initialized",
        net,
    )
    # Stopped before the contribution deadline, so that it cannot time the contributions out first.
    terminate(manager.load_state(net.home).processes["scheduler"].pid)
    chain = connect(json.loads((net.home / "devnet.json").read_text())["chain"])
    try:
        final = chain.view_task(task).final_deadline
        until(lambda: chain.now() >= final, 90, "the final deadline on chain", net)
    finally:
        chain.close()
    manager.restart_scheduler(net.home)
    debug = net.debug_when(task, is_final, "ended after the final deadline")
    restarted(net)  # asking for work again, for the next case
    assert task_statuses(debug)[-2:] == ["FINAL_DEADLINE_REACHED", "FAILED"], json.dumps(debug, indent=1)
    assert "CONTRIBUTION_TIMEOUT" not in task_statuses(debug)
    assert_task_reached(debug, "INITIALIZED", "FINAL_DEADLINE_REACHED", "FAILED")
    assert_task_failed(
        debug,
        status="FINAL_DEADLINE_REACHED",
        cause="FINAL_DEADLINE_REACHED",
        error="passed before the task ended",
        component="scheduler",
        fix="Claim a refund",
    )


def test_a_tee_task_bought_while_the_sms_is_down_fails_to_initialize(net: Devnet) -> None:
    # Before any TEE task: the scheduler keeps the SMS's framework once it has answered.
    probe = net.cli("app", "deploy", str(PROBE), "--tee", "--json").json()["app"]
    terminate(manager.load_state(net.home).processes["sms"].pid)
    try:
        task = str(net.cli("run", probe, "--tee", "--json").json()["taskIds"][0])
        debug = watch(net, task)
    finally:
        manager.restart(net.home, ["sms"])
    assert task_statuses(debug)[-2:] == ["INITIALIZE_FAILED", "FAILED"], json.dumps(debug, indent=1)
    assert "INITIALIZED" not in task_statuses(debug)
    assert_task_failed(
        debug,
        status="INITIALIZE_FAILED",
        cause="SMS_UNREACHABLE",
        error=f"the SMS {net.status['sms']}",
        component="scheduler",
        fix="check the SMS the scheduler is configured with",
    )


def test_a_tee_task_whose_sms_gives_no_enclave_challenge_fails_at_its_contribution_deadline(net: Devnet) -> None:
    """After the SMS case above: the scheduler asks the SMS its framework once, for the first TEE task
    here, then the SMS stops; the next TEE task is initialized on chain, the scheduler asks the SMS
    for its enclave challenge at each pass of its detector and, at the contribution deadline, fails it
    (decision 133)."""
    restarted(net, start_delay=600)  # alive, but it asks for no work: the tasks stay as the scheduler leaves them
    probe = net.cli("app", "deploy", str(PROBE), "--tee", "--json").json()["app"]
    category = short_category(net, 3)  # 3 s per task: the contribution deadline is 21 s away
    [known] = net.cli("run", probe, "--tee", "--category", category, "--json").json()["taskIds"]
    until(lambda: "INITIALIZED" in _statuses(net, known), 60, f"task {known} initialized with the SMS up", net)
    terminate(manager.load_state(net.home).processes["sms"].pid)
    try:
        [task] = net.cli("run", probe, "--tee", "--category", category, "--json").json()["taskIds"]
        debug = net.debug_when(task, is_final, "ended without an enclave challenge", timeout=90)
    finally:
        manager.restart(net.home, ["sms"])
        restarted(net)
    assert task_statuses(debug)[-2:] == ["INITIALIZE_FAILED", "FAILED"], json.dumps(debug, indent=1)
    assert "INITIALIZED" not in task_statuses(debug)
    assert_task_reached(debug, "RECEIVED", "INITIALIZING", "INITIALIZE_FAILED", "FAILED")
    assert_task_failed(
        debug,
        status="INITIALIZE_FAILED",
        cause="CONTRIBUTION_DEADLINE_PASSED",
        error="passed before the SMS gave an enclave challenge",
        component="scheduler",
        fix="Buy again when the workerpool is up",
    )
    chain = connect(json.loads((net.home / "devnet.json").read_text())["chain"])
    try:
        assert chain.view_task(task).status.value == "ACTIVE"  # initialized on chain: only the challenge was missing
    finally:
        chain.close()


def _statuses(net: Devnet, task: str) -> set[str]:
    return {s["status"] for s in (net.task_view(task) or {}).get("dateStatusList", [])}
