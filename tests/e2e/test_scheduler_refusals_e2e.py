"""Scheduler transactions the ledger refuses, provoked on one real devnet (issue 27, "every cause
accounted for"): one standard worker on LocalChain, short categories, waits on conditions only, and
what `pocopool task debug --json` shows asserted through the proof helper.

- FINALIZE_FAILED with WRONG_RESULTS_CALLBACK: the only worker of a trust-1 callback deal contributes
  and reveals a digest that is not the hash of its callback data (the `wrong-result` fault changes the
  digest, not computed.json's callback-data); the scheduler finalizes with the callback data the worker
  reported, and the ledger refuses it (poco.md §7.5 (5)).

The other refusals of initialize, reopen and finalize are listed Unreachable in protocol/proofs.py,
each with the scheduler's check that makes it so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet_harness import Devnet, started_devnet, until
from pocopool.chain import connect
from pocopool.devnet import manager
from proving import assert_task_failed, assert_task_reached
from test_consensus_faults_e2e import short_category, task_statuses, watch

pytestmark = pytest.mark.e2e

PROBE = Path(__file__).resolve().parent / "apps" / "tee-probe"
WORKER = 0  # the devnet's only worker
CALLBACK = "0x" + "c0" * 20  # any address: the ledger checks the data's hash before it calls anything


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    with started_devnet(tmp_path_factory.mktemp("scheduler-refusals-devnet"), "--workers", "1") as devnet:
        yield devnet


def restarted(net: Devnet, *faults: str) -> None:
    """The worker, restarted with `faults`, once the scheduler sees it alive."""
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
