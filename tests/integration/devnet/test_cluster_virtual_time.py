"""Deadline scenarios of minutes, run in an in-process cluster on a virtual clock (devnet/cluster.py):
real ledger, real scheduler services and store, simulated workers, no sleeping."""

from __future__ import annotations

import time
from pathlib import Path

from pocopool.devnet.cluster import Cluster, worker_account
from pocopool.protocol.statuses import ChainContributionStatus as CCS
from pocopool.protocol.statuses import ChainTaskStatus as CTS
from proving import assert_task_failed

FINAL = ("COMPLETED", "FAILED")


async def task_history(cluster: Cluster, task_id: str) -> list[str]:
    details = await cluster.scheduler.store.task_details(task_id)
    return [change["status"] for change in details.changes]


async def replicate_causes(cluster: Cluster, task_id: str, wallet: str) -> list[tuple[str, str | None]]:
    replicate = await cluster.scheduler.store.replicate(task_id, wallet)
    assert replicate is not None
    return [(e.status.value, e.cause.value if e.cause else None) for e in replicate.history]


def final(cluster: Cluster, task_id: str):
    async def done() -> bool:
        return await cluster.task_status(task_id) in FINAL

    return done


async def test_a_ten_minute_contribution_timeout_with_no_worker_takes_no_time(tmp_path: Path) -> None:
    started = time.monotonic()
    async with Cluster.open(tmp_path, workers=[], time_ref=100) as cluster:
        [task] = cluster.new_deal(trust=1)
        waited = await cluster.run_until(final(cluster, task), max_seconds=1200, step=30)
        history = await task_history(cluster, task)
        assert history[-2:] == ["CONTRIBUTION_TIMEOUT", "FAILED"]
        assert 700 <= waited <= 730  # contribution deadline = 7 periods of 100 s
    assert time.monotonic() - started < 3  # under a second on an idle machine


async def test_trust_1_with_one_honest_worker_completes(tmp_path: Path) -> None:
    async with Cluster.open(tmp_path, workers=["honest"]) as cluster:
        [task] = cluster.new_deal(trust=1)
        await cluster.run_until(final(cluster, task), max_seconds=600)
        assert (await task_history(cluster, task))[-1] == "COMPLETED"
        assert cluster.chain.view_task(task).status is CTS.COMPLETED


async def test_a_silent_winner_is_reopened_and_a_new_worker_completes(tmp_path: Path) -> None:
    async with Cluster.open(tmp_path, workers=["no-reveal", "honest"], start_delays={1: 30}) as cluster:
        silent, honest = cluster.workers
        [task] = cluster.new_deal(trust=1)
        await cluster.run_until(final(cluster, task), max_seconds=700)
        history = await task_history(cluster, task)
        i = history.index("CONSENSUS_REACHED")
        assert history[i : i + 4] == ["CONSENSUS_REACHED", "REOPENING", "REOPENED", "INITIALIZED"]
        assert history[-1] == "COMPLETED"
        assert ("FAILED", "REVEAL_TIMEOUT") in await replicate_causes(cluster, task, silent.wallet)
        assert cluster.chain.view_contribution(task, honest.wallet).status is CCS.PROVED
        assert cluster.chain.view_contribution(task, silent.wallet).status is CCS.REJECTED


async def test_a_winner_that_does_not_reveal_fails_while_the_others_complete_the_task(tmp_path: Path) -> None:
    async with Cluster.open(tmp_path, workers=["no-reveal", "honest"], start_delays={1: 2}) as cluster:
        silent, _ = cluster.workers
        [task] = cluster.new_deal(trust=3)
        await cluster.run_until(final(cluster, task), max_seconds=700)
        history = await task_history(cluster, task)
        assert history[-1] == "COMPLETED" and "REOPENING" not in history
        assert ("FAILED", "REVEAL_TIMEOUT") in await replicate_causes(cluster, task, silent.wallet)


async def test_a_liar_first_makes_three_honest_votes_necessary(tmp_path: Path) -> None:
    workers = ["wrong-result", "honest", "honest", "honest"]
    async with Cluster.open(tmp_path, workers=workers, start_delays={1: 5, 2: 5, 3: 5}) as cluster:
        liar = cluster.workers[0]
        [task] = cluster.new_deal(trust=3)
        await cluster.run_until(final(cluster, task), max_seconds=700)
        assert (await task_history(cluster, task))[-1] == "COMPLETED"
        chain_task = cluster.chain.view_task(task)
        assert chain_task.contributors[0] == liar.wallet and chain_task.winner_counter == 3
        assert ("ABORTED", "CONSENSUS_REACHED") in await replicate_causes(cluster, task, liar.wallet)


async def test_an_uploader_that_never_uploads_is_replaced_by_the_next_revealer(tmp_path: Path) -> None:
    # Both workers reveal at the same virtual instant, and the uploader is then chosen by wallet
    # (engine.choose_uploader): the lazy worker gets the cluster slot whose wallet sorts first.
    wallets = [worker_account(index).address.lower() for index in (0, 1)]
    lazy_index = 0 if wallets[0] < wallets[1] else 1
    faults = ["honest", "honest"]
    faults[lazy_index] = "no-upload"
    async with Cluster.open(tmp_path, workers=faults, start_delays={1 - lazy_index: 2}) as cluster:
        lazy, honest = cluster.workers[lazy_index], cluster.workers[1 - lazy_index]
        [task] = cluster.new_deal(trust=3)
        await cluster.run_until(final(cluster, task), max_seconds=900)
        assert (await task_history(cluster, task))[-1] == "COMPLETED"
        assert "RESULT_UPLOAD_FAILED" in [s for s, _ in await replicate_causes(cluster, task, lazy.wallet)]
        assert "RESULT_UPLOADED" in [s for s, _ in await replicate_causes(cluster, task, honest.wallet)]


async def test_a_lone_uploader_that_never_uploads_ends_in_result_upload_timeout(tmp_path: Path) -> None:
    async with Cluster.open(tmp_path, workers=["no-upload"]) as cluster:
        [task] = cluster.new_deal(trust=1)
        await cluster.run_until(final(cluster, task), max_seconds=900)
        assert (await task_history(cluster, task))[-2:] == ["RESULT_UPLOAD_TIMEOUT", "FAILED"]
        details = await cluster.scheduler.store.task_details(task)
        assert_task_failed(
            {"statusHistory": details.changes},
            status="RESULT_UPLOAD_TIMEOUT",
            cause="RESULT_UPLOAD_TIMEOUT",
            error="no revealer uploaded the result",
            component="storage",
            fix="result store is up",
        )


async def test_a_crashed_worker_is_lost_then_recovers_and_completes(tmp_path: Path) -> None:
    async with Cluster.open(tmp_path, workers=["crash-after-contribute"], worker_lost_after=5) as cluster:
        [worker] = cluster.workers
        [task] = cluster.new_deal(trust=1)

        async def lost() -> bool:
            replicate = await cluster.scheduler.store.replicate(task, worker.wallet)
            return replicate is not None and replicate.status.value == "WORKER_LOST"

        await cluster.run_until(lost, max_seconds=60)
        cluster.restart(worker)
        await cluster.run_until(final(cluster, task), max_seconds=600)
        statuses = [s for s, _ in await replicate_causes(cluster, task, worker.wallet)]
        assert (await task_history(cluster, task))[-1] == "COMPLETED"
        assert (
            statuses.index("CONTRIBUTED")
            < statuses.index("WORKER_LOST")
            < statuses.index("RECOVERING")
            < statuses.index("REVEALED")
        )


async def test_a_slow_worker_misses_the_deadline_and_the_task_times_out(tmp_path: Path) -> None:
    async with Cluster.open(tmp_path, workers=["slow"], time_ref=100) as cluster:
        [task] = cluster.new_deal(trust=1)
        await cluster.run_until(final(cluster, task), max_seconds=1200, step=30)
        assert (await task_history(cluster, task))[-2:] == ["CONTRIBUTION_TIMEOUT", "FAILED"]


async def test_a_contribution_never_reported_is_found_on_chain_by_the_detector(tmp_path: Path) -> None:
    async with Cluster.open(tmp_path, workers=["unnotified-contribute"]) as cluster:
        [worker] = cluster.workers
        [task] = cluster.new_deal(trust=1)
        await cluster.run_until(final(cluster, task), max_seconds=600)
        assert (await task_history(cluster, task))[-1] == "COMPLETED"
        replicate = await cluster.scheduler.store.replicate(task, worker.wallet)
        contributed = next(e for e in replicate.history if e.status.value == "CONTRIBUTED")
        assert contributed.modifier.value == "POOL_MANAGER"
