"""The engine's reveal timeout, reopen path and result upload timeout (spec/scheduler.md §1.3, §4.2, §10.2–3)."""

from __future__ import annotations

from test_scheduler_engine import (
    CONTRIBUTED,
    GOOD,
    REVEALED,
    T0,
    W1,
    W2,
    W3,
    assert_valid,
    chain,
    replicate,
    statuses,
    task,
)

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
    TaskNotificationType as Next,
)
from pocopool.protocol.statuses import (
    TaskStatus as TS,
)
from pocopool.protocol.task_causes import TaskFailureCause
from pocopool.scheduler.engine import ChainAction, TxOutcome, decide

REVEAL_DEADLINE = T0 + 400
CONSENSUS = {"consensus": GOOD, "reveal_deadline": REVEAL_DEADLINE, "trust": 1}


def revealing(**fields):
    values = {"consensus_value": GOOD, "winner_counter": 1, "reveal_counter": 0}
    values.update(fields)
    return chain(CTS.REVEALING, **values)


# ----- reopen ----------------------------------------------------------------------------------------


def test_a_task_nobody_revealed_waits_until_the_reveal_deadline():
    winner = replicate(W1, *CONTRIBUTED, hash_=GOOD)
    assert decide(task(TS.CONSENSUS_REACHED, **CONSENSUS), [winner], revealing(), REVEAL_DEADLINE - 1).is_empty


def test_a_task_nobody_revealed_is_reopened_after_the_reveal_deadline():
    winner = replicate(W1, *CONTRIBUTED, hash_=GOOD)
    t = decide(task(TS.CONSENSUS_REACHED, **CONSENSUS), [winner], revealing(), REVEAL_DEADLINE)
    assert statuses(t) == [TS.REOPENING]
    assert t.action is ChainAction.REOPEN
    assert t.replicates == ()  # the winners fail once the chain shows the task ACTIVE again
    assert_valid(TS.CONSENSUS_REACHED, t)


def test_a_mined_reopen_makes_the_task_initialized_again_and_fails_the_silent_winners():
    winner = replicate(W1, *CONTRIBUTED, hash_=GOOD)
    loser = replicate(W2, *CONTRIBUTED, RS.ABORTED, hash_="0x" + "bb" * 32)
    mined = TxOutcome(ChainAction.REOPEN, block_number=30, tx_hash="0x" + "cd" * 32)
    t = decide(task(TS.REOPENING, **CONSENSUS), [winner, loser], chain(CTS.ACTIVE, tx=mined), REVEAL_DEADLINE + 1)
    assert statuses(t) == [TS.REOPENED, TS.INITIALIZED]
    assert t.statuses[0].block_number == 30
    assert [(c.wallet, c.expected, c.status, c.cause) for c in t.replicates] == [
        (W1, RS.CONTRIBUTED, RS.FAILED, Cause.REVEAL_TIMEOUT)
    ]
    assert t.fields["consensus"] is None and t.fields["reveal_deadline"] is None
    assert_valid(TS.REOPENING, t)


def test_a_refused_reopen_fails_the_task():
    refused = TxOutcome(ChainAction.REOPEN, revert_rule="only-scheduler", revert_message="not the owner")
    t = decide(
        task(TS.REOPENING, **CONSENSUS),
        [replicate(W1, *CONTRIBUTED, hash_=GOOD)],
        revealing(tx=refused),
        REVEAL_DEADLINE + 1,
    )
    assert statuses(t) == [TS.REOPEN_FAILED, TS.FAILED]
    assert t.statuses[0].cause is TaskFailureCause.ONLY_SCHEDULER  # the chain's rule, spelled as a task cause
    assert "(only-scheduler): not the owner" in (t.statuses[0].message or "")
    assert_valid(TS.REOPENING, t)


def test_a_winner_revealing_before_the_reopen_is_mined_carries_the_task_on():
    late = TxOutcome(ChainAction.REOPEN, revert_rule="task-has-reveals", revert_message="1 revealed")
    silent = replicate(W1, *CONTRIBUTED, RS.REVEALING, hash_=GOOD)
    reopening = task(TS.REOPENING, **CONSENSUS)
    assert decide(reopening, [silent], revealing(reveal_counter=1, tx=late), REVEAL_DEADLINE + 1).is_empty
    assert decide(reopening, [silent], revealing(reveal_counter=1), REVEAL_DEADLINE + 2).is_empty  # not reported
    revealed = replicate(W1, *REVEALED, hash_=GOOD)
    t = decide(reopening, [revealed], revealing(reveal_counter=1), REVEAL_DEADLINE + 3)
    assert statuses(t) == [TS.AT_LEAST_ONE_REVEALED]
    assert t.action is None and t.replicates == ()
    assert_valid(TS.REOPENING, t)


def test_a_task_claimed_on_chain_while_reopening_fails_as_claimed():
    winner = replicate(W1, *CONTRIBUTED, hash_=GOOD)
    t = decide(task(TS.REOPENING, **CONSENSUS), [winner], chain(CTS.FAILED), REVEAL_DEADLINE + 1)
    assert statuses(t) == [TS.REOPEN_FAILED, TS.FAILED]
    assert t.statuses[0].cause is TaskFailureCause.TASK_CLAIMED  # "TASK_FAILED" before decision 119


def test_a_reopening_task_the_chain_never_saw_sends_reopen_again():
    t = decide(task(TS.REOPENING, **CONSENSUS), [], revealing(), REVEAL_DEADLINE + 1)
    assert statuses(t) == [] and t.action is ChainAction.REOPEN


def test_a_reopened_task_takes_new_contributions_and_forgets_the_failed_winner():
    failed = replicate(W1, *CONTRIBUTED, RS.FAILED, hash_=GOOD)
    fresh = replicate(W2, *CONTRIBUTED, hash_=GOOD)
    running = task(TS.RUNNING)
    t = decide(running, [failed, fresh], revealing(winner_counter=1), REVEAL_DEADLINE + 10)
    assert statuses(t) == [TS.CONSENSUS_REACHED]
    assert [(p.type, p.wallets) for p in t.notifications] == [(Next.PLEASE_REVEAL, (W2,))]


# ----- reveal timeout of some winners ----------------------------------------------------------------


def test_a_winner_that_did_not_reveal_fails_with_reveal_timeout_and_the_task_goes_on():
    revealed = replicate(W1, *REVEALED, RS.RESULT_UPLOAD_REQUESTED, hash_=GOOD)
    silent = replicate(W2, *CONTRIBUTED, hash_=GOOD)
    uploading = task(TS.RESULT_UPLOADING, uploading_wallet=W1, max_execution_time=1000, **CONSENSUS)
    assert decide(
        uploading, [revealed, silent], revealing(reveal_counter=1, winner_counter=2), REVEAL_DEADLINE - 1
    ).is_empty
    t = decide(uploading, [revealed, silent], revealing(reveal_counter=1, winner_counter=2), REVEAL_DEADLINE)
    assert statuses(t) == []
    assert [(c.wallet, c.status, c.cause) for c in t.replicates] == [(W2, RS.FAILED, Cause.REVEAL_TIMEOUT)]


# ----- result upload timeout -------------------------------------------------------------------------


def test_an_uploader_too_late_is_replaced_by_the_next_revealer():
    late = replicate(W1, *REVEALED, RS.RESULT_UPLOAD_REQUESTED, hash_=GOOD)
    other = replicate(W2, *REVEALED, hash_=GOOD)
    uploading = task(TS.RESULT_UPLOADING, uploading_wallet=W1, **CONSENSUS)
    asked = late.first_date(RS.RESULT_UPLOAD_REQUESTED)
    assert decide(uploading, [late, other], revealing(), asked + 199).is_empty  # 2 periods of 100 s
    t = decide(uploading, [late, other], revealing(), asked + 200)
    assert statuses(t) == []
    assert [(c.wallet, c.status) for c in t.replicates] == [
        (W1, RS.RESULT_UPLOAD_FAILED),
        (W2, RS.RESULT_UPLOAD_REQUESTED),
    ]
    assert t.fields == {"uploading_wallet": W2}
    assert {(p.type, p.wallets) for p in t.notifications} == {(Next.PLEASE_UPLOAD, (W2,)), (Next.PLEASE_ABORT, (W1,))}


def test_the_last_revealer_too_late_fails_the_task_with_result_upload_timeout():
    late = replicate(W1, *REVEALED, RS.RESULT_UPLOAD_REQUESTED, RS.RESULT_UPLOADING, hash_=GOOD)
    aborted = replicate(W3, *CONTRIBUTED, RS.ABORTED, hash_="0x" + "bb" * 32)
    uploading = task(TS.RESULT_UPLOADING, uploading_wallet=W1, **CONSENSUS)
    t = decide(uploading, [late, aborted], revealing(reveal_counter=1), REVEAL_DEADLINE + 300)
    assert statuses(t) == [TS.RESULT_UPLOAD_TIMEOUT, TS.FAILED]
    assert [(c.wallet, c.status) for c in t.replicates] == [(W1, RS.RESULT_UPLOAD_FAILED)]
    assert_valid(TS.RESULT_UPLOADING, t)


def test_an_upload_timeout_waits_for_a_winner_that_may_still_reveal():
    late = replicate(W1, *REVEALED, RS.RESULT_UPLOAD_REQUESTED, hash_=GOOD)
    slow = replicate(W2, *CONTRIBUTED, hash_=GOOD)
    uploading = task(TS.RESULT_UPLOADING, uploading_wallet=W1, **{**CONSENSUS, "reveal_deadline": T0 + 5000})
    t = decide(uploading, [late, slow], revealing(reveal_counter=1, winner_counter=2), T0 + 300)
    assert statuses(t) == []
    assert [(c.wallet, c.status) for c in t.replicates] == [(W1, RS.RESULT_UPLOAD_FAILED)]
