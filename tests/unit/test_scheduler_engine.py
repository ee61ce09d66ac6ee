"""The task engine on plain values: one scenario per transition (spec/scheduler.md §1.3)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pocopool.chain.base import ChainTask
from pocopool.protocol.crypto import ZERO_ADDRESS
from pocopool.protocol.statuses import (
    ChainTaskStatus as CTS,
)
from pocopool.protocol.statuses import (
    ReplicateStatus as RS,
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
from pocopool.protocol.tags import TeeFramework, int_to_tag
from pocopool.protocol.transitions import is_valid_task_path
from pocopool.scheduler.engine import (
    ChainAction,
    ChainView,
    SmsCall,
    TxOutcome,
    choose_uploader,
    decide,
    finalize_blocker,
)
from pocopool.scheduler.state import ReplicateEntry, ReplicateRecord, TaskState

T0 = 1_000_000.0
TASK_ID = "0x" + "11" * 32
DEAL_ID = "0x" + "22" * 32
GOOD = "0x" + "aa" * 32
BAD = "0x" + "bb" * 32
W1, W2, W3 = ("0x" + c * 40 for c in "123")


def task(status: TS = TS.RECEIVED, **changes) -> TaskState:
    base = TaskState(
        chain_task_id=TASK_ID,
        deal_id=DEAL_ID,
        task_index=0,
        status=status,
        status_date=T0,
        trust=1,
        tag="0x" + "00" * 32,
        max_execution_time=100,
        contribution_deadline=T0 + 700,
        final_deadline=T0 + 1000,
        deal_block=3,
        enclave_challenge=ZERO_ADDRESS if status is not TS.RECEIVED else None,
    )
    return replace(base, **changes)


def replicate(wallet: str, *statuses: RS, hash_: str | None = None, start: float = T0) -> ReplicateRecord:
    history = tuple(
        ReplicateEntry(s, start + i, Modifier.POOL_MANAGER if s is RS.CREATED else Modifier.WORKER)
        for i, s in enumerate((RS.CREATED, *statuses))
    )
    return ReplicateRecord(wallet=wallet, history=history, contribution_hash=hash_, worker_weight=2)


def chain(status: CTS = CTS.ACTIVE, **fields) -> ChainView:
    tx = fields.pop("tx", None)
    consensus_block = fields.pop("consensus_block", None)
    base = ChainTask(
        task_id=TASK_ID,
        status=status,
        deal_id=DEAL_ID,
        contribution_deadline=int(T0 + 700),
        final_deadline=int(T0 + 1000),
        reveal_deadline=int(T0 + 400),
    )
    return ChainView(task=replace(base, **fields), consensus_block=consensus_block, latest_block=50, tx=tx)


UNSET = chain(CTS.UNSET)
CONTRIBUTED = (RS.STARTING, RS.STARTED, RS.COMPUTED, RS.CONTRIBUTING, RS.CONTRIBUTED)


def statuses(transition) -> list[TS]:
    return [change.status for change in transition.statuses]


def assert_valid(current: TS, transition) -> None:
    assert is_valid_task_path(current, statuses(transition)), statuses(transition)


# ----- initialization --------------------------------------------------------------------------------


def test_a_received_task_is_initializing_then_sends_initialize():
    t = decide(task(), [], UNSET, T0 + 1)
    assert statuses(t) == [TS.INITIALIZING]
    assert t.action is ChainAction.INITIALIZE


def test_an_initialize_receipt_makes_the_task_initialized_with_its_receipt():
    mined = TxOutcome(ChainAction.INITIALIZE, block_number=7, tx_hash="0x" + "cd" * 32)
    t = decide(task(TS.INITIALIZING), [], chain(CTS.ACTIVE, tx=mined), T0 + 1)
    assert statuses(t) == [TS.INITIALIZED]
    assert t.statuses[0].block_number == 7 and t.statuses[0].tx_hash == "0x" + "cd" * 32
    assert t.fields == {"enclave_challenge": ZERO_ADDRESS, "initialization_block": 7}


def test_an_initializing_task_seen_active_on_chain_heals_without_receipt():
    t = decide(task(TS.INITIALIZING), [], chain(CTS.ACTIVE), T0 + 1)
    assert statuses(t) == [TS.INITIALIZED]
    assert t.action is None


def test_an_initializing_task_never_seen_by_the_chain_sends_initialize_again():
    t = decide(task(TS.INITIALIZING), [], UNSET, T0 + 1)
    assert statuses(t) == [] and t.action is ChainAction.INITIALIZE


def test_an_initialize_revert_fails_the_task_with_the_rule():
    refused = TxOutcome(ChainAction.INITIALIZE, revert_rule="unknown-deal", revert_message="no such deal")
    t = decide(task(TS.INITIALIZING), [], chain(CTS.UNSET, tx=refused), T0 + 1)
    assert statuses(t) == [TS.INITIALIZE_FAILED, TS.FAILED]
    assert t.statuses[0].cause == "UNKNOWN_DEAL"
    assert "(unknown-deal): no such deal" in t.statuses[0].message
    assert_valid(TS.INITIALIZING, t)


def test_an_unreachable_ledger_leaves_an_initializing_task_as_it_is():
    lost = TxOutcome(ChainAction.INITIALIZE, error="connection refused")
    assert decide(task(TS.INITIALIZING), [], chain(CTS.UNSET, tx=lost), T0 + 1).is_empty
    assert decide(task(TS.INITIALIZING), [], ChainView(task=None), T0 + 1).is_empty


def test_an_initialize_refused_as_already_initialized_waits_for_the_chain_instead_of_failing():
    # Anyone may initialize a task: the refusal means it is initialized, as the next read shows.
    refused = TxOutcome(ChainAction.INITIALIZE, revert_rule="task-already-initialized", revert_message="ACTIVE")
    assert decide(task(TS.INITIALIZING), [], ChainView(task=None, tx=refused), T0 + 1).is_empty
    t = decide(task(TS.INITIALIZING), [], chain(CTS.ACTIVE, tx=refused), T0 + 1)
    assert statuses(t) == [TS.INITIALIZED]


def test_a_task_already_initialized_by_someone_else_goes_through_initializing():
    t = decide(task(), [], chain(CTS.ACTIVE), T0 + 1)
    assert statuses(t) == [TS.INITIALIZING, TS.INITIALIZED]
    assert t.action is None
    assert_valid(TS.RECEIVED, t)


def test_a_tee_task_without_sms_fails_to_initialize():
    tee = task(tag=int_to_tag(0b0011))
    t = decide(tee, [], UNSET, T0 + 1)
    assert statuses(t) == [TS.INITIALIZE_FAILED, TS.FAILED]
    assert "SCONE" in t.statuses[0].message
    # With an SMS for the framework, the SMS is asked first (tests/unit/test_scheduler_engine_tee.py).
    asked = decide(tee, [], UNSET, T0 + 1, tee_frameworks=frozenset({TeeFramework.SCONE}))
    assert statuses(asked) == [] and asked.action is SmsCall.FRAMEWORK


def test_a_task_received_after_its_contribution_deadline_fails_to_initialize():
    t = decide(task(), [], UNSET, T0 + 700)
    assert statuses(t) == [TS.INITIALIZE_FAILED, TS.FAILED]
    assert t.action is None


# ----- running and consensus -----------------------------------------------------------------------


def test_an_initialized_task_runs_when_a_replicate_started():
    assert decide(task(TS.INITIALIZED), [replicate(W1, RS.STARTING)], chain(), T0 + 1).is_empty
    t = decide(task(TS.INITIALIZED), [replicate(W1, RS.STARTING, RS.STARTED)], chain(), T0 + 1)
    assert statuses(t) == [TS.RUNNING]


def test_a_start_failure_does_not_make_the_task_run():
    assert decide(task(TS.INITIALIZED), [replicate(W1, RS.STARTING, RS.START_FAILED)], chain(), T0 + 1).is_empty


def test_consensus_is_reached_when_the_chain_reveals_and_enough_winners_reported():
    reps = [replicate(W1, *CONTRIBUTED, hash_=GOOD)]
    view = chain(CTS.REVEALING, consensus_value=GOOD, winner_counter=1, consensus_block=9)
    t = decide(task(TS.RUNNING), reps, view, T0 + 10)
    assert statuses(t) == [TS.CONSENSUS_REACHED]
    assert t.fields == {"consensus": GOOD, "consensus_block": 9, "reveal_deadline": T0 + 400}
    assert [(p.type, p.wallets, p.block_number) for p in t.notifications] == [(Next.PLEASE_REVEAL, (W1,), 9)]


def test_consensus_waits_for_winners_the_chain_knows_and_we_do_not():
    reps = [replicate(W1, *CONTRIBUTED, hash_=GOOD), replicate(W2, RS.STARTING, RS.STARTED, RS.CONTRIBUTING)]
    view = chain(CTS.REVEALING, consensus_value=GOOD, winner_counter=2)
    assert decide(task(TS.RUNNING, trust=3), reps, view, T0 + 10).is_empty


def test_consensus_with_a_loser_tells_winners_to_reveal_and_the_others_to_abort():
    reps = [
        replicate(W1, *CONTRIBUTED, hash_=GOOD),
        replicate(W2, *CONTRIBUTED, hash_=BAD),
        replicate(W3, *CONTRIBUTED, hash_=GOOD),
    ]
    view = chain(CTS.REVEALING, consensus_value=GOOD, winner_counter=2, consensus_block=12)
    t = decide(task(TS.RUNNING, trust=3), reps, view, T0 + 10)
    assert statuses(t) == [TS.CONSENSUS_REACHED]
    reveal, abort = t.notifications
    assert reveal.type is Next.PLEASE_REVEAL and reveal.wallets == (W1, W3) and reveal.block_number == 12
    assert abort.type is Next.PLEASE_ABORT and abort.wallets == (W2,)
    assert abort.abort_cause is TaskAbortCause.CONSENSUS_REACHED


def test_consensus_without_the_event_block_uses_the_latest_block():
    reps = [replicate(W1, *CONTRIBUTED, hash_=GOOD)]
    t = decide(task(TS.RUNNING), reps, chain(CTS.REVEALING, consensus_value=GOOD, winner_counter=1), T0 + 10)
    assert t.notifications[0].block_number == 50


# ----- timeouts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [TS.INITIALIZED, TS.RUNNING])
def test_contribution_timeout_fails_the_task_and_aborts_the_holders(status):
    reps = [replicate(W1, RS.STARTING, RS.STARTED), replicate(W2, RS.ABORTED)]
    t = decide(task(status), reps, chain(CTS.ACTIVE), T0 + 700)
    assert statuses(t) == [TS.CONTRIBUTION_TIMEOUT, TS.FAILED]
    assert [(p.type, p.wallets, p.abort_cause) for p in t.notifications] == [
        (Next.PLEASE_ABORT, (W1,), TaskAbortCause.CONTRIBUTION_TIMEOUT)
    ]
    assert_valid(status, t)


def test_contribution_timeout_stops_there_even_if_a_replicate_started():
    # spec §10 quirk 1: the reference would go on writing RUNNING after FAILED.
    t = decide(task(TS.INITIALIZED), [replicate(W1, RS.STARTING, RS.STARTED)], chain(CTS.ACTIVE), T0 + 701)
    assert statuses(t) == [TS.CONTRIBUTION_TIMEOUT, TS.FAILED]


def test_no_contribution_timeout_once_the_chain_reveals():
    reps = [replicate(W1, *CONTRIBUTED, hash_=GOOD)]
    view = chain(CTS.REVEALING, consensus_value=GOOD, winner_counter=1)
    assert statuses(decide(task(TS.RUNNING), reps, view, T0 + 750)) == [TS.CONSENSUS_REACHED]


@pytest.mark.parametrize(
    "status",
    [
        TS.RECEIVED,
        TS.INITIALIZING,
        TS.INITIALIZED,
        TS.RUNNING,
        TS.CONSENSUS_REACHED,
        TS.AT_LEAST_ONE_REVEALED,
        TS.RESULT_UPLOADING,
        TS.RESULT_UPLOADED,
        TS.FINALIZING,
    ],
)
def test_the_final_deadline_fails_any_unfinished_task(status):
    reps = [replicate(W1, RS.STARTING)]
    t = decide(task(status), reps, chain(CTS.REVEALING), T0 + 1000)
    assert statuses(t) == [TS.FINAL_DEADLINE_REACHED, TS.FAILED]
    assert t.notifications[0].type is Next.PLEASE_ABORT and t.notifications[0].wallets == (W1,)
    assert t.action is None
    assert_valid(status, t)


def test_the_final_deadline_needs_no_chain_view():
    t = decide(task(TS.RUNNING), [], ChainView(task=None), T0 + 1000)
    assert statuses(t) == [TS.FINAL_DEADLINE_REACHED, TS.FAILED]


def test_a_finalize_mined_before_the_deadline_wins_over_it():
    t = decide(task(TS.FINALIZING), [], chain(CTS.COMPLETED), T0 + 1001)
    assert statuses(t) == [TS.FINALIZED, TS.COMPLETED]


@pytest.mark.parametrize("status", [TS.COMPLETED, TS.FAILED])
def test_final_tasks_never_change(status):
    assert decide(task(status), [], chain(), T0 + 5000).is_empty


# ----- reveal and upload -----------------------------------------------------------------------------

REVEALED = (*CONTRIBUTED, RS.REVEALING, RS.REVEALED)


def test_a_reveal_moves_the_task_to_at_least_one_revealed():
    reps = [replicate(W1, *CONTRIBUTED, hash_=GOOD), replicate(W2, *CONTRIBUTED, RS.REVEALING, hash_=GOOD)]
    assert decide(task(TS.CONSENSUS_REACHED), reps, chain(CTS.REVEALING), T0 + 10).is_empty
    reps[1] = replicate(W2, *REVEALED, hash_=GOOD)
    assert statuses(decide(task(TS.CONSENSUS_REACHED), reps, chain(CTS.REVEALING), T0 + 10)) == [
        TS.AT_LEAST_ONE_REVEALED
    ]


def test_one_revealer_is_asked_to_upload():
    reps = [replicate(W1, *REVEALED, hash_=GOOD, start=T0 + 5), replicate(W2, *REVEALED, hash_=GOOD)]
    t = decide(task(TS.AT_LEAST_ONE_REVEALED), reps, chain(CTS.REVEALING), T0 + 20)
    assert statuses(t) == [TS.RESULT_UPLOADING]
    assert t.fields == {"uploading_wallet": W2}
    assert [(c.wallet, c.expected, c.status) for c in t.replicates] == [(W2, RS.REVEALED, RS.RESULT_UPLOAD_REQUESTED)]
    assert [(p.type, p.wallets) for p in t.notifications] == [(Next.PLEASE_UPLOAD, (W2,))]


def test_the_first_revealer_uploads():
    early = replicate(W3, *REVEALED, hash_=GOOD, start=T0 - 50)
    late = replicate(W1, *REVEALED, hash_=GOOD)
    assert choose_uploader([late, early]).wallet == W3
    assert choose_uploader([replicate(W1, *CONTRIBUTED)]) is None


def test_an_uploaded_result_is_copied_to_the_task():
    uploader = replace(
        replicate(W1, *REVEALED, RS.RESULT_UPLOAD_REQUESTED, RS.RESULT_UPLOADING, RS.RESULT_UPLOADED),
        result_link="link",
    )
    t = decide(task(TS.RESULT_UPLOADING, uploading_wallet=W1), [uploader], chain(CTS.REVEALING), T0 + 20)
    assert statuses(t) == [TS.RESULT_UPLOADED]
    assert t.fields == {"result_link": "link", "callback_data": None}


def test_an_uploading_task_waits_for_its_uploader():
    uploading = replicate(W1, *REVEALED, RS.RESULT_UPLOAD_REQUESTED, RS.RESULT_UPLOADING)
    other = replicate(W2, *REVEALED)
    assert decide(
        task(TS.RESULT_UPLOADING, uploading_wallet=W1), [uploading, other], chain(CTS.REVEALING), T0 + 20
    ).is_empty


def test_a_failed_upload_asks_another_revealer():
    failed = replicate(W1, *REVEALED, RS.RESULT_UPLOAD_REQUESTED, RS.RESULT_UPLOADING, RS.RESULT_UPLOAD_FAILED)
    other = replicate(W2, *REVEALED)
    t = decide(task(TS.RESULT_UPLOADING, uploading_wallet=W1), [failed, other], chain(CTS.REVEALING), T0 + 20)
    assert statuses(t) == []
    assert t.fields == {"uploading_wallet": W2}
    assert t.notifications[0].type is Next.PLEASE_UPLOAD and t.notifications[0].wallets == (W2,)


# ----- finalization ----------------------------------------------------------------------------------


def finalizable(**fields) -> ChainView:
    values = dict(consensus_value=GOOD, winner_counter=1, reveal_counter=1)
    values.update(fields)
    return chain(CTS.REVEALING, **values)


UPLOADED = [
    replace(
        replicate(W1, *REVEALED, RS.RESULT_UPLOAD_REQUESTED, RS.RESULT_UPLOADING, RS.RESULT_UPLOADED),
        result_link="link",
    )
]


def test_an_uploaded_task_is_finalized_when_every_winner_revealed():
    t = decide(task(TS.RESULT_UPLOADED, result_link="link"), UPLOADED, finalizable(), T0 + 30)
    assert statuses(t) == [TS.FINALIZING]
    assert t.action is ChainAction.FINALIZE


def test_finalize_waits_for_missing_reveals_until_the_reveal_deadline():
    two_winners = finalizable(winner_counter=2)
    assert finalize_blocker(task(TS.RESULT_UPLOADED), UPLOADED, two_winners, T0 + 30) is not None
    assert decide(task(TS.RESULT_UPLOADED), UPLOADED, two_winners, T0 + 30).is_empty
    assert statuses(decide(task(TS.RESULT_UPLOADED), UPLOADED, two_winners, T0 + 400)) == [TS.FINALIZING]


def test_finalize_waits_until_every_reveal_on_chain_is_known_off_chain():
    assert decide(task(TS.RESULT_UPLOADED), UPLOADED, finalizable(winner_counter=2, reveal_counter=2), T0 + 30).is_empty


def test_finalize_is_not_sent_after_the_chain_final_deadline():
    assert "final deadline" in finalize_blocker(
        task(TS.RESULT_UPLOADED), UPLOADED, finalizable(final_deadline=int(T0 + 30)), T0 + 30
    )


def test_a_finalize_receipt_completes_the_task_and_tells_every_holder():
    reps = [*UPLOADED, replicate(W2, *REVEALED), replicate(W3, RS.ABORTED)]
    mined = TxOutcome(ChainAction.FINALIZE, block_number=20, tx_hash="0x" + "ef" * 32)
    t = decide(task(TS.FINALIZING), reps, chain(CTS.COMPLETED, tx=mined), T0 + 40)
    assert statuses(t) == [TS.FINALIZED, TS.COMPLETED]
    assert t.statuses[0].block_number == 20
    assert [(p.type, p.wallets) for p in t.notifications] == [(Next.PLEASE_COMPLETE, (W1, W2))]


def test_a_finalize_revert_fails_the_task():
    refused = TxOutcome(ChainAction.FINALIZE, revert_rule="wrong-results-callback", revert_message="not the digest")
    t = decide(task(TS.FINALIZING), UPLOADED, chain(CTS.REVEALING, tx=refused), T0 + 40)
    assert statuses(t) == [TS.FINALIZE_FAILED, TS.FAILED]
    assert t.statuses[0].cause == "WRONG_RESULTS_CALLBACK"
    assert t.notifications[0].type is Next.PLEASE_ABORT
    assert_valid(TS.FINALIZING, t)


def test_a_finalizing_task_never_seen_by_the_chain_sends_finalize_again():
    t = decide(task(TS.FINALIZING), UPLOADED, finalizable(), T0 + 40)
    assert statuses(t) == [] and t.action is ChainAction.FINALIZE


def test_a_finalized_task_is_completed():
    assert statuses(decide(task(TS.FINALIZED), [], ChainView(task=None), T0 + 40)) == [TS.COMPLETED]


def test_an_intermediate_failure_found_alone_is_followed_by_failed():
    assert statuses(decide(task(TS.CONTRIBUTION_TIMEOUT), [], chain(), T0)) == [TS.FAILED]
