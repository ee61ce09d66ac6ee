"""`pocopool task debug` (text and --json) against a real scheduler and LocalChain: a worker's cut
log says it was cut, how much is missing and the setting that changes it, and each worker's weight
and score before and after the task are shown beside the consensus."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from pocopool.cli.main import app
from pocopool.protocol import crypto
from pocopool.protocol.applogs import WORKER_SETTING, describe_cut, keep_end, parse_cut
from pocopool.protocol.statuses import ChainTaskStatus
from scheduler_harness import OWNER, REQUESTER, SCHEDULER, WORKER_KEYS, Ledger, SimWorker, running_scheduler, wait_for

# What a worker started with --app-log-kb 2 reports of an app that printed 5,000 lines.
CUT_STDOUT = keep_end(b"".join(b"step %05d done\n" % i for i in range(5000)), 2048, WORKER_SETTING)
CUT = parse_cut(CUT_STDOUT)[0]
SEASONED_SCORE = 12  # weight max(12 // 3, 3) - 1 = 3; a fresh worker weighs 2 (spec/poco.md §8.2)


async def scored_task_with_a_cut_log(scheduler, ledger: Ledger) -> tuple[str, SimWorker, SimWorker]:
    """A trust-4 task completed by a seasoned worker (score 12, weight 3), whose stdout its worker cut,
    and a fresh one (score 0, weight 2): 3 alone is not enough for trust 4 (3 × 4 ≤ 4 × 3), 3 × 2 is."""
    [task_id] = ledger.task_ids(ledger.new_deal(trust=4))
    await scheduler.tick()
    seasoned = await SimWorker(scheduler, ledger, WORKER_KEYS[4], "seasoned").join()
    fresh = await SimWorker(scheduler, ledger, WORKER_KEYS[5], "fresh").join()
    try:
        ledger.chain._set_score_for_tests(seasoned.wallet, SEASONED_SCORE)
        for worker in (seasoned, fresh):
            summary = await wait_for(worker.ask)
            assert summary.workerpoolAuthorization.chainTaskId == task_id
        await seasoned.compute(task_id, stdout=CUT_STDOUT)
        await fresh.compute(task_id)
        for worker in (seasoned, fresh):
            await worker.contribute(task_id)
        reveals = await asyncio.gather(*(w.next_notification() for w in (seasoned, fresh)))
        assert {n.taskNotificationType for n in reveals} == {"PLEASE_REVEAL"}
        await seasoned.reveal(task_id)
        assert (await seasoned.next_notification()).taskNotificationType == "PLEASE_UPLOAD"
        await fresh.reveal(task_id)
        await seasoned.upload(task_id)
        completes = await asyncio.gather(*(w.next_notification() for w in (seasoned, fresh)))
        assert {n.taskNotificationType for n in completes} == {"PLEASE_COMPLETE"}
        for worker in (seasoned, fresh):
            await worker.complete(task_id)
        await wait_for(lambda: _completed(ledger, task_id))
    finally:
        for worker in (seasoned, fresh):
            await worker.aclose()
    return task_id, seasoned, fresh


async def _completed(ledger: Ledger, task_id: str) -> bool:
    return ledger.chain.view_task(task_id).status is ChainTaskStatus.COMPLETED


def devnet_home(tmp_path: Path, chain_file: Path, ledger: Ledger, scheduler_url: str) -> Path:
    """A devnet home that names this test's chain and scheduler, for the CLI's --home."""
    home = tmp_path / "home"
    home.mkdir()
    key = home / "requester.key"
    key.write_text(crypto.key_hex(REQUESTER))
    state = {
        "home": str(home),
        "chain": f"local:{chain_file}",
        "chainId": 0,
        "workerpool": ledger.workerpool,
        "owner": OWNER.address,
        "schedulerWallet": SCHEDULER.address,
        "requester": REQUESTER.address,
        "keys": {"owner": "", "scheduler": "", "requester": str(key)},
        "scheduler": scheduler_url,
    }
    (home / "devnet.json").write_text(json.dumps(state))
    return home


def pocopool(*args: str) -> str:
    """The CLI's output (it calls the scheduler synchronously: run it off the event loop)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


async def test_task_debug_says_a_log_was_cut_and_shows_each_workers_weight_and_score(tmp_path, ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        task_id, seasoned, fresh = await scored_task_with_a_cut_log(scheduler, ledger)
        home = devnet_home(tmp_path, tmp_path / "chain.db", ledger, scheduler.url)

        view = json.loads(
            await asyncio.to_thread(pocopool, "task", "debug", task_id, "--logs", "--json", "--home", str(home))
        )
        text = await asyncio.to_thread(pocopool, "task", "debug", task_id, "--logs", "--home", str(home))
        without_logs = await asyncio.to_thread(pocopool, "task", "debug", task_id, "--home", str(home))

    replicates = {r["worker"].lower(): r for r in view["replicates"]}
    cut_one, whole_one = replicates[seasoned.wallet.lower()], replicates[fresh.wallet.lower()]
    assert cut_one["logs"]["stdout"] == CUT_STDOUT and cut_one["logs"]["stdoutCut"] == CUT.wire()
    assert cut_one["logsCut"] == {"stdout": CUT.wire()}
    assert "stdoutCut" not in whole_one["logs"] and whole_one["logsCut"] is None
    assert CUT.wire()["setting"] == "worker option --app-log-kb" and CUT.dropped_bytes > 0

    rows = {r["worker"].lower(): r for r in view["consensus"]}
    pick = ("weight", "scoreBefore", "scoreAfter", "scoreChange")
    assert [rows[seasoned.wallet.lower()][k] for k in pick] == [3, SEASONED_SCORE, SEASONED_SCORE + 1, "+1"]
    assert [rows[fresh.wallet.lower()][k] for k in pick] == [2, 0, 1, "+1"]

    sentence = describe_cut(CUT.wire())
    assert sentence.startswith(f"cut: the first {CUT.dropped_bytes:,} bytes ({CUT.dropped_lines:,} lines) were dropped")
    assert sentence in text and CUT_STDOUT.splitlines()[0] not in text  # said once, in words
    assert "| step 04999 done" in text
    assert "weight 3 in the consensus; score 12 at contribution → 13 now (this task: +1, an accurate" in text
    assert "weight 2 in the consensus; score 0 at contribution → 1 now (this task: +1, an accurate" in text
    assert f"stdout log {sentence}" in without_logs and "step 04999" not in without_logs
