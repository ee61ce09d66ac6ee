"""What the SMS and the worker refuse in a TEE task, on a real devnet (issue 27 point 3): one tee-sim
worker, restarted with the devnet fault each case needs (worker/config.py FAULTS), or with the SMS
missing what it should hold. Each case is asserted as `task debug` shows it to the requester: the
replicate's status and cause, the underlying error, and the component and fix `explain` gives.

- a forged workerpool authorization: the SMS refuses the session (…_INVALID_SIGNATURE);
- the authorization of a task that has ended, replayed: the SMS refuses it (…_TASK_NOT_ACTIVE);
- a task whose enclave challenge the SMS no longer holds (…_EMPTY_TEE_CHALLENGE);
- an SMS the worker cannot reach (UNKNOWN_SMS), or that serves another framework
  (GET_TEE_SERVICES_CONFIGURATION_FAILED), after the scheduler initialized the task;
- a worker whose platform key was moved away cannot start its enclaves (TEE_PREPARATION_FAILED);
- an enclave signature of the result that does not verify: the worker refuses it before any
  transaction (POST_COMPUTE_INVALID_TEE_SIGNATURE).
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

from devnet_harness import Devnet, assert_provoked, run_cli, until
from pocopool.chain import connect
from pocopool.devnet import manager
from pocopool.devnet.processes import terminate
from test_consensus_faults_e2e import task_statuses, watch

pytestmark = pytest.mark.e2e

PROBE = Path(__file__).resolve().parent / "apps" / "tee-probe"
TEE_WORKER = 0  # the devnet's only worker, on tee-sim


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    home = tmp_path_factory.mktemp("tee-refusals-devnet")
    status = run_cli("devnet", "start", "--workers", "1", "--tee-workers", "1", "--json", home=home, timeout=150).json()
    devnet = Devnet(home, status)
    try:
        yield devnet
    finally:
        run_cli("devnet", "stop", home=home, check=False)


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
