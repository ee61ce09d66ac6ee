"""What the SMS and the worker refuse in a TEE task, on a real devnet (issue 27 point 3): one tee-sim
worker, restarted with the devnet fault each case needs (worker/config.py FAULTS), or with the SMS
missing what it should hold. Each case is asserted as `task debug` shows it to the requester: the
replicate's status and cause, the underlying error, and the component and fix `explain` gives.

- a forged workerpool authorization: the SMS refuses the session (…_INVALID_SIGNATURE);
- the authorization of a task that has ended, replayed: the SMS refuses it (…_TASK_NOT_ACTIVE);
- a task whose enclave challenge the SMS no longer holds (…_EMPTY_TEE_CHALLENGE);
- an SMS the worker cannot reach (UNKNOWN_SMS), or that serves another framework
  (GET_TEE_SERVICES_CONFIGURATION_FAILED), after the scheduler initialized the task;
- an SMS that serves the task's framework but does not know the task: it refuses the scheduler the
  task's enclave challenge and the task fails to initialize (task cause ENCLAVE_CHALLENGE_REFUSED);
- a worker whose platform key was moved away cannot start its enclaves (TEE_PREPARATION_FAILED);
- an enclave signature of the result that does not verify: the worker refuses it before any
  transaction (POST_COMPUTE_INVALID_TEE_SIGNATURE);
- what a worker does wrong to its enclaves: a read-only report folder (*_EXIT_REPORTING_FAILED), a
  read-only input folder (PRE_COMPUTE_SAVING_PLAIN_DATASET_FAILED), a pre-compute report signed again
  by another key (PRE_COMPUTE_INVALID_TEE_SIGNATURE), a pre-compute started with a session the SMS
  never made, which dies without a report (PRE_COMPUTE_FAILED_UNKNOWN_ISSUE);
- a contribution that lands between the worker's check that the task is ACTIVE and its read of the
  contributors (the worker's own plain contribute, a fault): TASK_ALREADY_CONTRIBUTED;
- hosts that never answer, in the devnet's 5 s category: the stage's time limit stops pre-compute
  downloading an input file (PRE_COMPUTE_TIMEOUT) and post-compute uploading the result
  (POST_COMPUTE_TIMEOUT). Last: it pushes the requester's IPFS token to the SMS.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from eth_account import Account

from devnet_harness import Devnet, assert_provoked, started_devnet, until
from pocopool.chain import connect
from pocopool.chain.base import DealRequest
from pocopool.client.sms import SmsClient
from pocopool.devnet import manager
from pocopool.devnet.processes import terminate
from pocopool.protocol.tags import int_to_tag
from pocopool.protocol.tee import IPFS_TOKEN, SIM_FRAMEWORK_TAG, SecretKind
from proving import assert_task_failed
from silent_host import silent_host
from test_consensus_faults_e2e import task_statuses, watch
from test_tee_e2e import encrypted_dataset

pytestmark = pytest.mark.e2e

PROBE = Path(__file__).resolve().parent / "apps" / "tee-probe"
TEE_WORKER = 0  # the devnet's only worker, on tee-sim


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    with started_devnet(
        tmp_path_factory.mktemp("tee-refusals-devnet"), "--workers", "1", "--tee-workers", "1"
    ) as devnet:
        yield devnet


@pytest.fixture(scope="module")
def probe(net: Devnet) -> str:
    return net.cli("app", "deploy", str(PROBE), "--tee", "--json").json()["app"]


def with_faults(net: Devnet, *faults: str) -> None:
    """The TEE worker, restarted with `faults` (none: healthy again), once the scheduler sees it alive."""
    worker = manager.restart_worker(net.home, TEE_WORKER, faults)

    def alive() -> bool:
        listed = {w["wallet"].lower(): w for w in net.cli("devnet", "status", "--json").json()["workers"]}
        return bool(listed[worker.wallet.lower()]["alive"])

    until(alive, 60, f"worker {worker.wallet} alive with faults {faults}", net)


def run_tee(net: Devnet, app: str) -> str:
    return str(net.cli("run", app, "--tee", "--json").json()["taskIds"][0])


def failed_at_start(net: Devnet, task: str) -> dict[str, Any]:
    debug = watch(net, task)
    assert debug["status"] == "FAILED" and "RUNNING_FAILED" in task_statuses(debug), debug
    return debug


def test_a_forged_workerpool_authorization_gets_no_session(net: Devnet, probe: str) -> None:
    with_faults(net, "forge-authorization")
    task = run_tee(net, probe)
    failed_at_start(net, task)
    assert_provoked(
        net,
        task,
        status="START_FAILED",
        cause="TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_INVALID_SIGNATURE",
        error=f"the SMS refused the session (401 EXECUTION_NOT_AUTHORIZED_INVALID_SIGNATURE): the authorization "
        f"is not signed by the owner of workerpool {net.status['workerpool']}",
        component="scheduler",
        fix="the worker forged its authorization: report the worker",
    )


def test_the_authorization_of_an_ended_task_replayed_gets_no_session(net: Devnet, probe: str) -> None:
    with_faults(net, "replay-authorization")
    ended = run_tee(net, probe)
    assert watch(net, ended)["status"] == "COMPLETED"  # the authorization the worker keeps and replays
    task = run_tee(net, probe)
    failed_at_start(net, task)
    assert_provoked(
        net,
        task,
        status="START_FAILED",
        cause="TEE_SESSION_GENERATION_EXECUTION_NOT_AUTHORIZED_TASK_NOT_ACTIVE",
        error=f"(409 EXECUTION_NOT_AUTHORIZED_TASK_NOT_ACTIVE): task {ended} is COMPLETED on chain, not ACTIVE",
        component="chain",
        fix="the worker replayed an old authorization: report the worker",
    )


def test_a_task_whose_enclave_challenge_the_sms_lost_gets_no_session(net: Devnet, probe: str) -> None:
    """The scheduler got the task's enclave challenge from the SMS, then the SMS lost it (as an SMS
    database restored from a backup older than the task would): no session can be made for it."""
    manager.kill_worker(net.home, TEE_WORKER)  # the task waits, initialized, for a TEE worker
    task = run_tee(net, probe)
    sms_db = net.home / "sms" / "sms.db"

    def challenge_rows() -> int:
        with sqlite3.connect(sms_db, timeout=10) as db:
            return int(
                db.execute("SELECT count(*) FROM task_challenges WHERE task_id = ?", (task.lower(),)).fetchone()[0]
            )

    until(challenge_rows, 60, f"the SMS's enclave challenge of {task}", net)
    with sqlite3.connect(sms_db, timeout=10) as db:
        db.execute("DELETE FROM task_challenges WHERE task_id = ?", (task.lower(),))
    assert challenge_rows() == 0
    with_faults(net)
    failed_at_start(net, task)
    assert_provoked(
        net,
        task,
        status="START_FAILED",
        cause="TEE_SESSION_GENERATION_GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE",
        error=f"(409 GET_SIGNATURE_TOKENS_FAILED_EMPTY_TEE_CHALLENGE): no enclave challenge was generated for task {task}",
        component="scheduler",
        fix="Check that the scheduler and its workers use the same SMS",
    )


@contextmanager
def sms_replaced(net: Devnet, framework: str | None) -> Iterator[None]:
    """The devnet's SMS stopped, and in its place nothing (`framework` None) or a server that says it
    serves `framework` and knows nothing else; the devnet's SMS again afterwards."""
    port = int(urlsplit(net.status["sms"]).port or 0)
    terminate(manager.load_state(net.home).processes["sms"].pid)
    server = None
    if framework is not None:

        class OtherSms(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server spelling
                known = self.path == "/tee/framework"
                body = json.dumps(framework if known else {"error": "unknown"}).encode()
                self.send_response(200 if known else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_PUT = do_POST = do_GET  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), OtherSms)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        manager.restart(net.home, ["sms"])


def initialized_without_a_worker(net: Devnet, app: str) -> str:
    """A TEE task the scheduler initialized (with its enclave challenge from the SMS) while the TEE
    worker is down."""
    manager.kill_worker(net.home, TEE_WORKER)
    task = run_tee(net, app)
    initialized = {"INITIALIZED"}
    until(
        lambda: initialized & {s["status"] for s in (net.task_view(task) or {}).get("dateStatusList", [])},
        60,
        f"task {task} initialized",
        net,
    )
    return task


def test_a_worker_that_cannot_reach_the_sms_says_so(net: Devnet, probe: str) -> None:
    task = initialized_without_a_worker(net, probe)
    with sms_replaced(net, None):
        with_faults(net)
        failed_at_start(net, task)
    assert_provoked(
        net,
        task,
        status="START_FAILED",
        cause="UNKNOWN_SMS",
        error=f"the SMS at {net.status['sms']} cannot be reached: ConnectError",
        component="scheduler",
        fix="that the worker can reach its URL",
    )


def test_an_sms_of_another_framework_gives_the_worker_no_tee_services(net: Devnet, probe: str) -> None:
    task = initialized_without_a_worker(net, probe)
    with sms_replaced(net, "SCONE"):
        with_faults(net)
        failed_at_start(net, task)
    assert_provoked(
        net,
        task,
        status="START_FAILED",
        cause="GET_TEE_SERVICES_CONFIGURATION_FAILED",
        error=f"the SMS at {net.status['sms']} runs '\"SCONE\"', the task needs GRAMINE",
        component="scheduler",
        fix="Check the workerpool's SMS",
    )


def test_an_sms_that_does_not_know_the_task_refuses_its_enclave_challenge(net: Devnet, probe: str) -> None:
    with sms_replaced(net, "GRAMINE"):
        task = run_tee(net, probe)
        debug = watch(net, task)
    assert debug["status"] == "FAILED", debug
    assert_task_failed(
        debug,
        status="INITIALIZE_FAILED",
        cause="ENCLAVE_CHALLENGE_REFUSED",
        error="gave no enclave challenge (HTTP_404): unknown",
        component="scheduler",
        fix="The pool's operator must read the SMS's refusal",
    )


def test_a_worker_without_its_platform_key_cannot_prepare_its_enclaves(net: Devnet, probe: str) -> None:
    with_faults(net)
    argv = manager.load_state(net.home).workers[TEE_WORKER].argv or []
    key = Path(argv[argv.index("--tee-platform-key-file") + 1])
    away = key.with_name("platform.key.away")
    key.rename(away)  # the worker was started with it: its operator moved it since
    try:
        task = run_tee(net, probe)
        failed_at_start(net, task)
    finally:
        away.rename(key)
    assert_provoked(
        net,
        task,
        status="COMPUTE_FAILED",
        cause="TEE_PREPARATION_FAILED",
        error=f"cannot open the platform key file: [Errno 2] No such file or directory: '{key}'",
        component="worker",
        fix="Check the worker's TEE setup",
    )


def test_a_tampered_enclave_signature_is_refused_before_any_transaction(net: Devnet, probe: str) -> None:
    with_faults(net, "tamper-enclave-signature")
    task = run_tee(net, probe)

    def refused(view: dict[str, Any]) -> bool:
        return any(
            update["status"] == "CONTRIBUTE_AND_FINALIZE_FAILED"
            for replicate in view["replicates"]
            for update in replicate["statusUpdateList"]
        )

    net.debug_when(task, refused, "the worker refused its enclave's result")
    debug = assert_provoked(
        net,
        task,
        status="CONTRIBUTE_AND_FINALIZE_FAILED",
        cause="POST_COMPUTE_INVALID_TEE_SIGNATURE",
        error="not by the enclave challenge 0x",
        component="worker",
        fix="the worker's TEE setup",
    )
    assert "COMPUTED" in [u["status"] for r in debug["replicates"] for u in r["statusHistory"]]
    chain = connect(manager.load_state(net.home).chain)
    try:
        on_chain = chain.view_task(task)
    finally:
        chain.close()
    assert on_chain.status.value == "ACTIVE" and not on_chain.contributors  # no transaction was sent


def test_a_task_someone_contributed_to_cannot_be_contributed_and_finalized(net: Devnet, probe: str) -> None:
    """The worker's plain contribute (the fault) lands after its checks that the task is ACTIVE and
    before it reads the task's contributors, as another worker's would in that window."""
    with_faults(net, "contribute-before-finalize")
    task = run_tee(net, probe)

    def refused(view: dict[str, Any]) -> bool:
        return any(
            update["status"] == "CONTRIBUTE_AND_FINALIZE_FAILED"
            for replicate in view["replicates"]
            for update in replicate["statusUpdateList"]
        )

    net.debug_when(task, refused, "the worker refused to contribute and finalize")
    assert_provoked(
        net,
        task,
        status="CONTRIBUTE_AND_FINALIZE_FAILED",
        cause="TASK_ALREADY_CONTRIBUTED",
        error=f"task {task} already has 1 contributor(s)",
        component="worker",
        fix="A worker fault: report the pool's workers with their logs.",
    )
    chain = connect(manager.load_state(net.home).chain)
    try:
        on_chain = chain.view_task(task)
    finally:
        chain.close()
    wallet = manager.load_state(net.home).workers[TEE_WORKER].wallet
    assert [c.lower() for c in on_chain.contributors] == [wallet.lower()], on_chain


@pytest.fixture(scope="module")
def dataset(net: Devnet, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An encrypted dataset whose key the SMS holds: a task with it runs pre-compute."""
    return encrypted_dataset(net, tmp_path_factory.mktemp("tee-refusals-dataset"))[0]


def pre_compute_fails(net: Devnet, probe: str, dataset: str, fault: str) -> str:
    """A TEE task with the dataset, failed by the TEE worker started with `fault`."""
    with_faults(net, fault)
    task = str(net.cli("run", probe, "--tee", "--dataset", dataset, "--json").json()["taskIds"][0])
    failed_at_start(net, task)
    return task


def test_an_enclave_whose_report_folder_is_read_only_says_so_by_its_exit_code(
    net: Devnet, probe: str, dataset: str
) -> None:
    task = pre_compute_fails(net, probe, dataset, "read-only-pre-compute-report")
    assert_provoked(
        net,
        task,
        status="COMPUTE_FAILED",
        cause="PRE_COMPUTE_EXIT_REPORTING_FAILED",
        error="pre-compute failed and could not report why: [tee-sim",
        component="worker",
        fix="Check the worker's TEE setup",
    )
    with_faults(net, "read-only-post-compute-report")
    task = run_tee(net, probe)
    failed_at_start(net, task)
    debug = assert_provoked(
        net,
        task,
        status="COMPUTE_FAILED",
        cause="POST_COMPUTE_EXIT_REPORTING_FAILED",
        error="post-compute failed and could not report why: [tee-sim",
        component="worker",
        fix="the worker's TEE setup",
    )
    assert "cannot write the report" in str(debug), debug


def test_a_pre_compute_that_cannot_write_into_the_input_folder_cannot_save_the_plain_dataset(
    net: Devnet, probe: str, dataset: str
) -> None:
    task = pre_compute_fails(net, probe, dataset, "read-only-pre-compute-input")
    assert_provoked(
        net,
        task,
        status="COMPUTE_FAILED",
        cause="PRE_COMPUTE_SAVING_PLAIN_DATASET_FAILED",
        error="Read-only file system",
        component="worker",
        fix="the task's input folder must be writable by pre-compute",
    )


def test_a_pre_compute_report_signed_by_another_key_is_an_invalid_tee_signature(
    net: Devnet, probe: str, dataset: str
) -> None:
    task = pre_compute_fails(net, probe, dataset, "forge-pre-compute-report")
    assert_provoked(
        net,
        task,
        status="COMPUTE_FAILED",
        cause="PRE_COMPUTE_INVALID_TEE_SIGNATURE",
        error="the pre-compute report is signed by 0x",
        component="worker",
        fix="Check the worker's TEE setup",
    )


def test_a_pre_compute_that_dies_without_a_report_is_an_unknown_issue(net: Devnet, probe: str, dataset: str) -> None:
    task = pre_compute_fails(net, probe, dataset, "unknown-pre-compute-session")
    assert_provoked(
        net,
        task,
        status="COMPUTE_FAILED",
        cause="PRE_COMPUTE_FAILED_UNKNOWN_ISSUE",
        error="pre-compute failed (exit 4): [tee-sim",
        component="worker",
        fix="Check the worker's TEE setup",
    )


def test_hosts_that_never_answer_are_stopped_by_the_stage_time_limit(net: Devnet, probe: str) -> None:
    """In the devnet's 5 s category, so that the stage's time limit fires before tee-sim's own HTTP
    timeouts (60 s to download, 120 s to upload)."""
    with_faults(net)
    five_seconds = str(net.status["categories"]["DEVNET-5S"])
    state = manager.load_state(net.home)
    requester_key = Path(state.keys.requester).read_text().strip()
    requester = Account.from_key(requester_key)
    with silent_host() as host:
        task = str(
            net.cli(
                "run", probe, "--tee", "--category", five_seconds, "--input-file", f"{host}/silent", "--json"
            ).json()["taskIds"][0]
        )
        failed_at_start(net, task)
        assert_provoked(
            net,
            task,
            status="COMPUTE_FAILED",
            cause="PRE_COMPUTE_TIMEOUT",
            error="pre-compute killed after 5 s, the category's time limit",
            component="storage",
            fix="their hosts must answer the worker quickly",
        )
        # The result store the deal names holds the upload unanswered; the worker's own token request
        # to it is refused, so the session falls back to the requester's token.
        SmsClient(net.status["sms"], requester_key).push(SecretKind.WEB2, requester.address, IPFS_TOKEN, "t0ken")
        chain = connect(state.chain)
        try:
            request = DealRequest(
                app=probe,
                workerpool=net.status["workerpool"],
                category=int(five_seconds),
                tag=int_to_tag(SIM_FRAMEWORK_TAG),
                params=json.dumps({"iexec_result_storage_proxy": host}),
            )
            deal = chain.view_deal(chain.create_deal(requester, request).return_value)
        finally:
            chain.close()
        assert deal is not None
        [task] = deal.task_ids()
        failed_at_start(net, task)
    assert_provoked(
        net,
        task,
        status="COMPUTE_FAILED",
        cause="POST_COMPUTE_TIMEOUT",
        error="post-compute killed after 5 s, the category's time limit",
        component="storage",
        fix="Check the result storage the deal names",
    )
