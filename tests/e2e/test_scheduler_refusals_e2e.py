"""Scheduler faults, provoked on one real devnet (issue 27, "every cause accounted for"): one standard
worker on LocalChain, short categories, waits on conditions only, and what `pocopool task debug --json`
shows asserted through the proof helper.

- FINALIZE_FAILED with WRONG_RESULTS_CALLBACK: the only worker of a trust-1 callback deal contributes
  and reveals a digest that is not the hash of its callback data (the `wrong-result` fault changes the
  digest, not computed.json's callback-data); the scheduler finalizes with the callback data the worker
  reported, and the ledger refuses it (poco.md §7.5 (5)).

The other refusals of initialize, reopen and finalize are listed Unreachable in protocol/proofs.py,
each with the scheduler's check that makes it so.

pocopool's scheduler always sends what the next two cases leave out; a scheduler of another make may
not. The worker, restarted behind a proxy that rewrites the scheduler's answers (foreign_scheduler.py),
meets them as it would meet such a scheduler:

- CONSENSUS_BLOCK_MISSING: the requests to reveal come without the consensus block number; the worker
  refuses to reveal (REVEAL_FAILED) rather than reveal against a block it cannot check;
- WORKERPOOL_AUTHORIZATION_NOT_FOUND: a worker killed mid-compute whose task folder is gone (a new
  disk) is asked to resume its replicate without an authorization; it holds none and says so (FAILED).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet_harness import Devnet, assert_provoked, started_devnet, until
from foreign_scheduler import foreign_scheduler, recovery_without_authorization, reveal_without_block
from pocopool.chain import connect
from pocopool.devnet import manager
from pocopool.worker.workspace import Workspace
from proving import assert_task_failed, assert_task_reached
from test_consensus_faults_e2e import short_category, task_statuses, watch

pytestmark = pytest.mark.e2e

PROBE = Path(__file__).resolve().parent / "apps" / "tee-probe"
MISBEHAVE = Path(__file__).resolve().parent / "apps" / "misbehave"
WORKER = 0  # the devnet's only worker
CALLBACK = "0x" + "c0" * 20  # any address: the ledger checks the data's hash before it calls anything


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    with started_devnet(tmp_path_factory.mktemp("scheduler-refusals-devnet"), "--workers", "1") as devnet:
        yield devnet


def restarted(net: Devnet, *faults: str, scheduler: str | None = None) -> None:
    """The worker, restarted with `faults` (and talking to `scheduler` instead of the devnet's), once
    the scheduler sees it alive."""
    state = manager.load_state(net.home)
    argv = state.workers[WORKER].argv
    assert argv is not None
    argv[argv.index("--scheduler") + 1] = scheduler or net.status["scheduler"]
    manager.save_state(net.home, state)
    worker = manager.restart_worker(net.home, WORKER, faults)

    def alive() -> bool:
        listed = {w["wallet"].lower(): w for w in net.cli("devnet", "status", "--json").json()["workers"]}
        return bool(listed[worker.wallet.lower()]["alive"])

    until(alive, 60, f"worker {worker.wallet} alive with faults {faults}", net)


def test_a_callback_that_does_not_hash_to_the_revealed_digest_fails_the_finalize(net: Devnet) -> None:
    restarted(net, "wrong-result")
    probe = net.deploy_app(PROBE)
    # 6 s per task: the final deadline is 60 s away, far more than the whole flow needs
    category = short_category(net, 6)
    run = net.cli(
        "run", probe, "--trust", "1", "--category", category, "--callback", CALLBACK, "--args", "callback", "--json"
    ).json()
    [task] = run["taskIds"]
    debug = watch(net, task)
    restarted(net)  # healthy again, for the next case
    assert task_statuses(debug)[-2:] == ["FINALIZE_FAILED", "FAILED"], json.dumps(debug, indent=1)
    assert_task_reached(debug, "RUNNING", "CONSENSUS_REACHED", "RESULT_UPLOADED", "FINALIZING", "FINALIZE_FAILED")
    assert_task_failed(
        debug,
        status="FINALIZE_FAILED",
        cause="WRONG_RESULTS_CALLBACK",
        error="the ledger refused the finalize transaction (wrong-results-callback)",
        component="scheduler",
        fix="The callback data reported with the result is not the one the workers hashed",
    )
    chain = connect(json.loads((net.home / "devnet.json").read_text())["chain"])
    try:
        on_chain = chain.view_task(task)
    finally:
        chain.close()
    assert on_chain.status.value == "REVEALING", on_chain  # refused: nothing was finalized


def replicate_became(net: Devnet, task: str, status: str) -> None:
    """Once the task's replicate has reported `status` (it may have moved on since)."""

    def reported() -> bool:
        view = net.task_view(task) or {"replicates": []}
        return any(u["status"] == status for r in view["replicates"] for u in r["statusUpdateList"])

    until(reported, 120, f"a replicate of {task} {status}", net)


def test_a_request_to_reveal_without_the_consensus_block_is_refused_by_the_worker(net: Devnet) -> None:
    scheduler = net.status["scheduler"]
    with foreign_scheduler(scheduler, "/workers/notifications", reveal_without_block) as proxy:
        restarted(net, scheduler=f"http://127.0.0.1:{proxy.server_port}")
        try:
            [task] = net.cli("run", net.deploy_app(PROBE), "--trust", "1", "--json").json()["taskIds"]
            replicate_became(net, task, "REVEAL_FAILED")
        finally:
            restarted(net)
    assert_provoked(
        net,
        task,
        status="REVEAL_FAILED",
        cause="CONSENSUS_BLOCK_MISSING",
        error="PLEASE_REVEAL carried no consensus block number",
        component="scheduler",
        fix="A scheduler fault",
    )


def test_a_worker_asked_to_resume_without_an_authorization_it_no_longer_holds_says_so(net: Devnet) -> None:
    [task] = net.cli("run", net.deploy_app(MISBEHAVE), "--args", "sleep 60", "--json").json()["taskIds"]
    replicate_became(net, task, "COMPUTING")
    manager.kill_worker(net.home, WORKER)
    workdir = Path(manager.load_state(net.home).workers[WORKER].workdir)
    Workspace(workdir).task(task).purge()  # the disk the replicate was on is gone
    scheduler = net.status["scheduler"]
    with foreign_scheduler(scheduler, "/replicates/interrupted", recovery_without_authorization) as proxy:
        restarted(net, scheduler=f"http://127.0.0.1:{proxy.server_port}")
        try:
            replicate_became(net, task, "FAILED")
        finally:
            restarted(net)
    assert proxy.rewritten >= 1  # the worker asked to resume through the proxy
    assert_provoked(
        net,
        task,
        status="FAILED",
        cause="WORKERPOOL_AUTHORIZATION_NOT_FOUND",
        error="cannot resume its replicate (no workerpool authorization: it holds no state for the task and "
        "the scheduler's request carried none); the scheduler asked for PLEASE_CONTRIBUTE",
        component="scheduler",
        fix="A scheduler or worker fault",
    )
