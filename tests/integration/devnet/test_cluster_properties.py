"""Property tests of the whole scheduler in the virtual-time cluster (devnet/cluster.py, hypothesis).

Random worker behaviours, start delays, crashes, restarts and clock jumps: every task ends exactly once
through table transitions, no worker ever holds two replicates of one task, the ledger's money is
conserved and what the requester paid is exactly what the others received (or got back on a claim).
The pure engine's properties are in tests/unit/test_state_machine_properties.py.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocopool.devnet.cluster import REQUESTER, Cluster
from pocopool.protocol.statuses import (
    ChainTaskStatus as CTS,
)
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
)
from pocopool.protocol.statuses import (
    TaskStatus as TS,
)
from pocopool.protocol.transitions import REPLICATE_TRANSITIONS, is_valid_task_path

# ----- the whole scheduler in virtual time -----------------------------------------------------------

BEHAVIOURS = st.sampled_from(
    [
        "honest",
        "honest",
        "honest",
        "wrong-result",
        "no-reveal",
        "no-upload",
        "crash-after-contribute",
        "slow",
        "offline",
        "unnotified-contribute",
    ]
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    workers = draw(st.lists(BEHAVIOURS, min_size=0, max_size=4))
    return {
        "workers": workers,
        "delays": {i: draw(st.sampled_from([0, 0, 5, 20, 60])) for i in range(len(workers))},
        "trust": draw(st.sampled_from([0, 1, 3, 5])),
        "volume": draw(st.integers(1, 2)),
        "steps": draw(st.lists(st.sampled_from([1, 5, 5, 10, 30, 90]), min_size=8, max_size=20)),
        "restart_at": draw(st.one_of(st.none(), st.integers(2, 12))),
    }


async def _play(directory: Path, scenario: dict) -> None:
    async with Cluster.open(
        directory, workers=scenario["workers"], start_delays=scenario["delays"], worker_lost_after=10, time_ref=20
    ) as cluster:
        supply = cluster.chain.total_supply()
        before = cluster.chain.view_account(REQUESTER.address)
        task_ids = cluster.new_deal(trust=scenario["trust"], volume=scenario["volume"])
        paid = before.balance - cluster.chain.view_account(REQUESTER.address).balance
        for i, seconds in enumerate(scenario["steps"]):
            await cluster.step(seconds)
            if scenario["restart_at"] == i:
                for worker in cluster.workers:
                    if not worker.alive:
                        cluster.restart(worker)
        # Let every deadline pass: each task must end.
        for _ in range(20):
            statuses = [await cluster.task_status(t) for t in task_ids]
            if all(status in ("COMPLETED", "FAILED") for status in statuses):
                break
            await cluster.step(30)
        store = cluster.scheduler.store
        for task_id in task_ids:
            details = await store.task_details(task_id)
            history = [TS(change["status"]) for change in details.changes]
            assert history[0] is TS.RECEIVED and is_valid_task_path(TS.RECEIVED, history[1:]), history
            assert history[-1].is_final and sum(1 for s in history if s.is_final) == 1, history
            wallets = [row["wallet"].lower() for row in details.replicates]
            assert len(wallets) == len(set(wallets)), "a worker holds two replicates of one task"
            for row in details.replicates:
                updates = [RS(u["status"]) for u in details.updates[row["id"]]]
                assert updates[0] is RS.CREATED
                for current, new in itertools.pairwise(updates):
                    assert new in REPLICATE_TRANSITIONS[current], (current, new, updates)
            if history[-1] is TS.COMPLETED:
                assert cluster.chain.view_task(task_id).status is CTS.COMPLETED
        cluster.clock.advance(10 * cluster.time_ref)  # every final deadline is passed: failed tasks are claimable
        for task_id in task_ids:
            chain_task = cluster.chain.view_task(task_id)
            if chain_task.status in (CTS.ACTIVE, CTS.REVEALING):
                cluster.chain.claim(REQUESTER, task_id)  # a failed task is refunded
            elif chain_task.status is CTS.UNSET:
                task = await store.task(task_id)
                assert task is not None
                cluster.chain.initialize_and_claim(REQUESTER, task.deal_id, task.task_index)
        assert cluster.chain.total_supply() == supply  # nothing created, nothing lost
        after = cluster.chain.view_account(REQUESTER.address)
        completed = sum(1 for t in task_ids if cluster.chain.view_task(t).status is CTS.COMPLETED)
        # The requester paid each completed task's price and got every other one back.
        assert before.balance - after.balance == paid * completed // len(task_ids)
        assert after.frozen == before.frozen


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_any_mix_of_workers_faults_and_clock_jumps_ends_every_task_once_and_conserves_money(scenario):
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(_play(Path(directory), scenario))
