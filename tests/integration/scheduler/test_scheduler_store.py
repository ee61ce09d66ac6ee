"""The scheduler store on SQLite and on PostgreSQL: migrations, idempotent ingestion, optimistic
status writes, replicate uniqueness, atomic rate limiting, notifications by cursor."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pocopool.protocol.models import WorkerModel
from pocopool.protocol.statuses import ReplicateStatus as RS
from pocopool.protocol.statuses import ReplicateStatusModifier as Modifier
from pocopool.protocol.statuses import TaskNotificationType as Next
from pocopool.protocol.statuses import TaskStatus as TS
from pocopool.scheduler.engine import Accepted, Notification, ReplicateChange, StatusChange, Transition
from pocopool.scheduler.state import ReplicateEntry
from pocopool.scheduler.store import (
    InvalidTaskTransition,
    NewReplicateUpdate,
    NewTask,
    NotificationRow,
    StaleReplicate,
    Store,
)
from pocopool.scheduler.store.tables import metadata
from pocopool.scheduler.written import written

T0 = 1_700_000_000.0
DEAL = "0x" + "de" * 32
W1, W2 = "0x" + "11" * 20, "0x" + "22" * 20


def new_task(index: int, contribution: float = T0 + 700, final: float = T0 + 1000) -> NewTask:
    return NewTask(
        chain_task_id="0x" + f"{index:02x}" * 32,
        deal_id=DEAL,
        task_index=index,
        deal_block=3,
        trust=1,
        tag="0x" + "00" * 32,
        category=0,
        max_execution_time=100,
        app_address="0x" + "aa" * 20,
        app_multiaddr="http://app",
        command_line="",
        requester="0x" + "bb" * 20,
        beneficiary="0x" + "bb" * 20,
        callback="0x" + "00" * 20,
        contribution_deadline=contribution,
        final_deadline=final,
    )


@pytest.fixture
async def store(db_url):
    opened = Store(db_url)
    await opened.open()
    yield opened
    await opened.close()


async def test_migrations_are_idempotent_and_match_the_tables(store):
    await store.open()  # a second run finds the schema at head

    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), metadata)

    async with store.db.read() as connection:
        assert await connection.run_sync(diff) == []


async def test_tasks_are_created_once_per_deal_and_index_and_the_cursor_moves(store):
    assert await store.cursor() == -1
    created = await store.add_tasks([new_task(0), new_task(1)], 10, T0)
    assert len(created) == 2
    assert await store.add_tasks([new_task(1), new_task(2)], 12, T0) == [new_task(2).chain_task_id]
    assert await store.cursor() == 12
    task, replicates = await store.load(new_task(0).chain_task_id)
    assert task.status is TS.RECEIVED and replicates == []
    assert task.contribution_deadline == T0 + 700
    details = await store.task_details(task.chain_task_id)
    assert [c["status"] for c in details.changes] == ["RECEIVED"]


async def test_task_queries_follow_status_and_deadlines(store):
    await store.add_tasks([new_task(0, T0 + 10, T0 + 20), new_task(1, T0 + 100, T0 + 200)], 1, T0)
    ids = [new_task(0).chain_task_id, new_task(1).chain_task_id]
    assert await store.task_ids([TS.RECEIVED], contribution_deadline_after=T0 + 50) == [ids[1]]
    assert await store.task_ids([TS.RECEIVED], final_deadline_until=T0 + 20) == [ids[0]]
    assert await store.task_ids([TS.RUNNING]) == []


async def test_a_status_write_is_optimistic_and_applies_once_under_concurrency(store):
    await store.add_tasks([new_task(0)], 1, T0)
    task, _ = await store.load(new_task(0).chain_task_id)
    step = Transition(statuses=(StatusChange(TS.INITIALIZING, message="initialize requested"),))
    results = await asyncio.gather(*(store.apply(task, step, [], T0 + 1) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    details = await store.task_details(task.chain_task_id)
    assert [c["status"] for c in details.changes] == ["RECEIVED", "INITIALIZING"]
    # A write based on a stale read changes nothing.
    assert not await store.apply(task, step, [], T0 + 2)


async def test_an_invalid_status_path_is_never_written(store):
    await store.add_tasks([new_task(0)], 1, T0)
    task, _ = await store.load(new_task(0).chain_task_id)
    with pytest.raises(InvalidTaskTransition):
        await store.apply(task, Transition(statuses=(StatusChange(TS.COMPLETED),)), [], T0)
    assert (await store.task(task.chain_task_id)).status is TS.RECEIVED


async def register(store: Store, wallet: str, cpus: int = 1) -> None:
    await store.register_worker(wallet, WorkerModel(name="w", cpuNb=cpus), cpus, T0)


async def test_a_worker_holds_at_most_one_replicate_per_task_and_its_slots(store):
    await store.add_tasks([new_task(0), new_task(1)], 1, T0)
    await register(store, W1, cpus=1)
    first, second = new_task(0).chain_task_id, new_task(1).chain_task_id
    results = await asyncio.gather(*(store.add_replicate(first, W1, 2, 5, T0) for _ in range(4)))
    assert results.count(True) == 1
    assert not await store.add_replicate(second, W1, 2, 1, T0)  # its only slot is taken
    worker = await store.worker(W1)
    assert worker.computing == 1 and worker.participating == (first,)


def _accepted(status: RS, modifier: Modifier, date: float, **effects) -> Accepted:
    fields = {k: effects.pop(k) for k in ("exit_code",) if k in effects}
    return Accepted(entry=NewReplicateUpdate(status, modifier, date, **fields), next_action=Next.PLEASE_WAIT, **effects)


async def _append(store, task_id: str, accepted: Accepted, seen: RS | None = None) -> None:
    """Appends as a decision made on the replicate read in the transaction, or on an older read
    whose status was `seen`."""
    async with store.replicate_writer(task_id, W1) as writer:
        if seen is not None:
            writer.replicate = replace(writer.replicate, history=(ReplicateEntry(seen, T0),))
        await writer.append(accepted)


async def test_a_replicate_update_is_guarded_by_the_status_read_and_frees_slots(store):
    await store.add_tasks([new_task(0)], 1, T0)
    await register(store, W1)
    task_id = new_task(0).chain_task_id
    assert await store.add_replicate(task_id, W1, 2, 1, T0)
    starting = _accepted(RS.STARTING, Modifier.WORKER, T0 + 1)
    await _append(store, task_id, starting, seen=RS.CREATED)
    with pytest.raises(StaleReplicate):
        await _append(store, task_id, starting, seen=RS.CREATED)
    computed = _accepted(
        RS.COMPUTED, Modifier.WORKER, T0 + 2, exit_code=0, free_computing_slot=True, logs=("out", "err", None)
    )
    await _append(store, task_id, computed, seen=RS.STARTING)
    assert (await store.worker(W1)).computing == 0
    await _append(store, task_id, _accepted(RS.WORKER_LOST, Modifier.POOL_MANAGER, T0 + 3), seen=RS.COMPUTED)
    replicate = await store.replicate(task_id, W1)
    assert replicate.status is RS.WORKER_LOST and replicate.last_relevant is RS.COMPUTED
    assert [(log["stdout"], log["stderr"]) for log in await store.task_logs(task_id)] == [("out", "err")]
    await _append(store, task_id, _accepted(RS.ABORTED, Modifier.WORKER, T0 + 4, leave_task=True), seen=RS.WORKER_LOST)
    assert (await store.worker(W1)).participating == ()


async def test_the_replicate_demand_rate_limit_is_atomic(store):
    await register(store, W1)
    results = await asyncio.gather(*(store.claim_replicate_demand(W1, T0 + 10, 5.0) for _ in range(5)))
    assert results.count(True) == 1
    assert not await store.claim_replicate_demand(W1, T0 + 12, 5.0)
    assert await store.claim_replicate_demand(W1, T0 + 15, 5.0)
    assert not await store.claim_replicate_demand(W2, T0, 5.0)  # not registered


async def test_notifications_are_written_with_the_status_and_read_by_cursor(store):
    await store.add_tasks([new_task(0)], 1, T0)
    task, _ = await store.load(new_task(0).chain_task_id)
    rows = [
        NotificationRow(W1, task.chain_task_id, Next.PLEASE_ABORT.value, {"taskAbortCause": "UNKNOWN"}),
        NotificationRow(W2, task.chain_task_id, Next.PLEASE_ABORT.value, {}),
    ]
    failed = Transition(
        statuses=(StatusChange(TS.FINAL_DEADLINE_REACHED), StatusChange(TS.FAILED)),
        notifications=(Notification(Next.PLEASE_ABORT, (W1, W2)),),
    )
    assert await store.apply(task, failed, rows, T0 + 5)
    [mine] = await store.notifications_after(W1, 0)
    assert mine["type"] == "PLEASE_ABORT" and mine["extra"] == {"taskAbortCause": "UNKNOWN"}
    assert await store.notifications_after(W1, mine["id"]) == []
    # A stale write stores no notification either.
    assert not await store.apply(task, failed, rows, T0 + 6)
    assert len(await store.notifications_after(W2, 0)) == 1


def _rounded(value: Any) -> Any:
    """A state as plain data, its times to the millisecond (the store keeps microseconds)."""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item) for item in value]
    return value


async def test_the_state_a_written_transition_leaves_is_the_one_the_store_loads(store):
    """The updater decides its next step on `written(...)` instead of loading the task again."""
    await store.add_tasks([new_task(0)], 1, T0)
    await register(store, W1)
    await register(store, W2)
    task_id = new_task(0).chain_task_id
    assert await store.add_replicate(task_id, W1, 2, 1, T0)
    assert await store.add_replicate(task_id, W2, 3, 1, T0)
    await _append(store, task_id, _accepted(RS.STARTING, Modifier.WORKER, T0 + 1))
    task, replicates = await store.load(task_id)
    step = Transition(
        statuses=(
            StatusChange(TS.INITIALIZING),
            StatusChange(TS.INITIALIZED, block_number=7, tx_hash="0x" + "ab" * 32),
        ),
        fields={"initialization_block": 7, "consensus": "0x" + "cd" * 32, "reveal_deadline": T0 + 50.25},
        replicates=(
            ReplicateChange(
                W1,
                RS.STARTING,
                _accepted(
                    RS.WORKER_LOST,
                    Modifier.POOL_MANAGER,
                    T0 + 2.5,
                    contribution=("0x" + "ef" * 32, 2),
                    result_link="https://results/1",
                    callback_data="0x01",
                ),
            ),
        ),
        notifications=(Notification(Next.PLEASE_ABORT, (W1,)),),
    )
    assert await store.apply(task, step, [], T0 + 3.125)
    expected = written(task, replicates, step, T0 + 3.125)
    loaded = await store.load(task_id)
    assert loaded is not None
    assert _rounded(asdict(loaded[0])) == _rounded(asdict(expected[0]))
    assert _rounded([asdict(r) for r in loaded[1]]) == _rounded([asdict(r) for r in expected[1]])
    assert expected[0].status is TS.INITIALIZED and expected[1][0].status is RS.WORKER_LOST  # it did change
