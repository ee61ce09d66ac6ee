"""The devnet on an EVM chain: the built-in py-evm node and the PocoLedger contract (`--chain evm`).

Its own devnet (the other e2e files share the LocalChain one): started here, stopped at the end.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from devnet_harness import FINAL, HAPPY_PATH, WORKER_PATH, Devnet, assert_provoked, is_final, run_cli, until
from pocopool.chain import connect
from pocopool.chain.base import Chain
from pocopool.chain.evm import EvmChain, ether
from pocopool.devnet import followers, manager
from pocopool.devnet.homes import ETHER, read_key
from pocopool.devnet.processes import is_alive
from pocopool.protocol.time import parse_time
from proving import assert_task_failed, assert_task_reached

pytestmark = [pytest.mark.e2e, pytest.mark.evm]

REPO = Path(__file__).resolve().parents[2]
MISBEHAVE = REPO / "tests" / "e2e" / "apps" / "misbehave"
HELD_BACK = 3600  # s: worker 1's start delay, longer than the module runs


def node_rpc(net: Devnet, method: str, *params: object) -> object:
    """One JSON-RPC call to the devnet's EVM node (its test methods: evm_increaseTime, evm_mine)."""
    rpc = net.status["chain"].removeprefix("evm:").partition("#")[0]
    answer = httpx.post(rpc, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10)
    assert "error" not in answer.json(), answer.text
    return answer.json()["result"]


def scheduler_refusals(net: Devnet, task: str, rule: str) -> int:
    """How many of the scheduler's transactions for `task` the ledger refused for `rule` (its log)."""
    log = Path(json.loads((net.home / "devnet.json").read_text())["processes"]["scheduler"]["log"])
    return sum(
        1
        for line in log.read_text(errors="replace").splitlines()
        if "chain.revert" in line and f"task={task}" in line and f"rule={rule}" in line
    )


def replicates(net: Devnet, task: str, wallet: str | None = None) -> list[dict]:
    """The task's replicates as the scheduler has them (only `wallet`'s, if given): none before it has
    seen the deal."""
    found = (net.task_view(task) or {}).get("replicates") or []
    return [r for r in found if wallet is None or r["walletAddress"].lower() == wallet.lower()]


def replicate_status(net: Devnet, task: str) -> str | None:
    """The current status of the task's first replicate, None before there is one."""
    found = replicates(net, task)
    return found[0]["currentStatus"] if found else None


def reported(net: Devnet, task: str, status: str, wallet: str | None = None) -> bool:
    """Whether a replicate of the task (only `wallet`'s, if given) has reported `status`."""
    return any(u["status"] == status for r in replicates(net, task, wallet) for u in r["statusUpdateList"])


def reveal_refused_by_worker(worker_log: Path, task: str) -> bool:
    """Whether the worker's log says its reveal stage of `task` ended REVEAL_FAILED (read there while
    the scheduler is held and cannot be told)."""
    return any(
        "stage-ended" in line and "REVEAL_FAILED" in line and task in line
        for line in worker_log.read_text(errors="replace").splitlines()
    )


@contextmanager
def contributed_from_its_own_node(net: Devnet, args: str) -> Iterator[tuple[str, Chain]]:
    """A trust-3 task (two fresh votes needed) that worker 0 contributed to while it reads the chain
    through a node of its own following the devnet's (decision 137); that node then stops syncing and
    worker 1 is released to make the consensus. Yields the task and the chain as worker 0 reads it; puts
    both workers back as the module's other tests expect them. Worker 0 asks for the task only once its
    node holds the task's initialization: a worker given a task its node does not know yet drops it
    (spec/worker.md §2.3), a race of any lagging node."""
    state = json.loads((net.home / "devnet.json").read_text())
    lagging, healthy = state["workers"][0]["wallet"], state["workers"][1]["wallet"]
    own_node = followers.follow(net.home, 0, start_delay=HELD_BACK)
    seen = connect(f"evm:{own_node}#{net.status['chain'].partition('#')[2]}")
    try:
        assert manager.status(net.home)["processes"]["evmnode-worker-0"]["running"]  # a devnet process
        category = str(net.cli("category", "create", "EVM-12S", "--max-time", "12", "--json").json()["category"])
        app = net.deploy_app(REPO / "examples" / "apps" / "hello")
        run = net.cli("run", app, "--trust", "3", "--category", category, "--args", args, "--json").json()
        [task] = run["taskIds"]
        until(lambda: seen.view_task(task).status.value != "UNSET", 120, "the task initialized on worker 0's node", net)
        manager.restart_worker(net.home, 0, start_delay=0)
        until(lambda: reported(net, task, "CONTRIBUTED", lagging), 120, "worker 0's contribution", net)
        synced = followers.hold_sync(net.home, 0, True)
        assert synced["held"] and not synced["diverged"], synced
        assert replicates(net, task, healthy) == [], "worker 1 took the task before it was released"
        manager.restart_worker(net.home, 1, start_delay=0)
        yield task, seen
    finally:
        seen.close()
        followers.unfollow(net.home, 0, start_delay=0)
        manager.restart_worker(net.home, 1, start_delay=HELD_BACK)


@pytest.fixture(scope="module")
def evm_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    """Worker 0 takes the tasks; worker 1 asks for none (its start delay outlasts the module) until a
    test releases it, and that test holds it back again before it ends."""
    home = tmp_path_factory.mktemp("evm-devnet")
    try:
        manager.start(home, manager.Options(workers=2, slots=2, start_delays=(f"1:{HELD_BACK}",), chain="evm"))
        net = Devnet(home, run_cli("devnet", "status", "--json", home=home).json())
        yield net
    finally:
        run_cli("devnet", "stop", home=home, check=False)


def test_hello_with_trust_1_completes_on_the_evm_chain_and_its_history_explains_it(
    evm_devnet: Devnet, tmp_path: Path
) -> None:
    devnet = evm_devnet
    assert devnet.status["chain"].startswith("evm:http://127.0.0.1:")
    assert devnet.status["processes"]["evmnode"]["running"]
    app = devnet.deploy_app(REPO / "examples" / "apps" / "hello")
    run = devnet.cli("run", app, "--args", "pocopool evm", "--json").json()
    [task] = run["taskIds"]

    watched = devnet.cli("task", "show", task, "--watch", "--timeout", "150", "--json", check=False)
    assert watched.code == 0, f"{watched.stderr}\n{devnet.logs()}"
    debug = devnet.cli("task", "debug", task, "--json").json()
    assert debug["status"] == "COMPLETED" and debug["onchainStatus"] == "COMPLETED"
    assert [s["status"] for s in debug["statusHistory"]] == HAPPY_PATH
    [replicate] = debug["replicates"]
    assert [u["status"] for u in replicate["statusHistory"]] == WORKER_PATH

    downloaded = devnet.cli("task", "download", task, str(tmp_path / "out"), "--json").json()
    assert "greeting.txt" in downloaded["files"]
    assert (tmp_path / "out" / "greeting.txt").read_text() == "Hello, pocopool evm!\n"

    chain = connect(devnet.status["chain"])
    try:
        assert isinstance(chain, EvmChain)
        onchain = chain.view_task(task)
        assert onchain.status.value == "COMPLETED" and onchain.contributors == (replicate["worker"],)
        names = [event.name for event in chain.events(0)]
        assert {"SchedulerNotice", "TaskInitialize", "TaskContribute", "TaskReveal", "TaskFinalize"} <= set(names)
    finally:
        chain.close()


def test_a_reveal_sent_after_the_reveal_deadline_is_refused_by_the_contract(evm_devnet: Devnet) -> None:
    """Issue 27 point 2: the worker checked that it may reveal, then sent the reveal too late (the
    `reveal-after-deadline` fault widens the gap a slow worker meets at the last second): the
    contract refuses it, and the replicate is REVEAL_FAILED with CHAIN_RECEIPT_NOT_VALID naming the
    rule. The scheduler is held meanwhile, so that its own reveal timeout does not abort the worker
    first."""
    net = evm_devnet
    manager.restart_worker(net.home, 0, ("reveal-after-deadline",))
    state = json.loads((net.home / "devnet.json").read_text())
    scheduler_pid, worker_log = state["processes"]["scheduler"]["pid"], Path(state["workers"][0]["log"])
    category = str(net.cli("category", "create", "EVM-3S", "--max-time", "3", "--json").json()["category"])
    app = net.deploy_app(REPO / "examples" / "apps" / "hello")
    [task] = net.cli("run", app, "--category", category, "--args", "late", "--json").json()["taskIds"]
    try:
        until(lambda: reported(net, task, "REVEALING"), 120, "the replicate REVEALING", net)
        os.kill(scheduler_pid, signal.SIGSTOP)
        try:
            until(lambda: reveal_refused_by_worker(worker_log, task), 120, "the worker's late reveal refused", net)
        finally:
            os.kill(scheduler_pid, signal.SIGCONT)
        until(lambda: reported(net, task, "REVEAL_FAILED"), 60, "REVEAL_FAILED at the scheduler", net)
        assert_provoked(
            net,
            task,
            status="REVEAL_FAILED",
            cause="CHAIN_RECEIPT_NOT_VALID",
            error="reveal reverted: reveal-deadline-passed",
            component="chain",
            fix="names the rule",
        )
    finally:
        manager.restart_worker(net.home, 0)


def test_a_worker_whose_chain_node_stopped_reports_chain_unreachable(evm_devnet: Devnet) -> None:
    """Issue 27 point 2: the EVM node stops while the worker computes; the worker's checks before it
    contributes cannot read the task and say so (CONTRIBUTE_FAILED, CHAIN_UNREACHABLE). The node is
    started again, but the task it left is not waited for."""
    net = evm_devnet
    state = json.loads((net.home / "devnet.json").read_text())
    worker_pid = state["workers"][0]["pid"]
    app = net.deploy_app(MISBEHAVE)
    [task] = net.cli("run", app, "--args", "sleep 10", "--json").json()["taskIds"]
    until(lambda: replicate_status(net, task) == "COMPUTING", 120, "the replicate COMPUTING", net)
    os.kill(worker_pid, signal.SIGSTOP)  # held while the node stops: it cannot contribute meanwhile
    try:
        assert replicate_status(net, task) == "COMPUTING", "the app ended before the worker was held"
        node = state["processes"]["evmnode"]["pid"]
        os.kill(node, signal.SIGTERM)
        until(lambda: not is_alive(node), 30, "the EVM node stopped", net)
    finally:
        os.kill(worker_pid, signal.SIGCONT)
    until(lambda: reported(net, task, "CONTRIBUTE_FAILED"), 120, "CONTRIBUTE_FAILED without the node", net)
    net.cli("devnet", "restart", "evmnode")
    assert_provoked(
        net,
        task,
        status="CONTRIBUTE_FAILED",
        cause="CHAIN_UNREACHABLE",
        error="cannot read the task on chain",
        component="chain",
        fix="chain connection",
    )


def test_a_worker_whose_wallet_is_emptied_while_it_computes_is_out_of_gas_at_the_contribute(
    evm_devnet: Devnet,
) -> None:
    """Issue 27 point 2: the devnet's EVM node charges gas (decision 126). While the worker computes, a
    real transfer from its own key sends all its ether away; its check before the contribute finds that
    it cannot pay the transaction and says so (CONTRIBUTE_FAILED, OUT_OF_GAS, with the wallet, its
    balance and what it needs), and nothing is sent. The wallet is refilled from the owner's for the
    tests after this one; the task, which no other worker can take, ends at its contribution deadline."""
    net = evm_devnet
    state = json.loads((net.home / "devnet.json").read_text())
    worker = state["workers"][0]
    rpc = net.status["chain"].removeprefix("evm:").partition("#")[0]
    category = str(net.cli("category", "create", "EVM-5S", "--max-time", "5", "--json").json()["category"])
    app = net.deploy_app(MISBEHAVE)
    [task] = net.cli("run", app, "--category", category, "--args", "sleep 3", "--json").json()["taskIds"]
    until(lambda: replicate_status(net, task) == "COMPUTING", 120, "the replicate COMPUTING", net)
    os.kill(worker["pid"], signal.SIGSTOP)  # held while its wallet is emptied: it cannot contribute meanwhile
    try:
        assert replicate_status(net, task) == "COMPUTING", "the worker was told to contribute before it was held"
        ether.send_ether(rpc, read_key(Path(worker["keyFile"])), state["owner"])
        assert ether.balance(rpc, worker["wallet"]) == 0
    finally:
        os.kill(worker["pid"], signal.SIGCONT)
    try:
        until(lambda: reported(net, task, "CONTRIBUTE_FAILED"), 120, "CONTRIBUTE_FAILED without ether", net)
        assert_provoked(
            net,
            task,
            status="CONTRIBUTE_FAILED",
            cause="OUT_OF_GAS",
            error=f"the worker's wallet {worker['wallet']} holds 0 wei, and the contribute transaction may cost",
            component="worker",
            fix="Refill the worker's wallet",
        )
        assert not reported(net, task, "CONTRIBUTED")
    finally:
        ether.send_ether(rpc, read_key(net.home / "keys" / "owner.key"), worker["wallet"], ETHER)
    until(lambda: (net.task_view(task) or {}).get("currentStatus") in FINAL, 120, "the task ended", net)


def test_a_worker_whose_own_node_stopped_syncing_never_reaches_the_consensus_block(evm_devnet: Devnet) -> None:
    """Issue 27 point 2: worker 0's own node stops syncing once it has contributed, and worker 1's
    contribution on the devnet's node makes the consensus in a block worker 0's node never sees: told to
    reveal at that block, it waits for it in vain (REVEAL_FAILED, BLOCK_NOT_REACHED, with both block
    numbers). Worker 1 reveals, and the task completes with it."""
    net = evm_devnet
    state = json.loads((net.home / "devnet.json").read_text())
    lagging, healthy = state["workers"][0]["wallet"], state["workers"][1]["wallet"]
    full = connect(net.status["chain"])
    try:
        with contributed_from_its_own_node(net, "lag") as (task, seen):
            until(lambda: reported(net, task, "REVEAL_FAILED", lagging), 120, "worker 0's reveal failed", net)
            held_at = seen.latest_block().number
            [consensus] = [
                e for e in full.events(0, None, ("TaskConsensus",)) if str(e.args["taskid"]).lower() == task.lower()
            ]
            assert held_at < consensus.block_number
            assert_provoked(
                net,
                task,
                status="REVEAL_FAILED",
                cause="BLOCK_NOT_REACHED",
                error=f"chain is at block {held_at}, consensus was at block {consensus.block_number}",
                component="worker",
                fix="Let the worker's node sync",
            )
            view = net.debug_when(task, is_final, "the task ended")
            assert view["status"] == "COMPLETED", json.dumps(view, indent=1)
            assert [r["status"] for r in view["replicates"] if r["worker"].lower() == healthy.lower()] == ["COMPLETED"]
    finally:
        full.close()


def test_a_callback_longer_than_the_evm_ledger_takes_fails_the_finalize(evm_devnet: Devnet) -> None:
    """Issue 27 point 2: the app of a trust-1 callback deal answers with 5000 bytes of callback data; the
    worker contributes and reveals their hash (the chain never sees the data before the finalize), and
    the EVM ledger refuses the finalize that carries them (its bound is 4096 bytes, a rule no task cause
    names): FINALIZE_FAILED with LEDGER_REFUSED, the message naming the bound."""
    net = evm_devnet
    app = net.deploy_app(MISBEHAVE)
    callback = "0x" + "c0" * 20  # any address: the ledger refuses the data before it calls anything
    run = net.cli("run", app, "--callback", callback, "--args", "long-callback 5000", "--json").json()
    [task] = run["taskIds"]
    view = net.debug_when(task, is_final, "ended")
    assert [s["status"] for s in view["statusHistory"]][-2:] == ["FINALIZE_FAILED", "FAILED"], view
    assert_task_reached(view, "CONSENSUS_REACHED", "RESULT_UPLOADED", "FINALIZING", "FINALIZE_FAILED")
    assert_task_failed(
        view,
        status="FINALIZE_FAILED",
        cause="LEDGER_REFUSED",
        error="results callback must be at most 4096 bytes on the EVM ledger",
        component="chain",
        fix="it names the chain's rule",
    )


LAG = 15  # s the node's clock is set back by: an external chain's blocks lag the wall clock so


def test_a_reopen_on_a_chain_whose_clock_lags_is_sent_again_until_the_chain_allows_it(evm_devnet: Devnet) -> None:
    """Issue 27 point 2, decision 130: the only winner never reveals, and the chain's clock lags the
    scheduler's by LAG seconds (`evm_increaseTime` back: block times still never go backwards). At
    its own reveal deadline the scheduler asks for the reopen, which the ledger refuses as
    reveal-deadline-not-reached; the scheduler sends it again until the chain's clock gets there, and
    the task is reopened instead of failing with REVEAL_DEADLINE_NOT_REACHED."""
    net = evm_devnet
    manager.restart_worker(net.home, 0, ("no-reveal",))
    node_rpc(net, "evm_increaseTime", -LAG)
    try:
        category = str(net.cli("category", "create", "EVM-5S", "--max-time", "5", "--json").json()["category"])
        app = net.deploy_app(REPO / "examples" / "apps" / "hello")
        [task] = net.cli("run", app, "--category", category, "--args", "lagging", "--json").json()["taskIds"]

        def reached(status: str) -> bool:
            view = net.task_view(task) or {}
            return status in {s["status"] for s in view.get("dateStatusList", [])}

        until(lambda: reached("REOPENING"), 120, "the reopen requested", net)
        until(lambda: scheduler_refusals(net, task, "reveal-deadline-not-reached"), 30, "the reopen refused", net)
        until(lambda: reached("REOPENED") or reached("FAILED"), 60, "the task reopened", net)
    finally:
        node_rpc(net, "evm_increaseTime", LAG)
        manager.restart_worker(net.home, 0)
    view = net.cli("task", "debug", task, "--json").json()
    assert_task_reached(view, "CONSENSUS_REACHED", "REOPENING", "REOPENED", "INITIALIZED")
    assert "REOPEN_FAILED" not in {s["status"] for s in view["statusHistory"]}, view["statusHistory"]
    [replicate] = view["replicates"]
    timeouts = [u for u in replicate["statusHistory"] if u["status"] == "FAILED"]
    assert [u.get("cause") for u in timeouts] == ["REVEAL_TIMEOUT"], replicate["statusHistory"]


AHEAD = 40  # s the chain's clock jumps while worker 0 waits for its node: past the 24 s reveal window


def test_a_worker_whose_node_catches_up_after_the_reveal_deadline_cannot_reveal(evm_devnet: Devnet) -> None:
    """Issue 27 point 2: as above, worker 0's own node stops syncing once it has contributed and worker
    1 makes the consensus; while worker 0 waits for the consensus block, the chain's clock passes the
    reveal deadline (`evm_increaseTime`, a block mined), and then its node catches up. Its check before
    the reveal finds the deadline passed: REVEAL_FAILED with CANNOT_REVEAL, nothing sent. The scheduler
    is held meanwhile, so that its own reveal timeout does not abort worker 0 first. Runs before the
    tests that move the clock ahead for good: the jump stays in the chain's block times."""
    net = evm_devnet
    state = json.loads((net.home / "devnet.json").read_text())
    lagging, healthy = state["workers"][0]["wallet"], state["workers"][1]["wallet"]
    scheduler_pid, worker_log = state["processes"]["scheduler"]["pid"], Path(state["workers"][0]["log"])
    with contributed_from_its_own_node(net, "late") as (task, _):
        until(lambda: reported(net, task, "REVEALED", healthy), 120, "worker 1's reveal", net)
        os.kill(scheduler_pid, signal.SIGSTOP)
        try:
            full = connect(net.status["chain"])  # the held node has not seen the consensus, nor its deadline
            deadline = full.view_task(task).reveal_deadline
            full.close()
            node_rpc(net, "evm_increaseTime", AHEAD)
            node_rpc(net, "evm_mine")
            assert not reveal_refused_by_worker(worker_log, task), "worker 0 gave up waiting before its node caught up"
            followers.hold_sync(net.home, 0, False)
            until(lambda: reveal_refused_by_worker(worker_log, task), 60, "worker 0's reveal refused by its check", net)
        finally:
            os.kill(scheduler_pid, signal.SIGCONT)
        until(lambda: reported(net, task, "REVEAL_FAILED", lagging), 60, "REVEAL_FAILED at the scheduler", net)
        assert_provoked(
            net,
            task,
            status="REVEAL_FAILED",
            cause="CANNOT_REVEAL",
            error=f"reveal deadline {deadline} passed",
            component="chain",
            fix="Read the message",
        )
        assert not reported(net, task, "REVEALED", lagging)
        net.debug_when(task, is_final, "the task ended")


def test_a_reopen_on_a_chain_whose_clock_runs_ahead_is_refused_at_the_final_deadline(evm_devnet: Devnet) -> None:
    """Issue 27 point 2: the only winner never reveals, and the chain's clock runs ahead of the
    scheduler's (an external chain can: here `evm_increaseTime` moves the node's) past the task's
    final deadline; the scheduler asks for the reopen at its reveal deadline and the ledger refuses it
    (REOPEN_FAILED, with the chain's rule final-deadline-passed as its cause). Last in this module
    but one: the node's clock stays ahead."""
    net = evm_devnet
    manager.restart_worker(net.home, 0, ("no-reveal",))
    try:
        category = str(net.cli("category", "create", "EVM-10S", "--max-time", "10", "--json").json()["category"])
        app = net.deploy_app(REPO / "examples" / "apps" / "hello")
        [task] = net.cli("run", app, "--category", category, "--args", "silent", "--json").json()["taskIds"]

        def task_status() -> str:
            return str((net.task_view(task) or {}).get("currentStatus"))

        until(lambda: task_status() == "CONSENSUS_REACHED", 120, "the consensus", net)
        chain = connect(net.status["chain"])
        try:
            ahead = chain.view_task(task).final_deadline - chain.now() + 5
        finally:
            chain.close()
        node_rpc(net, "evm_increaseTime", ahead)
        node_rpc(net, "evm_mine")
        assert task_status() == "CONSENSUS_REACHED", "the scheduler reopened before the chain's clock moved"
        until(lambda: task_status() == "FAILED", 120, "the task FAILED", net)
        view = net.cli("task", "debug", task, "--json").json()
        assert_task_reached(view, "CONSENSUS_REACHED", "REOPENING", "REOPEN_FAILED", "FAILED")
        assert_task_failed(
            view,
            status="REOPEN_FAILED",
            cause="FINAL_DEADLINE_REACHED",
            error="the ledger refused the reopen transaction (final-deadline-passed)",
            component="scheduler",
            fix="Claim a refund",
        )
    finally:
        manager.restart_worker(net.home, 0)


def test_a_task_claimed_on_a_chain_whose_clock_runs_ahead_ends_at_once(evm_devnet: Devnet) -> None:
    """Issue 27 point 2, decision 131: the only revealer never uploads, and while the scheduler waits
    for the result the chain's clock runs past the task's final deadline (`evm_increaseTime`); the
    requester claims the task (`pocopool task claim`). The scheduler, whose own clock is still before
    that deadline, ends the task at its next read of the chain (FINAL_DEADLINE_REACHED, TASK_CLAIMED)
    and tells the worker to abort. Last in this module: it moves the node's clock ahead again."""
    net = evm_devnet
    manager.restart_worker(net.home, 0, ("no-upload",))
    try:
        # 10 s per task: the upload is given 20 s, more than the claim needs
        category = str(net.cli("category", "create", "EVM-10S", "--max-time", "10", "--json").json()["category"])
        app = net.deploy_app(REPO / "examples" / "apps" / "hello")
        [task] = net.cli("run", app, "--category", category, "--args", "claimed", "--json").json()["taskIds"]
        until(lambda: (net.task_view(task) or {}).get("currentStatus") == "RESULT_UPLOADING", 120, "uploading", net)
        chain = connect(net.status["chain"])
        try:
            final_deadline = chain.view_task(task).final_deadline
            node_rpc(net, "evm_increaseTime", final_deadline - chain.now() + 5)
            node_rpc(net, "evm_mine")
        finally:
            chain.close()
        claimed = net.cli("task", "claim", task, "--json").json()
        assert claimed["taskId"] == task, claimed
        view = net.debug_when(task, is_final, "ended after the claim", timeout=60)
    finally:
        manager.restart_worker(net.home, 0)
    assert [s["status"] for s in view["statusHistory"]][-2:] == ["FINAL_DEADLINE_REACHED", "FAILED"], view
    assert_task_reached(view, "RESULT_UPLOADING", "FINAL_DEADLINE_REACHED", "FAILED")
    assert_task_failed(
        view,
        status="FINAL_DEADLINE_REACHED",
        cause="TASK_CLAIMED",
        error="the task was claimed on chain",
        component="chain",
        fix="the refund is done",
    )
    [ended] = [s for s in view["statusHistory"] if s["status"] == "FINAL_DEADLINE_REACHED"]
    assert (parse_time(ended["date"]) or 0) < final_deadline, (ended, final_deadline)  # on the scheduler's clock
