"""What a task waits for, its timeline and consensus per replicate: pure functions over the typed
task view (built here from plain data, as the SDK parses the scheduler's answer)."""

from __future__ import annotations

from pocopool.protocol.contributions import contributions
from pocopool.protocol.statuses import ChainTaskStatus
from pocopool.protocol.time import iso
from pocopool.protocol.timeline import axis, timeline
from pocopool.protocol.views import OnChainTask, ScoreMove, StakeMove, TaskView, WorkerView
from pocopool.protocol.waiting import contributions_needed, waiting_for

T0 = 1_700_000_000
TASK = "0x" + "11" * 32
W1, W2, W3 = ("0x" + c * 40 for c in "abc")
H_GOOD, H_BAD = "0x" + "aa" * 32, "0x" + "bb" * 32


def model(status: str, replicates=(), **extra) -> TaskView:
    return TaskView.model_validate(
        {
            "chainTaskId": TASK,
            "currentStatus": status,
            "trust": 1,
            "tag": "0x" + "00" * 32,
            "maxExecutionTime": 300_000,
            "dappName": "http://files/app.tar.gz",
            "contributionDeadline": iso(T0 + 420),
            "finalDeadline": iso(T0 + 600),
            "dateStatusList": [{"status": "RECEIVED", "date": iso(T0)}, {"status": status, "date": iso(T0 + 5)}],
            "replicates": [{"chainTaskId": TASK, **r} for r in replicates],
            **extra,
        }
    )


def replicate(wallet: str, status: str, contribution: str | None = None, history=()) -> dict:
    updates = [{"status": "CREATED", "date": iso(T0 + 6)}] + [
        {"status": s, "date": iso(T0 + 7 + i), **({"cause": c} if c else {})} for i, (s, c) in enumerate(history)
    ]
    return {
        "walletAddress": wallet,
        "currentStatus": status,
        "contributionHash": contribution,
        "statusUpdateList": updates,
        "workerWeight": 2,
    }


def worker(wallet: str, alive=True, slots=2, computing=(), tee=False) -> WorkerView:
    return WorkerView.model_validate(
        {
            "walletAddress": wallet,
            "alive": alive,
            "maxNbTasks": slots,
            "computingChainTaskIds": list(computing),
            "teeEnabled": tee,
            "participatingChainTaskIds": list(computing),
        }
    )


def test_a_final_task_waits_for_nothing():
    assert waiting_for(model("COMPLETED"), [], None, T0) is None


def test_an_initialized_task_with_no_worker_alive_says_so_with_its_deadlines():
    found = waiting_for(model("INITIALIZED"), [worker(W1, alive=False)], None, T0 + 20)
    assert found["reason"] == "NO_WORKER_CAN_TAKE_IT" and "no worker is alive" in found["summary"]
    deadline = {d["name"]: d for d in found["deadlines"]}
    assert deadline["contributionDeadline"]["at"] == iso(T0 + 420)
    assert deadline["contributionDeadline"]["secondsLeft"] == 400
    assert "CONTRIBUTION_TIMEOUT" in deadline["contributionDeadline"]["whenPassed"]
    assert f"pocopool task claim {TASK}" in deadline["finalDeadline"]["whenPassed"]
    assert "claim" not in found


def test_busy_slots_and_unsupported_tags_are_told_apart():
    busy = waiting_for(model("INITIALIZED"), [worker(W1, slots=1, computing=["0x" + "22" * 32])], None, T0)
    assert busy["reason"] == "NO_WORKER_CAN_TAKE_IT" and "slots" in busy["summary"]
    tee = waiting_for(model("INITIALIZED", tag="0x" + "00" * 31 + "03"), [worker(W1)], None, T0)
    assert tee["reason"] == "NO_WORKER_CAN_TAKE_IT" and "TEE" in tee["summary"]


def test_a_running_task_counts_the_contributions_the_trust_needs():
    assert contributions_needed(1) == 1 and contributions_needed(3) == 2
    task = model("RUNNING", [replicate(W1, "CONTRIBUTED", H_GOOD), replicate(W2, "COMPUTING")], trust=3)
    found = waiting_for(task, [worker(W1), worker(W2)], None, T0)
    assert found["reason"] == "CONTRIBUTIONS"
    assert "1 of the 2 agreeing contribution(s) needed for trust 3" in found["summary"]


def test_reveals_pending_and_the_refund_once_the_final_deadline_passed():
    task = model(
        "CONSENSUS_REACHED",
        [replicate(W1, "REVEALING", H_GOOD), replicate(W2, "CONTRIBUTED", H_BAD)],
        consensus=H_GOOD,
        revealDeadline=iso(T0 + 500),
    )
    found = waiting_for(task, [], OnChainTask(status=ChainTaskStatus.REVEALING), T0 + 700)
    assert found["reason"] == "REVEALS" and "0 of 1 winner(s) revealed" in found["summary"]
    assert iso(T0 + 500) in found["summary"]
    assert found["claim"] == f"pocopool task claim {TASK}"


def test_an_upload_names_the_worker_asked():
    found = waiting_for(model("RESULT_UPLOADING", uploadingWorkerWalletAddress=W1), [], None, T0)
    assert found["reason"] == "UPLOAD" and W1 in found["summary"]


def test_the_timeline_puts_the_task_and_its_replicates_on_one_axis_with_failures_marked():
    task = model(
        "FAILED", [replicate(W1, "FAILED", history=[("COMPUTING", None), ("COMPUTE_FAILED", "APP_COMPUTE_FAILED")])]
    )
    data = timeline(task, T0 + 100)
    assert data["origin"] == iso(T0) and data["duration"] == 8
    assert [s["status"] for s in data["task"]] == ["RECEIVED", "FAILED"]
    [rep] = data["replicates"]
    failed = [s for s in rep["stages"] if s["failure"]]
    assert failed == [
        {
            "status": "COMPUTE_FAILED",
            "start": 8,
            "end": 8,
            "at": iso(T0 + 8),
            "failure": True,
            "phase": "failure",
            "cause": "APP_COMPUTE_FAILED",
        }
    ]
    assert rep["stages"][0]["start"] == 6 and rep["stages"][0]["end"] == 7
    assert [s["phase"] for s in rep["stages"]] == ["start", "compute", "failure"]


def test_consensus_per_replicate_with_rewards_and_seized_stakes():
    task = model(
        "COMPLETED",
        [
            replicate(W1, "COMPLETED", H_GOOD, [("REVEALED", None)]),
            replicate(W2, "FAILED", H_BAD),
            replicate(W3, "ABORTED"),
        ],
        consensus=H_GOOD,
    )
    events = [
        StakeMove("Reward", owner=W1, amount=7, ref=TASK),
        StakeMove("Seize", owner=W2, amount=3, ref=TASK),
        StakeMove("Reward", owner=W1, amount=100, ref="0x" + "99" * 32),
    ]
    rows = {r["worker"]: r for r in contributions(task, None, events)}
    assert rows[W1] == {
        "worker": W1,
        "contributionHash": H_GOOD,
        "agrees": True,
        "revealed": True,
        "reward": 7,
        "seized": 0,
        "weight": 2,
        "scoreBefore": None,
        "scoreAfter": None,
        "scoreChange": None,
    }
    assert rows[W2]["agrees"] is False and rows[W2]["seized"] == 3
    assert rows[W3]["agrees"] is None and rows[W3]["reward"] == 0


def test_consensus_rows_show_each_workers_weight_and_its_score_before_and_after_the_task():
    def scored(wallet: str, status: str, contribution: str | None, weight: int, score: int) -> dict:
        return {**replicate(wallet, status, contribution), "workerWeight": weight, "workerScore": score}

    task = model(
        "COMPLETED",
        [scored(W1, "COMPLETED", H_GOOD, 3, 12), scored(W2, "FAILED", H_BAD, 2, 7), replicate(W3, "ABORTED")],
        consensus=H_GOOD,
    )
    score_moves = [
        ScoreMove("AccurateContribution", worker=W1, task_id=TASK),
        ScoreMove("FaultyContribution", worker=W2, task_id=TASK),
        ScoreMove("FaultyContribution", worker=W1, task_id="0x" + "99" * 32),  # another task's
    ]
    now = {W1.upper().replace("0X", "0x"): 13, W2: 4, W3: 9}
    done = OnChainTask(status=ChainTaskStatus.COMPLETED, consensus_value=H_GOOD)
    rows = {r["worker"]: r for r in contributions(task, done, [], now, score_moves)}
    pick = ("weight", "scoreBefore", "scoreAfter", "scoreChange")
    assert [rows[W1][k] for k in pick] == [3, 12, 13, "+1"]
    assert [rows[W2][k] for k in pick] == [2, 7, 4, "×2/3"]
    assert [rows[W3][k] for k in pick] == [None, None, 9, None]  # no contribution: no weight, no change

    # Before the finalize nothing moved yet; after it, a contributor without an event kept its score.
    running = {r["worker"]: r for r in contributions(task, OnChainTask(ChainTaskStatus.REVEALING), [], now)}
    assert running[W1]["scoreChange"] is None
    alone = {r["worker"]: r for r in contributions(task, done, [], now)}
    assert alone[W1]["scoreChange"] == "none"


def test_a_tee_task_waits_for_a_tee_capable_worker_until_one_is_alive():
    tee_tag = "0x" + "00" * 31 + "05"
    none = waiting_for(model("INITIALIZED", tag=tee_tag), [worker(W1), worker(W2, alive=False, tee=True)], None, T0)
    assert none["reason"] == "NO_WORKER_CAN_TAKE_IT"
    assert none["summary"].startswith("waiting for a TEE-capable worker")
    assert "GRAMINE" in none["summary"] and "teeEnabled" in none["summary"]
    found = waiting_for(model("INITIALIZED", tag=tee_tag), [worker(W1), worker(W2, tee=True)], None, T0)
    assert found["reason"] == "CONTRIBUTIONS" and "TEE-capable" not in found["summary"]
    initializing = waiting_for(model("INITIALIZING", tag=tee_tag), [], None, T0)
    assert any("enclave challenge" in d for d in initializing["details"])


def test_the_waiting_text_says_what_the_supply_does_with_a_lost_or_an_overdue_replicate():
    lost = model(
        "RUNNING",
        [replicate(W1, "WORKER_LOST", history=[("STARTING", None), ("COMPUTING", None), ("WORKER_LOST", None)])],
    )
    found = waiting_for(lost, [worker(W1, alive=False), worker(W2)], None, T0 + 20)
    assert found["reason"] == "CONTRIBUTIONS", found
    assert (
        f"worker {W1} is lost (it stopped pinging the scheduler): its place is given to the next worker that asks"
        in found["details"]
    ), found
    assert (
        "more replicates are needed; 1 worker(s) have a free slot: the next one that asks for work gets it"
        in found["details"]
    ), found
    # Still computing, but created more than one period (300 s) ago: the supply no longer waits for it.
    overdue = model("RUNNING", [replicate(W1, "COMPUTING", history=[("STARTING", None), ("COMPUTING", None)])])
    early = waiting_for(overdue, [worker(W1), worker(W2)], None, T0 + 20)
    assert not any("more replicates are needed" in d for d in early["details"]), early
    late = waiting_for(overdue, [worker(W1), worker(W2)], None, T0 + 6 + 300)
    assert (
        "more replicates are needed; 1 worker(s) have a free slot: the next one that asks for work gets it"
        in late["details"]
    ), late
    assert f"worker {W1} is at COMPUTING" in late["details"], late


def revealed(wallet: str) -> dict:
    steps = [("COMPUTED", None), ("CONTRIBUTED", None), ("REVEALING", None), ("REVEALED", None)]
    return replicate(wallet, "REVEALED", H_GOOD, history=steps)


def test_a_finalize_that_waits_for_a_winner_to_reveal_names_it_its_deadline_and_what_follows():
    """Issue 17.1: trust 3, one winner never reveals; the finalize comes at the reveal deadline."""
    silent = replicate(W3, "CONTRIBUTED", H_GOOD, history=[("COMPUTED", None), ("CONTRIBUTED", None)])
    task = model(
        "RESULT_UPLOADED",
        [revealed(W1), revealed(W2), silent],
        trust=3,
        consensus=H_GOOD,
        revealDeadline=iso(T0 + 500),
    )
    found = waiting_for(task, [], None, T0 + 100)
    assert found["reason"] == "REVEALS"
    assert found["summary"].startswith(f"waiting for {W3} to reveal until {iso(T0 + 500)}: 2 of 3 winner(s)")
    reveal = next(d for d in found["deadlines"] if d["name"] == "revealDeadline")
    assert reveal["at"] == iso(T0 + 500) and reveal["secondsLeft"] == 400
    assert (
        reveal["whenPassed"]
        == f"{W3} loses the stake of the task and the scheduler finalizes with the 2 reveal(s) it has"
    )
    after = waiting_for(task, [], None, T0 + 501)
    assert after["reason"] == "TRANSACTION_PENDING"
    assert after["summary"] == "waiting for the scheduler to send the finalize transaction (the reveal deadline passed)"
    everyone = model("RESULT_UPLOADED", [revealed(W1)], consensus=H_GOOD, revealDeadline=iso(T0 + 500))
    assert "(every winner revealed)" in waiting_for(everyone, [], None, T0 + 100)["summary"]


def test_an_upload_says_what_the_finalize_will_wait_for_next():
    silent = replicate(W2, "CONTRIBUTED", H_GOOD, history=[("CONTRIBUTED", None)])
    task = model(
        "RESULT_UPLOADING",
        [revealed(W1), silent],
        consensus=H_GOOD,
        uploadingWorkerWalletAddress=W1,
        revealDeadline=iso(T0 + 500),
    )
    found = waiting_for(task, [], None, T0 + 100)
    assert found["reason"] == "UPLOAD" and "another revealer is asked" in found["summary"]
    assert (
        f"then the finalize waits for {W2} to reveal until {iso(T0 + 500)} (or for the reveal deadline)"
        in found["details"]
    )
    assert [d["name"] for d in found["deadlines"]] == ["revealDeadline", "finalDeadline"]


def test_a_short_stage_inside_a_long_task_gets_room_on_a_warped_axis():
    """Issue 17.8: 0.3 s of compute inside a 30 s task must show on a 60-character timeline."""
    history = [("COMPUTING", None), ("COMPUTED", None), ("CONTRIBUTED", None)]
    task = model("COMPLETED", [replicate(W1, "CONTRIBUTED", H_GOOD, history=history)])
    data = timeline(task, T0 + 100)
    compute = next(s for r in data["replicates"] for s in r["stages"] if s["status"] == "COMPUTING")
    compute["end"] = compute["start"] + 0.3  # 0.3 s of work...
    data["duration"] = 30.0  # ...inside a 30 s task
    linear = axis({**data, "replicates": []}, 59, 1.0)
    assert linear.linear
    warped = axis(data, 59, 1.0)
    assert not warped.linear
    assert warped.at(compute["end"]) - warped.at(compute["start"]) >= 1.0  # at least one character
    assert warped.at(0) == 0 and abs(warped.at(30.0) - 59) < 1e-9
    positions = [warped.at(t / 10) for t in range(301)]
    assert positions == sorted(positions)  # monotonic: the order of events is kept
    ticks = warped.ticks()
    assert ticks[0] == (0.0, 0.0) and ticks[-1][0] == 30.0 and len(ticks) <= 5


def test_every_transaction_the_task_waits_for_says_what_follows_it():
    received = waiting_for(model("RECEIVED"), [], None, T0)
    assert received["details"][0] == (
        "transaction: initialize; then the task is INITIALIZED and the next workers that ask for work get it"
    )
    finalizing = waiting_for(model("FINALIZING"), [], None, T0)
    assert "then the task is COMPLETED: the result is on chain and the workers are paid" in finalizing["details"][0]
    failing = waiting_for(model("CONTRIBUTION_TIMEOUT"), [], None, T0)
    assert failing["details"] == [
        f"then the requester can claim a refund from the final deadline: pocopool task claim {TASK}"
    ]
    assert [d["name"] for d in failing["deadlines"]] == ["finalDeadline"]
