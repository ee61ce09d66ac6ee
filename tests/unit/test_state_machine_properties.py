"""Property tests of the task and replicate state machines on the pure engine (hypothesis).

Any task status, any replicate histories, any chain view and any time give a transition that follows
the tables (TASK_TRANSITIONS, REPLICATE_TRANSITIONS) and ends a task at most once. The same properties
over the whole scheduler in the virtual-time cluster are in tests/integration/devnet/test_cluster_properties.py.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocopool.chain.base import ChainTask
from pocopool.protocol.statuses import (
    ChainTaskStatus as CTS,
)
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
)
from pocopool.protocol.statuses import (
    TaskStatus as TS,
)
from pocopool.protocol.transitions import (
    REPLICATE_TRANSITIONS,
    TASK_TRANSITIONS,
    is_valid_task_path,
)
from pocopool.scheduler.engine import ChainAction, ChainView, TxOutcome, decide
from pocopool.scheduler.state import ReplicateEntry, ReplicateRecord, TaskState

T0 = 1_000_000.0
TASK_ID = "0x" + "11" * 32
HASHES = ("0x" + "aa" * 32, "0x" + "bb" * 32)
WALLETS = tuple("0x" + c * 40 for c in "1234")


# ----- the pure engine -------------------------------------------------------------------------------


def _histories() -> st.SearchStrategy[tuple[RS, ...]]:
    """Replicate histories that follow the replicate table from CREATED."""

    def extend(path: tuple[RS, ...], choices: list[int]) -> tuple[RS, ...]:
        for choice in choices:
            targets = sorted(
                REPLICATE_TRANSITIONS[path[-1]] - {s for s in path if s not in (RS.RECOVERING,)},
                key=lambda s: s.ordinal,
            )
            if not targets:
                break
            path += (targets[choice % len(targets)],)
        return path

    return st.lists(st.integers(0, 40), max_size=14).map(lambda c: extend((RS.CREATED,), c))


@st.composite
def replicates(draw: st.DrawFn) -> list[ReplicateRecord]:
    count = draw(st.integers(0, 4))
    result = []
    for wallet in WALLETS[:count]:
        path = draw(_histories())
        history = tuple(ReplicateEntry(s, T0 + i) for i, s in enumerate(path))
        result.append(
            ReplicateRecord(wallet, history, contribution_hash=draw(st.sampled_from((None,) + HASHES)), worker_weight=2)
        )
    return result


@st.composite
def chain_views(draw: st.DrawFn) -> ChainView:
    if draw(st.booleans()) and draw(st.booleans()):
        return ChainView(task=None)
    status = draw(st.sampled_from(list(CTS)))
    winners = draw(st.integers(0, 3))
    task = ChainTask(
        task_id=TASK_ID,
        status=status,
        contribution_deadline=int(T0 + 700),
        reveal_deadline=int(T0 + draw(st.integers(0, 1000))),
        final_deadline=int(T0 + 1000),
        consensus_value=draw(st.sampled_from(HASHES)),
        winner_counter=winners,
        reveal_counter=draw(st.integers(0, winners)),
    )
    tx = draw(
        st.sampled_from(
            [
                None,
                TxOutcome(ChainAction.INITIALIZE, block_number=3),
                TxOutcome(ChainAction.REOPEN, block_number=4),
                TxOutcome(ChainAction.REOPEN, revert_rule="task-has-reveals"),
                TxOutcome(ChainAction.FINALIZE, block_number=5),
                TxOutcome(ChainAction.FINALIZE, revert_rule="reveals-pending"),
                TxOutcome(ChainAction.FINALIZE, revert_rule="wrong-results-callback"),
                TxOutcome(ChainAction.REOPEN, revert_rule="reveal-deadline-not-reached"),
            ]
        )
    )
    return ChainView(task=task, consensus_block=7, latest_block=9, tx=tx)


@st.composite
def tasks(draw: st.DrawFn) -> TaskState:
    status = draw(st.sampled_from(list(TS)))
    reveal = draw(st.one_of(st.none(), st.floats(T0, T0 + 1000)))
    return TaskState(
        chain_task_id=TASK_ID,
        deal_id="0x" + "22" * 32,
        task_index=0,
        status=status,
        status_date=T0,
        trust=draw(st.integers(0, 5)),
        tag="0x" + "00" * 32,
        max_execution_time=100,
        contribution_deadline=T0 + 700,
        final_deadline=T0 + 1000,
        reveal_deadline=reveal,
        consensus=draw(st.sampled_from((None,) + HASHES)),
        uploading_wallet=draw(st.sampled_from((None,) + WALLETS)),
        enclave_challenge="0x" + "00" * 20,
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task=tasks(), reps=replicates(), chain=chain_views(), now=st.floats(T0, T0 + 1200))
def test_every_engine_decision_follows_the_tables(task, reps, chain, now):
    transition = decide(task, reps, chain, now)
    path = [change.status for change in transition.statuses]
    assert is_valid_task_path(task.status, path), (task.status, path)
    assert sum(1 for s in path if s.is_final) <= 1 and all(not s.is_final for s in path[:-1])
    if task.status.is_final:
        assert transition.is_empty
    by_wallet = {r.wallet: r for r in reps}
    changed = [change.wallet for change in transition.replicates]
    assert len(changed) == len(set(changed)), "one change per replicate in one transition"
    for change in transition.replicates:
        replicate = by_wallet[change.wallet]
        assert change.expected is replicate.status
        assert change.status in REPLICATE_TRANSITIONS[replicate.status], (replicate.status, change.status)
    for notification in transition.notifications:
        assert set(notification.wallets) <= set(by_wallet)


def test_the_task_table_reaches_an_end_from_every_status():
    ends = {TS.COMPLETED, TS.FAILED}
    for status in TS:
        seen, frontier = {status}, [status]
        while frontier:
            for target in TASK_TRANSITIONS[frontier.pop()]:
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert seen & ends, status
