"""The engine when the ledger's clock and the scheduler's disagree (decisions 130 and 131): a reopen or
a finalize the ledger refuses as too early is sent again, a refusal because the task left REVEALING
waits for the chain to say what it became, and a task claimed on chain ends at once."""

from __future__ import annotations

import pytest
from test_scheduler_engine import (
    CONTRIBUTED,
    GOOD,
    REVEALED,
    UPLOADED,
    W1,
    assert_valid,
    chain,
    finalizable,
    replicate,
    statuses,
    task,
)
from test_scheduler_engine_timeouts import CONSENSUS, REVEAL_DEADLINE, revealing

from pocopool.protocol.statuses import ChainTaskStatus as CTS
from pocopool.protocol.statuses import TaskNotificationType as Next
from pocopool.protocol.statuses import TaskStatus as TS
from pocopool.protocol.task_causes import TaskFailureCause
from pocopool.scheduler.engine import ChainAction, TxOutcome, decide

WINNER = replicate(W1, *CONTRIBUTED, hash_=GOOD)
REOPENING = task(TS.REOPENING, **CONSENSUS)
FINALIZING = task(TS.FINALIZING, **CONSENSUS)


def refused(action: ChainAction, rule: str) -> TxOutcome:
    return TxOutcome(action, revert_rule=rule, revert_message=rule)


def test_a_reopen_the_ledger_finds_too_early_is_sent_again_at_the_next_update():
    early = refused(ChainAction.REOPEN, "reveal-deadline-not-reached")
    assert decide(REOPENING, [WINNER], revealing(tx=early), REVEAL_DEADLINE + 1).is_empty
    again = decide(REOPENING, [WINNER], revealing(), REVEAL_DEADLINE + 2)
    assert statuses(again) == [] and again.action is ChainAction.REOPEN


def test_a_reopen_refused_as_not_revealing_ends_as_the_chain_then_shows():
    gone = refused(ChainAction.REOPEN, "task-not-revealing")
    assert decide(REOPENING, [WINNER], chain(CTS.FAILED, tx=gone), REVEAL_DEADLINE + 1).is_empty
    t = decide(REOPENING, [WINNER], chain(CTS.FAILED), REVEAL_DEADLINE + 2)
    assert statuses(t) == [TS.REOPEN_FAILED, TS.FAILED]
    assert t.statuses[0].cause is TaskFailureCause.TASK_CLAIMED
    reopened = decide(REOPENING, [WINNER], chain(CTS.ACTIVE), REVEAL_DEADLINE + 2)
    assert statuses(reopened) == [TS.REOPENED, TS.INITIALIZED]


def test_a_finalize_the_ledger_finds_too_early_is_sent_again_at_the_next_update():
    early = refused(ChainAction.FINALIZE, "reveals-pending")
    assert decide(FINALIZING, UPLOADED, finalizable(tx=early), REVEAL_DEADLINE + 1).is_empty
    again = decide(FINALIZING, UPLOADED, finalizable(), REVEAL_DEADLINE + 2)
    assert statuses(again) == [] and again.action is ChainAction.FINALIZE


def test_a_finalize_refused_as_not_revealing_ends_as_the_chain_then_shows():
    gone = refused(ChainAction.FINALIZE, "task-not-revealing")
    assert decide(FINALIZING, UPLOADED, chain(CTS.FAILED, tx=gone), REVEAL_DEADLINE + 1).is_empty
    t = decide(FINALIZING, UPLOADED, chain(CTS.FAILED), REVEAL_DEADLINE + 2)
    assert statuses(t) == [TS.FINALIZE_FAILED, TS.FAILED]
    assert t.statuses[0].cause is TaskFailureCause.TASK_CLAIMED
    done = decide(FINALIZING, UPLOADED, chain(CTS.COMPLETED), REVEAL_DEADLINE + 2)
    assert statuses(done) == [TS.FINALIZED, TS.COMPLETED]


@pytest.mark.parametrize(
    ("status", "replicates"),
    [
        (TS.INITIALIZED, []),
        (TS.RUNNING, [replicate(W1, *CONTRIBUTED[:2])]),
        (TS.CONSENSUS_REACHED, [WINNER]),
        (TS.RESULT_UPLOADING, [replicate(W1, *REVEALED, hash_=GOOD)]),
        (TS.RESULT_UPLOADED, UPLOADED),
    ],
)
def test_a_task_claimed_on_chain_before_the_schedulers_final_deadline_ends_at_once(status, replicates):
    t = decide(task(status, **CONSENSUS), replicates, chain(CTS.FAILED), REVEAL_DEADLINE - 1)
    assert statuses(t) == [TS.FINAL_DEADLINE_REACHED, TS.FAILED]
    assert t.statuses[0].cause is TaskFailureCause.TASK_CLAIMED
    assert "claimed on chain" in (t.statuses[0].message or "")
    assert [(n.type, n.wallets) for n in t.notifications] == [(Next.PLEASE_ABORT, (W1,))] * bool(replicates)
    assert_valid(status, t)
