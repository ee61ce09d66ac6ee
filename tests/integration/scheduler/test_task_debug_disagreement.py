"""`pocopool task debug` against a real scheduler and LocalChain when two workers of a trust-3 task
contribute different results (issue 27.6, decision 120): the scheduler keeps the result files'
hashes each worker reported with COMPUTED, shows only their variants, and the requester is told
which file differed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re

from pocopool.protocol.digest import digests_of_files
from scheduler_harness import WORKER_KEYS, Ledger, SimWorker, running_scheduler, wait_for
from test_task_debug_logs_and_scores import devnet_home, pocopool


def files(time: str) -> dict[str, str]:
    contents = {"time.txt": f"{time}\n".encode(), "constant.txt": b"the same on every run\n"}
    return {path: "0x" + hashlib.sha256(content).hexdigest() for path, content in contents.items()}


async def disagreeing_task(scheduler, ledger: Ledger) -> tuple[str, list[SimWorker]]:
    """Two fresh workers (weight 2 each) of a trust-3 task compute different times and contribute
    the digests of their own files: no consensus, the task stays RUNNING."""
    [task_id] = ledger.task_ids(ledger.new_deal(trust=3))
    await scheduler.tick()
    workers = [await SimWorker(scheduler, ledger, WORKER_KEYS[6 + i], f"clock-{i}").join() for i in range(2)]
    for worker in workers:
        summary = await wait_for(worker.ask)
        assert summary.workerpoolAuthorization.chainTaskId == task_id
    for worker, time in zip(workers, ("1765110000000000001", "1765110000000000002"), strict=True):
        reported = files(time)
        [digest] = digests_of_files(reported)
        worker.digest = lambda _result, digest=digest: digest  # type: ignore[method-assign]
        await worker.compute(task_id, result_files=reported)
        await worker.contribute(task_id)
    return task_id, workers


async def test_task_debug_names_the_file_that_differed_between_two_contributions(tmp_path, ledger, sqlite_url):
    async with running_scheduler(ledger, sqlite_url) as scheduler:
        task_id, workers = await disagreeing_task(scheduler, ledger)
        try:
            answer = await workers[0].http.get(f"/tasks/{task_id}")
            home = devnet_home(tmp_path, tmp_path / "chain.db", ledger, scheduler.url)
            view = json.loads(
                await asyncio.to_thread(pocopool, "task", "debug", task_id, "--json", "--home", str(home))
            )
            text = await asyncio.to_thread(pocopool, "task", "debug", task_id, "--home", str(home))
        finally:
            for worker in workers:
                await worker.aclose()

    public = answer.json()
    shown = {r["walletAddress"].lower(): r for r in public["replicates"]}
    first, second = (shown[w.wallet.lower()] for w in workers)
    assert first["resultFiles"] == {"constant.txt": 1, "time.txt": 1}
    assert second["resultFiles"] == {"constant.txt": 1, "time.txt": 2}
    assert first["resultFilesMatch"] is True and second["resultFilesMatch"] is True
    assert not re.search(r"0x[0-9a-f]{64}", json.dumps([first["resultFiles"], second["resultFiles"]]))

    found = view["disagreement"]
    assert found["summary"] == "2 replicates contributed 2 different results; none reached the consensus."
    assert found["differingFiles"] == ["time.txt"] and found["sameFiles"] == ["constant.txt"]
    assert view["diagnosis"]["cause"] == "DIFFERENT_RESULTS"
    assert view["diagnosis"]["summary"].startswith("Not failed (yet), but its replicates disagree")
    assert "Disagreement" in text and "files that differed: time.txt" in text
    assert "files that were the same: constant.txt" in text and "the same on every run" not in text
    # said once: the diagnosis gives the likely cause and the fix, the disagreement section the facts
    assert "evidence     files that differed: time.txt" in text and "  error  " not in text
    assert "likely cause: " not in text and "what to do: " not in text, text
