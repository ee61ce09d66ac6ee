"""The supply decision and recovery decision on plain values (spec §5.2, §5.4, §5.6)."""

from __future__ import annotations

from dataclasses import replace

from pocopool.chain.base import ChainTask
from pocopool.protocol.crypto import ZERO_ADDRESS
from pocopool.protocol.statuses import (
    ChainTaskStatus as CTS,
)
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
)
from pocopool.protocol.statuses import (
    ReplicateStatusCause as Cause,
)
from pocopool.protocol.statuses import (
    ReplicateStatusModifier as Modifier,
)
from pocopool.protocol.statuses import (
    TaskAbortCause,
)
from pocopool.protocol.statuses import (
    TaskNotificationType as Next,
)
from pocopool.protocol.statuses import (
    TaskStatus as TS,
)
from pocopool.protocol.tags import int_to_tag
from pocopool.scheduler.engine import standing_order as recovery_action
from pocopool.scheduler.state import ReplicateEntry, ReplicateRecord, TaskState, WorkerState
from pocopool.scheduler.supply import prediction_inputs, refusal

T0 = 1_000_000.0
TASK_ID = "0x" + "11" * 32
GOOD = "0x" + "aa" * 32
ME, W1, W2, W3 = ("0x" + c * 40 for c in "f123")
ACTIVE = ChainTask(task_id=TASK_ID, status=CTS.ACTIVE)


def task(trust: int = 1, status: TS = TS.INITIALIZED, **changes) -> TaskState:
    base = TaskState(
        chain_task_id=TASK_ID,
        deal_id="0x" + "22" * 32,
        task_index=0,
        status=status,
        status_date=T0,
        trust=trust,
        tag="0x" + "00" * 32,
        max_execution_time=100,
        contribution_deadline=T0 + 700,
        final_deadline=T0 + 1000,
        enclave_challenge=ZERO_ADDRESS,
    )
    return replace(base, **changes)


def rep(
    wallet: str,
    *statuses: RS,
    created: float = T0,
    hash_: str | None = None,
    cause: Cause | None = None,
    weight: int = 2,
) -> ReplicateRecord:
    entries = [ReplicateEntry(RS.CREATED, created, Modifier.POOL_MANAGER)]
    entries += [ReplicateEntry(s, created + i + 1, Modifier.WORKER, cause) for i, s in enumerate(statuses)]
    return ReplicateRecord(wallet=wallet, history=tuple(entries), contribution_hash=hash_, worker_weight=weight)


WORKER = WorkerState(wallet=ME, max_nb_tasks=2)


def test_a_fresh_trust_1_task_gets_a_replicate():
    assert refusal(task(), [], WORKER, ACTIVE, T0 + 1) is None


def test_trust_1_gives_one_replicate_at_a_time():
    assert refusal(task(), [rep(W1, RS.STARTING)], WORKER, ACTIVE, T0 + 1) is not None


def test_a_replicate_older_than_one_period_no_longer_counts_as_pending():
    assert refusal(task(), [rep(W1, RS.STARTING)], WORKER, ACTIVE, T0 + 101) is None


def test_a_replicate_that_will_never_contribute_does_not_block_the_task():
    assert refusal(task(), [rep(W1, RS.STARTING, RS.START_FAILED)], WORKER, ACTIVE, T0 + 5) is None
    assert refusal(task(), [rep(W1, RS.ABORTED)], WORKER, ACTIVE, T0 + 5) is None


def test_a_lost_worker_frees_its_place_at_once_and_a_worker_that_came_back_takes_it_again():
    computing = rep(W1, RS.STARTING, RS.STARTED, RS.COMPUTING)
    assert refusal(task(), [computing], WORKER, ACTIVE, T0 + 10) is not None
    lost = replace(
        computing, history=computing.history + (ReplicateEntry(RS.WORKER_LOST, T0 + 8, Modifier.POOL_MANAGER),)
    )
    assert refusal(task(), [lost], WORKER, ACTIVE, T0 + 10) is None
    back = replace(lost, history=lost.history + (ReplicateEntry(RS.COMPUTED, T0 + 9, Modifier.WORKER),))
    assert refusal(task(), [back], WORKER, ACTIVE, T0 + 10) is not None


def test_a_lost_worker_s_contribution_on_chain_still_counts():
    contributed = rep(W1, RS.CONTRIBUTED, hash_=GOOD)
    lost = replace(
        contributed, history=contributed.history + (ReplicateEntry(RS.WORKER_LOST, T0 + 5, Modifier.POOL_MANAGER),)
    )
    assert prediction_inputs([lost], T0 + 6, 100) == ({GOOD: [2]}, [])
    assert refusal(task(status=TS.RUNNING), [lost], WORKER, ACTIVE, T0 + 6) is not None  # trust 1: it is enough


def test_a_download_failure_that_is_still_contributed_counts_as_pending():
    graceful = rep(
        W1, RS.STARTING, RS.STARTED, RS.APP_DOWNLOADING, RS.APP_DOWNLOAD_FAILED, cause=Cause.APP_IMAGE_DOWNLOAD_FAILED
    )
    assert refusal(task(), [graceful], WORKER, ACTIVE, T0 + 10) is not None
    fatal = replace(
        graceful,
        history=graceful.history[:-1]
        + (ReplicateEntry(RS.APP_DOWNLOAD_FAILED, T0 + 4, Modifier.WORKER, Cause.POST_COMPUTE_FAILED_UNKNOWN_ISSUE),),
    )
    assert refusal(task(), [fatal], WORKER, ACTIVE, T0 + 10) is None


def test_trust_3_hands_out_two_replicates_then_waits():
    # Fresh workers weigh 2: two agreeing votes (4 × 3 > 5 × 2) can reach consensus.
    assert refusal(task(3), [rep(W1, RS.STARTING)], WORKER, ACTIVE, T0 + 1) is None
    assert refusal(task(3), [rep(W1, RS.STARTING), rep(W2, RS.STARTING)], WORKER, ACTIVE, T0 + 1) is not None


def test_a_dissenting_contribution_asks_for_more_replicates():
    reps = [rep(W1, RS.CONTRIBUTED, hash_=GOOD), rep(W2, RS.CONTRIBUTED, hash_="0x" + "bb" * 32)]
    assert refusal(task(3, TS.RUNNING), reps, WORKER, ACTIVE, T0 + 1) is None
    contributed, pending = prediction_inputs(reps, T0 + 1, 100)
    assert contributed == {GOOD: [2], "0x" + "bb" * 32: [2]} and pending == []


def test_a_worker_never_gets_two_replicates_of_one_task():
    assert "already" in refusal(task(3), [rep(ME, RS.STARTING)], WORKER, ACTIVE, T0 + 1)


def test_no_replicate_once_the_chain_stops_accepting_contributions():
    revealing = replace(ACTIVE, status=CTS.REVEALING)
    assert "REVEALING" in refusal(task(3, TS.RUNNING), [], WORKER, revealing, T0 + 1)
    assert refusal(task(), [], WORKER, None, T0 + 1) is not None


def test_no_replicate_after_the_contribution_deadline_or_outside_the_contribution_phase():
    assert refusal(task(), [], WORKER, ACTIVE, T0 + 700) is not None
    assert refusal(task(status=TS.CONSENSUS_REACHED), [], WORKER, ACTIVE, T0 + 1) is not None


def test_tee_and_gpu_tasks_need_capable_workers():
    scone = task(tag=int_to_tag(0b0011))
    assert "SGX" in refusal(scone, [], WORKER, ACTIVE, T0 + 1)
    assert refusal(scone, [], replace(WORKER, tee_enabled=True), ACTIVE, T0 + 1) is None
    gpu = task(tag=int_to_tag(0x100))
    assert "GPU" in refusal(gpu, [], WORKER, ACTIVE, T0 + 1)
    assert refusal(gpu, [], replace(WORKER, gpu_enabled=True), ACTIVE, T0 + 1) is None


# ----- recovery --------------------------------------------------------------------------------------


def test_recovery_in_the_contribution_phase_asks_to_contribute_or_wait():
    assert (
        recovery_action(task(status=TS.RUNNING), rep(ME, RS.STARTING, RS.STARTED, RS.COMPUTED)).type
        is Next.PLEASE_CONTRIBUTE
    )
    assert recovery_action(task(status=TS.RUNNING), rep(ME, RS.CONTRIBUTING, RS.CONTRIBUTED)).type is Next.PLEASE_WAIT


def test_recovery_in_the_reveal_phase_asks_winners_to_reveal_and_others_to_abort():
    reached = task(3, TS.CONSENSUS_REACHED, consensus=GOOD, consensus_block=9)
    assert recovery_action(reached, rep(ME, RS.CONTRIBUTED, hash_=GOOD)).type is Next.PLEASE_REVEAL
    loser = recovery_action(reached, rep(ME, RS.CONTRIBUTED, hash_="0x" + "bb" * 32))
    assert loser.type is Next.PLEASE_ABORT and loser.abort_cause is TaskAbortCause.CONSENSUS_REACHED
    late = recovery_action(reached, rep(ME, RS.STARTING))
    assert late.type is Next.PLEASE_ABORT


def test_recovery_of_the_chosen_uploader_asks_to_upload():
    uploading = task(status=TS.RESULT_UPLOADING, consensus=GOOD, uploading_wallet=ME)
    assert (
        recovery_action(uploading, rep(ME, RS.REVEALED, RS.RESULT_UPLOAD_REQUESTED, hash_=GOOD)).type
        is Next.PLEASE_UPLOAD
    )
    assert (
        recovery_action(uploading, rep(ME, RS.REVEALED, RS.RESULT_UPLOAD_REQUESTED, RS.RECOVERING, hash_=GOOD)).type
        is Next.PLEASE_UPLOAD
    )


def test_recovery_in_the_completion_phase():
    revealed = rep(ME, RS.REVEALED, hash_=GOOD)
    assert recovery_action(task(status=TS.COMPLETED), revealed).type is Next.PLEASE_COMPLETE
    assert recovery_action(task(status=TS.FINALIZING), revealed).type is Next.PLEASE_WAIT
    assert recovery_action(task(status=TS.COMPLETED), rep(ME, RS.CONTRIBUTED)) is None
