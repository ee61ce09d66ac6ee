"""The detectors' indexed queries and decisions on SQLite and PostgreSQL, through the virtual-time
cluster (devnet/cluster.py): reveal timeout and reopen, unnotified contribution, worker lost and
recovery, result upload timeout."""

from __future__ import annotations

from pathlib import Path

from pocopool.devnet.cluster import Cluster
from pocopool.protocol.statuses import ReplicateStatus as RS
from pocopool.protocol.statuses import TaskStatus as TS
from proving import assert_task_failed

FINAL = ("COMPLETED", "FAILED")


def final(cluster: Cluster, task_id: str):
    async def done() -> bool:
        return await cluster.task_status(task_id) in FINAL

    return done


async def history(cluster: Cluster, task_id: str) -> list[str]:
    details = await cluster.scheduler.store.task_details(task_id)
    return [change["status"] for change in details.changes]


async def test_reveal_timeout_reopen_and_a_new_worker(tmp_path: Path, db_url: str) -> None:
    async with Cluster.open(tmp_path, ["no-reveal", "honest"], start_delays={1: 30}, db_url=db_url) as cluster:
        [task] = cluster.new_deal(trust=1)
        await cluster.run_until(final(cluster, task), max_seconds=700)
        statuses = await history(cluster, task)
        assert ["REOPENING", "REOPENED", "INITIALIZED"] == statuses[statuses.index("REOPENING") :][:3]
        assert statuses[-1] == "COMPLETED"
        silent = await cluster.scheduler.store.replicate(task, cluster.workers[0].wallet)
        assert silent.last_relevant is RS.FAILED


async def test_unnotified_contribution_and_lost_worker_are_found(tmp_path: Path, db_url: str) -> None:
    workers = ["unnotified-contribute", "crash-after-contribute"]
    async with Cluster.open(tmp_path, workers, worker_lost_after=5, db_url=db_url, slots=1) as cluster:
        _, crashing = cluster.workers
        tasks = cluster.new_deal(trust=1, volume=2)
        store = cluster.scheduler.store

        async def crashed_is_lost() -> bool:
            held = [t for t in tasks if await store.replicate(t, crashing.wallet) is not None]
            return bool(held) and (await store.replicate(held[0], crashing.wallet)).status is RS.WORKER_LOST

        await cluster.run_until(crashed_is_lost, max_seconds=120)
        assert await store.lost_replicates(cluster.clock.now() - 5, cluster.clock.now()) == []  # once only
        cluster.restart(crashing)
        for task in tasks:
            await cluster.run_until(final(cluster, task), max_seconds=600)
            assert (await history(cluster, task))[-1] == TS.COMPLETED.value


async def test_a_lone_silent_uploader_ends_in_result_upload_timeout(tmp_path: Path, db_url: str) -> None:
    async with Cluster.open(tmp_path, ["no-upload"], db_url=db_url) as cluster:
        [task] = cluster.new_deal(trust=1)
        await cluster.run_until(final(cluster, task), max_seconds=900)
        assert (await history(cluster, task))[-2:] == ["RESULT_UPLOAD_TIMEOUT", "FAILED"]
        details = await cluster.scheduler.store.task_details(task)
        assert_task_failed(
            {"statusHistory": details.changes},
            status="RESULT_UPLOAD_TIMEOUT",
            cause="RESULT_UPLOAD_TIMEOUT",
            error="no revealer uploaded the result",
            component="storage",
            fix="result store is up",
        )
