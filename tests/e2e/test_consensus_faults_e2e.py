"""Consensus, faults and recovery on real devnets (issue 3): each scenario starts its own devnet with
the faults it needs, runs on a short category, and reads what happened from `pocopool task debug`
and from the ledger itself (contributions, stakes, rewards, scores). Each scenario runs on LocalChain
(`[local]`) and on the PocoLedger contract in the built-in EVM node (`[evm]`, marked `evm`, issue 7)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from devnet_harness import Devnet, run_cli, until
from pocopool.chain import connect
from pocopool.chain.base import Chain
from pocopool.devnet import manager
from pocopool.protocol.statuses import ChainContributionStatus as CCS
from pocopool.protocol.statuses import ChainTaskStatus as CTS
from pocopool.protocol.time import parse_time
from proving import assert_reported, assert_task_failed, assert_task_reached, replicate_reports

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "examples" / "apps" / "hello"
MISBEHAVE = REPO / "tests" / "e2e" / "apps" / "misbehave"
CATEGORY_SECONDS = 12  # contribution deadline 84 s, reveal window 24 s, final deadline 120 s
WATCH = "150"


pytestmark = pytest.mark.e2e


@pytest.fixture(params=["local", pytest.param("evm", marks=pytest.mark.evm)])
def chain_kind(request: pytest.FixtureRequest) -> str:
    """Every scenario runs on both ledgers: LocalChain and PocoLedger on the built-in EVM node (issue 7)."""
    return str(request.param)


@contextmanager
def devnet(
    tmp_path: Path, chain: str, *args: str, start_delays: tuple[str, ...] = (), workers: int = 1
) -> Iterator[Devnet]:
    """A devnet of its own on `chain`: through the CLI, or through the manager when workers need a start
    delay (an option of the devnet manager the CLI does not expose)."""
    home = tmp_path / "devnet"
    try:
        if start_delays:
            faults = tuple(args[i + 1] for i, a in enumerate(args) if a == "--fault")
            manager.start(
                home, manager.Options(workers=workers, slots=2, faults=faults, start_delays=start_delays, chain=chain)
            )
            status = run_cli("devnet", "status", "--json", home=home).json()
        else:
            status = run_cli(
                "devnet",
                "start",
                "--chain",
                chain,
                "--workers",
                str(workers),
                "--slots",
                "2",
                *args,
                "--json",
                home=home,
                timeout=120,
            ).json()
        assert status["chain"].startswith(f"{chain}:"), status["chain"]
        yield Devnet(home, status)
    finally:
        run_cli("devnet", "stop", home=home, check=False)


def ledger(net: Devnet) -> Chain:
    return connect(json.loads((net.home / "devnet.json").read_text())["chain"])


def short_category(net: Devnet, seconds: int = CATEGORY_SECONDS) -> str:
    return str(
        net.cli("category", "create", f"E2E-{seconds}S", "--max-time", str(seconds), "--json").json()["category"]
    )


def run_task(net: Devnet, *, trust: int, category: str, tasks: int = 1) -> list[str]:
    app = net.deploy_app(HELLO)
    run = net.cli(
        "run", app, "--trust", str(trust), "--category", category, "--tasks", str(tasks), "--args", "faults", "--json"
    ).json()
    return run["taskIds"]


def watch(net: Devnet, task: str) -> dict[str, Any]:
    watched = net.cli("task", "show", task, "--watch", "--timeout", WATCH, "--json", check=False)
    debug = net.cli("task", "debug", task, "--json").json()
    assert debug["final"], f"{task} is still {debug['status']}\n{json.dumps(debug, indent=1)}\n{net.logs()}"
    assert watched.code in (0, 1), watched.stderr
    return debug


def task_statuses(debug: dict[str, Any]) -> list[str]:
    return [s["status"] for s in debug["statusHistory"]]


def replicate_of(debug: dict[str, Any], wallet: str) -> dict[str, Any]:
    return next(r for r in debug["replicates"] if r["worker"].lower() == wallet.lower())


def causes(replicate: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(u["status"], u.get("cause")) for u in replicate["statusHistory"]]


def wallets(net: Devnet) -> list[str]:
    return [w["wallet"] for w in net.status["workers"]]


# Workers 1.. are held back (they ask for work only after 10 minutes) until worker 0 has contributed;
# then they are restarted without a delay. A fixed delay is not enough: setting up a devnet's task
# takes from 2 s to more than 15 s, with the EVM and other devnets on the same host.
HELD_BACK = ("1:600", "2:600", "3:600")


def release_after_contribution(net: Devnet, task: str, first: str, *, workers: tuple[int, ...]) -> None:
    def contributed() -> bool:
        view = net.task_view(task) or {"replicates": []}
        return any(
            r["walletAddress"].lower() == first.lower()
            and r["currentStatus"] in ("CONTRIBUTED", "REVEALING", "REVEALED")
            for r in view["replicates"]
        )

    until(contributed, 90, f"the contribution of {first}", net)
    for index in workers:
        manager.restart_worker(net.home, index, start_delay=0)


def test_trust_3_on_3_honest_workers_completes_and_rewards_every_contributor(tmp_path: Path, chain_kind: str) -> None:
    with devnet(tmp_path, chain_kind, workers=3) as net:
        chain = ledger(net)
        before = {w: (chain.view_account(w), chain.view_score(w)) for w in wallets(net)}
        [task] = run_task(net, trust=3, category=short_category(net))
        debug = watch(net, task)
        assert debug["status"] == "COMPLETED", json.dumps(debug, indent=1)
        contributors = debug["onchain"]["contributors"]
        assert len(contributors) >= 2  # trust 3: two agreeing fresh workers are enough (poco.md §8.3)
        for worker in contributors:
            assert chain.view_contribution(task, worker).status is CCS.PROVED, worker  # every contributor won
            account, score = chain.view_account(worker), chain.view_score(worker)
            assert account.balance + account.frozen > before[worker][0].balance + before[worker][0].frozen
            assert score == before[worker][1] + 1  # replicated task: +1 per accurate contribution
            assert replicate_of(debug, worker)["status"] == "COMPLETED"
        chain.close()


def test_a_liar_contributing_first_needs_three_honest_votes_and_loses_its_stake(
    tmp_path: Path, chain_kind: str
) -> None:
    with devnet(tmp_path, chain_kind, workers=4, start_delays=HELD_BACK[1:3]) as net:
        chain = ledger(net)
        liar, *honest = wallets(net)
        # First an honest task with two contributors, so that the liar-to-be has a score to lose.
        [warm_up] = run_task(net, trust=3, category=short_category(net))
        assert watch(net, warm_up)["status"] == "COMPLETED"
        assert chain.view_score(liar) == 1, "two agreeing contributors each win one point of score"
        manager.restart_worker(net.home, 1, start_delay=600)  # held back like workers 2 and 3
        manager.restart_worker(net.home, 0, ("wrong-result",))
        before = chain.view_account(liar), chain.view_score(liar)
        [task] = run_task(net, trust=3, category=short_category(net))
        release_after_contribution(net, task, liar, workers=(1, 2, 3))  # the liar contributes first
        debug = watch(net, task)
        assert debug["status"] == "COMPLETED", json.dumps(debug, indent=1)
        contributors = debug["onchain"]["contributors"]
        assert contributors[0].lower() == liar.lower()
        winners = [w for w in contributors if chain.view_contribution(task, w).status is CCS.PROVED]
        assert sorted(w.lower() for w in winners) == sorted(w.lower() for w in honest)  # three agreeing votes
        assert chain.view_contribution(task, liar).status is CCS.CONTRIBUTED  # a loser: never revealed
        lie = replicate_of(debug, liar)
        assert lie["status"] == "ABORTED" and ("ABORTED", "CONSENSUS_REACHED") in causes(lie)
        assert_reported(
            replicate_reports({"replicates": [lie]}),
            status="ABORTED",
            cause="CONSENSUS_REACHED",
            error="the scheduler asked it to abort (CONSENSUS_REACHED)",
            component="scheduler",
            fix="if the worker voted for another result, its result was wrong",
        )
        account = chain.view_account(liar)
        stake = chain.view_deal(debug["dealId"]).worker_stake
        assert stake > 0 and account.balance + account.frozen == before[0].balance + before[0].frozen - stake
        assert chain.view_score(liar) == before[1] * 2 // 3 == 0  # the penalty: ⌊1 × 2 / 3⌋
        faulty = [
            e
            for e in chain.events(0, None, ("FaultyContribution",))
            if str(e.args.get("taskid")).lower() == task.lower()
        ]
        assert [e.args["worker"].lower() for e in faulty] == [liar.lower()]
        # task debug tells the lie from a nondeterministic app: same files, a digest they do not give
        found = debug["disagreement"]
        assert [w.lower() for w in found["filesNotMatching"]] == [liar.lower()] and found["differingFiles"] == []
        seized = {w.lower(): amount for w, amount in found["results"][1]["seized"].items()}
        assert found["results"][0]["consensus"] and seized == {liar.lower(): stake}
        assert debug["diagnosis"]["cause"] == "DIFFERENT_RESULTS" and debug["diagnosis"]["component"] == "worker"
        chain.close()


def test_a_winner_that_never_reveals_fails_and_the_reopened_task_completes(tmp_path: Path, chain_kind: str) -> None:
    with devnet(tmp_path, chain_kind, "--fault", "0:no-reveal", workers=2, start_delays=HELD_BACK[:1]) as net:
        silent, honest = wallets(net)
        [task] = run_task(net, trust=1, category=short_category(net, 10))
        release_after_contribution(net, task, silent, workers=(1,))  # the silent one is the winner
        debug = watch(net, task)
        assert debug["status"] == "COMPLETED", json.dumps(debug, indent=1)
        history = task_statuses(debug)
        assert history[history.index("CONSENSUS_REACHED") : history.index("CONSENSUS_REACHED") + 4] == [
            "CONSENSUS_REACHED",
            "REOPENING",
            "REOPENED",
            "INITIALIZED",
        ]
        assert history[-1] == "COMPLETED"
        assert_task_reached(debug, "INITIALIZED", "CONSENSUS_REACHED", "REOPENING", "REOPENED", "COMPLETED")
        assert ("FAILED", "REVEAL_TIMEOUT") in causes(replicate_of(debug, silent))
        assert_reported(
            replicate_reports({"replicates": [replicate_of(debug, silent)]}),
            status="FAILED",
            cause="REVEAL_TIMEOUT",
            error="no reveal before the reveal deadline",
            component="worker",
            fix="check why it stopped",
        )
        assert replicate_of(debug, honest)["status"] == "COMPLETED"


def test_no_worker_means_contribution_timeout_then_a_claim_refunds_the_requester(
    tmp_path: Path, chain_kind: str
) -> None:
    with devnet(tmp_path, chain_kind, workers=0) as net:
        # 3 s per task: contribution deadline 21 s, final 30 s (nothing runs: the deadlines are all we wait for)
        [task] = run_task(net, trust=1, category=short_category(net, 3))
        debug = watch(net, task)
        assert task_statuses(debug)[-2:] == ["CONTRIBUTION_TIMEOUT", "FAILED"], json.dumps(debug, indent=1)
        assert_task_failed(
            debug,
            status="CONTRIBUTION_TIMEOUT",
            cause="CONTRIBUTION_TIMEOUT",
            error="deadline",
            component="scheduler",
            fix="longer category",
        )
        assert_task_reached(debug, "INITIALIZED", "CONTRIBUTION_TIMEOUT", "FAILED")
        chain = ledger(net)
        requester = net.status["requester"]
        before = chain.view_account(requester)
        early = net.cli("task", "claim", task, "--json", check=False)
        if early.code == 0:  # the final deadline had passed already (a busy host): that was the claim
            claimed = early.json()
        else:  # before the final deadline: one line that says until when, and nothing changed
            lines = [line for line in early.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and "not claimable yet" in lines[0] and "final deadline" in lines[0], early.stderr
            assert chain.view_account(requester) == before
            final = chain.view_task(task).final_deadline
            until(lambda: chain.now() >= final, 60, "the final deadline", net)
            claimed = net.cli("task", "claim", task, "--json").json()
        assert claimed["claimed"] and claimed["refunded"] > 0
        after = chain.view_account(requester)
        assert after.balance - before.balance == claimed["refunded"]
        assert net.cli("task", "debug", task, "--json").json()["onchainStatus"] == "FAILED"
        again = net.cli("task", "claim", task, check=False)
        assert again.code != 0 and "already claimed" in again.stderr
        chain.close()


def test_a_worker_that_crashes_after_contributing_is_lost_then_recovers_and_completes(
    tmp_path: Path, chain_kind: str
) -> None:
    with devnet(tmp_path, chain_kind, "--fault", "0:crash-after-contribute", workers=1) as net:
        [worker] = wallets(net)
        [task] = run_task(net, trust=1, category=short_category(net, 15))

        def lost() -> bool:
            view = net.task_view(task) or {"replicates": []}
            return any(r["currentStatus"] == "WORKER_LOST" for r in view["replicates"])

        until(lost, 60, "WORKER_LOST", net)
        manager.restart_worker(net.home, 0)  # without the fault
        debug = watch(net, task)
        assert debug["status"] == "COMPLETED", json.dumps(debug, indent=1)
        history = [s for s, _ in causes(replicate_of(debug, worker))]
        assert "WORKER_LOST" in history and "RECOVERING" in history
        assert history.index("CONTRIBUTED") < history.index("WORKER_LOST") < history.index("REVEALED")
        assert history[-1] == "COMPLETED"


def test_a_scheduler_killed_mid_run_and_restarted_completes_every_task(tmp_path: Path, chain_kind: str) -> None:
    with devnet(tmp_path, chain_kind, workers=2) as net:
        app = net.deploy_app(MISBEHAVE)  # `sleep 12`: the tasks are still computing when the scheduler dies
        tasks = net.cli(
            "run",
            app,
            "--trust",
            "1",
            "--category",
            short_category(net, 15),
            "--tasks",
            "4",
            "--args",
            "sleep 12",
            "--json",
        ).json()["taskIds"]
        scheduler = net.status["scheduler"]

        def running() -> str | None:
            # Read straight from the scheduler (a CLI process can take seconds to start on a busy host).
            status = httpx.get(f"{scheduler}/tasks/{tasks[0]}", timeout=10).json().get("currentStatus")
            return None if status in (None, "RECEIVED", "INITIALIZING", "INITIALIZED") else status

        assert until(running, 60, "a running task", net) == "RUNNING"
        manager.kill_scheduler(net.home)
        killed_at = time.time()
        manager.restart_scheduler(net.home)
        for task in tasks:
            debug = watch(net, task)
            assert debug["status"] == "COMPLETED", json.dumps(debug, indent=1)
            assert_task_reached(debug, "RUNNING", "COMPLETED")
            completed = parse_time(debug["statusHistory"][-1]["date"])
            assert completed is not None and completed > killed_at, json.dumps(debug, indent=1)  # by the restarted one


def test_devnet_start_on_a_dead_home_restarts_on_the_same_chain_and_database(tmp_path: Path, chain_kind: str) -> None:
    import os
    import signal

    with devnet(tmp_path, chain_kind, workers=1) as net:
        [first] = run_task(net, trust=1, category=short_category(net, 15))
        assert watch(net, first)["status"] == "COMPLETED"
        state = json.loads((net.home / "devnet.json").read_text())
        manager.kill_worker(net.home, 0)
        manager.kill_scheduler(net.home)
        for name, process in state["processes"].items():  # every server of the home (sms, results, files, evmnode…)
            if name != "scheduler":
                os.killpg(process["pid"], signal.SIGKILL)
        until(
            lambda: manager.running_pids(manager.load_state(net.home)) == [],
            10,
            "a dead home: nothing left running",
            net,
        )
        restarted = run_cli(
            "devnet", "start", "--chain", chain_kind, "--workers", "1", "--json", home=net.home, timeout=120
        ).json()
        assert restarted["workerpool"] == net.status["workerpool"] and restarted["chain"] == net.status["chain"]
        chain = ledger(net)
        assert chain.view_task(first).status is CTS.COMPLETED  # same chain: the ledger kept the first task
        chain.close()
        assert net.cli("task", "debug", first, "--json").json()["status"] == "COMPLETED"  # same database
        [second] = run_task(net, trust=1, category=short_category(net, 15))
        assert watch(net, second)["status"] == "COMPLETED"
