"""The replicate rule on plain values (spec/scheduler.md §2.3–2.5, §2.8): every acceptance effect and
every refusal `decide_replicate` can give."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pocopool.chain.base import ChainTask, Contribution
from pocopool.protocol.applogs import MAX_LOG_BYTES, SCHEDULER_SETTING, LogCut
from pocopool.protocol.models import ChainReceipt, ComputeLogs, ReplicateStatusDetails
from pocopool.protocol.statuses import (
    ChainContributionStatus as CCS,
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
    ReplicateStatusModifier as Modifier,
)
from pocopool.protocol.statuses import (
    TaskNotificationType as Next,
)
from pocopool.protocol.statuses import (
    TaskStatus as TS,
)
from pocopool.protocol.tags import int_to_tag
from pocopool.scheduler.engine import (
    NO_PROOF,
    Accepted,
    ChainProof,
    ProposedUpdate,
    Refusal,
    RefusedUpdate,
    decide_replicate,
    with_history,
)
from pocopool.scheduler.state import ReplicateEntry, ReplicateRecord, TaskState

T0 = 1_000_000.0
TASK_ID = "0x" + "11" * 32
HASH = "0x" + "aa" * 32
W1 = "0x" + "1" * 40


def task(**changes) -> TaskState:
    base = TaskState(
        chain_task_id=TASK_ID,
        deal_id="0x" + "22" * 32,
        task_index=0,
        status=TS.RUNNING,
        status_date=T0,
        trust=1,
        tag="0x" + "00" * 32,
        max_execution_time=100,
        contribution_deadline=T0 + 700,
        final_deadline=T0 + 1000,
    )
    return replace(base, **changes)


def replicate(*statuses: RS) -> ReplicateRecord:
    history = tuple(ReplicateEntry(s, T0 + i) for i, s in enumerate((RS.CREATED, *statuses)))
    return ReplicateRecord(wallet=W1, history=history)


def worker(status: RS, **details) -> ProposedUpdate:
    return ProposedUpdate(status, Modifier.WORKER, ReplicateStatusDetails(**details) if details else None)


def decide(
    update: ProposedUpdate, current: ReplicateRecord | None, proof: ChainProof = NO_PROOF, t: TaskState | None = None
):
    return decide_replicate(t or task(), current, update, proof, T0 + 50, wallet=W1)


RUNNING_TO_CONTRIBUTING = (
    RS.STARTING,
    RS.STARTED,
    RS.APP_DOWNLOADING,
    RS.APP_DOWNLOADED,
    RS.DATA_DOWNLOADING,
    RS.DATA_DOWNLOADED,
    RS.COMPUTING,
    RS.COMPUTED,
    RS.CONTRIBUTING,
)


# ----- acceptances ------------------------------------------------------------------------------------


def test_an_allowed_status_is_accepted_with_its_entry_and_next_action():
    decision = decide(worker(RS.STARTING), replicate())
    assert isinstance(decision, Accepted)
    assert (decision.entry.status, decision.entry.modifier, decision.entry.date) == (
        RS.STARTING,
        Modifier.WORKER,
        T0 + 50,
    )
    assert decision.next_action is Next.PLEASE_CONTINUE
    assert not (decision.task_update or decision.free_computing_slot or decision.leave_task)


def test_started_asks_for_a_task_update():
    decision = decide(worker(RS.STARTED), replicate(RS.STARTING))
    assert isinstance(decision, Accepted) and decision.task_update and decision.next_action is Next.PLEASE_DOWNLOAD_APP


# A stream longer than the scheduler keeps, and the marker its cut begins with (protocol/applogs.py).
ONE_LONG_LINE = 10 + MAX_LOG_BYTES
CUT_MARKER = LogCut(10, 0, MAX_LOG_BYTES, MAX_LOG_BYTES, SCHEDULER_SETTING, mid_line=True).marker()


def test_computed_frees_the_computing_slot_and_keeps_the_tailed_logs_and_exit_code():
    update = worker(RS.COMPUTED, exitCode=3, computeLogs=ComputeLogs(stdout="x" * ONE_LONG_LINE, stderr="e"))
    decision = decide(update, replicate(*RUNNING_TO_CONTRIBUTING[:-2]))
    assert isinstance(decision, Accepted)
    assert decision.free_computing_slot and decision.entry.exit_code == 3
    assert decision.logs == (f"{CUT_MARKER}\n" + "x" * MAX_LOG_BYTES, "e", None)
    assert decision.next_action is Next.PLEASE_CONTRIBUTE


def test_computed_of_a_trust_1_tee_task_asks_for_contribute_and_finalize():
    tee = task(tag=int_to_tag(0x3))
    decision = decide(worker(RS.COMPUTED), replicate(*RUNNING_TO_CONTRIBUTING[:-2]), t=tee)
    assert isinstance(decision, Accepted) and decision.next_action is Next.PLEASE_CONTRIBUTE_AND_FINALIZE


def test_a_contributable_download_failure_is_answered_please_contribute():
    update = worker(RS.DATA_DOWNLOAD_FAILED, cause=Cause.DATASET_FILE_BAD_CHECKSUM, errorMessage="sha256 differs")
    decision = decide(
        update, replicate(RS.STARTING, RS.STARTED, RS.APP_DOWNLOADING, RS.APP_DOWNLOADED, RS.DATA_DOWNLOADING)
    )
    assert isinstance(decision, Accepted)
    assert decision.entry.cause is Cause.DATASET_FILE_BAD_CHECKSUM and decision.entry.error_message == "sha256 differs"
    assert decision.next_action is Next.PLEASE_CONTRIBUTE and decision.free_computing_slot and decision.task_update


def test_a_contribution_seen_on_chain_is_accepted_with_its_hash_and_weight():
    proof = ChainProof(contribution=Contribution(CCS.CONTRIBUTED, result_hash=HASH), score=30)
    update = worker(RS.CONTRIBUTED, chainReceipt=ChainReceipt(blockNumber=7, txHash="0x" + "cd" * 32))
    decision = decide(update, replicate(*RUNNING_TO_CONTRIBUTING), proof)
    assert isinstance(decision, Accepted)
    assert decision.contribution == (HASH, 9)  # weight = max(30 // 3, 3) - 1
    assert (decision.entry.block_number, decision.task_update) == (7, True)
    assert decision.next_action is Next.PLEASE_WAIT


def test_a_reveal_seen_on_chain_is_accepted():
    proof = ChainProof(contribution=Contribution(CCS.PROVED, result_hash=HASH))
    decision = decide(worker(RS.REVEALED), replicate(*RUNNING_TO_CONTRIBUTING, RS.CONTRIBUTED, RS.REVEALING), proof)
    assert isinstance(decision, Accepted) and decision.task_update and decision.contribution is None


def test_contribute_and_finalize_done_takes_the_result_link_from_the_chain_task():
    chain_task = ChainTask(task_id=TASK_ID, status=CTS.COMPLETED, results=b'{ "storage": "x", "location": "y" }')
    proof = ChainProof(contribution=Contribution(CCS.PROVED, result_hash=HASH), task=chain_task)
    current = replicate(*RUNNING_TO_CONTRIBUTING[:-1], RS.CONTRIBUTE_AND_FINALIZE_ONGOING)
    decision = decide(worker(RS.CONTRIBUTE_AND_FINALIZE_DONE), current, proof, task(tag=int_to_tag(0x3)))
    assert isinstance(decision, Accepted)
    assert decision.contribution == (HASH, 0) and decision.result_link == '{ "storage": "x", "location": "y" }'


def test_result_uploaded_keeps_the_link_or_the_callback_data():
    current = replicate(
        *RUNNING_TO_CONTRIBUTING,
        RS.CONTRIBUTED,
        RS.REVEALING,
        RS.REVEALED,
        RS.RESULT_UPLOAD_REQUESTED,
        RS.RESULT_UPLOADING,
    )
    decision = decide(worker(RS.RESULT_UPLOADED, resultLink=" link "), current)
    assert isinstance(decision, Accepted) and (decision.result_link, decision.callback_data) == ("link", None)
    callback = decide(worker(RS.RESULT_UPLOADED, chainCallbackData="0x01"), current, t=task(has_callback=True))
    assert isinstance(callback, Accepted) and callback.callback_data == "0x01"


@pytest.mark.parametrize("status", [RS.COMPLETED, RS.FAILED, RS.ABORTED])
def test_a_final_or_aborted_status_leaves_the_task(status):
    current = {
        RS.COMPLETED: replicate(RS.COMPLETING),
        RS.FAILED: replicate(RS.STARTING),
        RS.ABORTED: replicate(RS.STARTING),
    }[status]
    decision = decide(
        ProposedUpdate(status, Modifier.POOL_MANAGER if status is RS.FAILED else Modifier.WORKER), current
    )
    assert isinstance(decision, Accepted) and decision.leave_task


def test_the_scheduler_cause_and_message_are_kept():
    update = ProposedUpdate(RS.FAILED, Modifier.POOL_MANAGER, cause=Cause.REVEAL_TIMEOUT, message="too late")
    decision = decide(update, replicate(*RUNNING_TO_CONTRIBUTING, RS.CONTRIBUTED))
    assert isinstance(decision, Accepted)
    assert (decision.entry.cause, decision.entry.error_message, decision.entry.modifier) == (
        Cause.REVEAL_TIMEOUT,
        "too late",
        Modifier.POOL_MANAGER,
    )


def test_recovering_by_the_scheduler_may_repeat():
    current = replicate(RS.STARTING, RS.RECOVERING, RS.STARTED)
    decision = decide(ProposedUpdate(RS.RECOVERING, Modifier.POOL_MANAGER), current)
    assert isinstance(decision, Accepted) and decision.next_action is Next.PLEASE_WAIT


def test_with_history_shows_the_appended_status():
    decision = decide(worker(RS.STARTING), replicate())
    assert isinstance(decision, Accepted)
    assert with_history(replicate(), decision).status is RS.STARTING


# ----- refusals, in the order they are checked ---------------------------------------------------------


def test_an_unknown_task_is_refused():
    decision = decide_replicate(None, replicate(), worker(RS.STARTING), NO_PROOF, T0)
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.UNKNOWN_TASK


def test_a_worker_without_a_replicate_is_refused():
    decision = decide(worker(RS.STARTING), None)
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.UNKNOWN_REPLICATE
    assert W1 in decision.message and decision.next_action is Next.PLEASE_ABORT


def test_a_status_already_reported_is_refused_with_please_wait():
    decision = decide(worker(RS.STARTING), replicate(RS.STARTING))
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.ALREADY_REPORTED
    assert decision.next_action is Next.PLEASE_WAIT


def test_a_worker_cannot_repeat_recovering():
    decision = decide(worker(RS.RECOVERING), replicate(RS.STARTING, RS.RECOVERING, RS.STARTED))
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.ALREADY_REPORTED


def test_already_reported_is_checked_before_the_transition():
    decision = decide(worker(RS.STARTED), replicate(RS.STARTING, RS.STARTED, RS.APP_DOWNLOADING))
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.ALREADY_REPORTED


def test_a_transition_the_workflow_does_not_allow_is_refused_with_what_is_allowed():
    decision = decide(worker(RS.COMPUTED), replicate(RS.STARTING))
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.BAD_WORKFLOW_TRANSITION
    assert "cannot go from STARTING to COMPUTED" in decision.message and "STARTED" in decision.message
    assert decision.next_action is Next.PLEASE_ABORT


def test_nothing_follows_a_final_status():
    decision = decide(ProposedUpdate(RS.WORKER_LOST, Modifier.POOL_MANAGER), replicate(RS.COMPLETING, RS.COMPLETED))
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.BAD_WORKFLOW_TRANSITION
    assert "none: the replicate is final" in decision.message


def test_the_transition_is_checked_before_the_chain_proof():
    decision = decide(worker(RS.CONTRIBUTED), replicate(RS.STARTING), NO_PROOF)
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.BAD_WORKFLOW_TRANSITION


@pytest.mark.parametrize("contribution", [None, Contribution(CCS.UNSET), Contribution(CCS.CONTRIBUTED)])
def test_a_contribution_the_chain_does_not_show_is_refused(contribution):
    # a CONTRIBUTED contribution whose result hash is zero does not count either
    decision = decide(
        worker(RS.CONTRIBUTED), replicate(*RUNNING_TO_CONTRIBUTING), ChainProof(contribution=contribution)
    )
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.NOT_ON_CHAIN
    assert "no contribution of worker" in decision.message


def test_a_reveal_the_chain_does_not_show_is_refused():
    proof = ChainProof(contribution=Contribution(CCS.CONTRIBUTED, result_hash=HASH))
    decision = decide(worker(RS.REVEALED), replicate(*RUNNING_TO_CONTRIBUTING, RS.CONTRIBUTED, RS.REVEALING), proof)
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.NOT_ON_CHAIN
    assert "no reveal of worker" in decision.message


@pytest.mark.parametrize("chain_task", [None, ChainTask(task_id=TASK_ID, status=CTS.REVEALING)])
def test_contribute_and_finalize_done_needs_the_task_completed_on_chain(chain_task):
    proof = ChainProof(contribution=Contribution(CCS.PROVED, result_hash=HASH), task=chain_task)
    current = replicate(*RUNNING_TO_CONTRIBUTING[:-1], RS.CONTRIBUTE_AND_FINALIZE_ONGOING)
    decision = decide(worker(RS.CONTRIBUTE_AND_FINALIZE_DONE), current, proof, task(tag=int_to_tag(0x3)))
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.NOT_ON_CHAIN
    assert "not COMPLETED" in decision.message


def test_contribute_and_finalize_done_needs_the_reveal_on_chain():
    current = replicate(*RUNNING_TO_CONTRIBUTING[:-1], RS.CONTRIBUTE_AND_FINALIZE_ONGOING)
    decision = decide(worker(RS.CONTRIBUTE_AND_FINALIZE_DONE), current, NO_PROOF, task(tag=int_to_tag(0x3)))
    assert isinstance(decision, RefusedUpdate) and decision.refusal is Refusal.NOT_ON_CHAIN


@pytest.mark.parametrize(
    "has_callback, details, needed",
    [
        (False, {}, "details.resultLink"),
        (False, {"resultLink": "  "}, "details.resultLink"),
        (True, {"resultLink": "link"}, "details.chainCallbackData"),
    ],
)
def test_result_uploaded_without_what_the_deal_needs_is_refused(has_callback, details, needed):
    current = replicate(
        *RUNNING_TO_CONTRIBUTING,
        RS.CONTRIBUTED,
        RS.REVEALING,
        RS.REVEALED,
        RS.RESULT_UPLOAD_REQUESTED,
        RS.RESULT_UPLOADING,
    )
    update = ProposedUpdate(RS.RESULT_UPLOADED, Modifier.WORKER, ReplicateStatusDetails(**details))
    decision = decide(update, current, t=task(has_callback=has_callback))
    assert (
        isinstance(decision, RefusedUpdate)
        and decision.refusal is Refusal.MISSING_DETAILS
        and needed in decision.message
    )


def test_every_refusal_is_covered_here():
    # The refusals above, by name: a new Refusal needs its own test.
    assert {r.value for r in Refusal} == {
        "UNKNOWN_TASK",
        "UNKNOWN_REPLICATE",
        "ALREADY_REPORTED",
        "BAD_WORKFLOW_TRANSITION",
        "NOT_ON_CHAIN",
        "MISSING_DETAILS",
    }


def test_a_tee_run_keeps_each_enclave_stage_log_even_when_the_app_never_ran():
    from pocopool.protocol.models import TeeStageLog

    stages = [TeeStageLog(stage="pre-compute", exitCode=1, stdout="", stderr="d" * ONE_LONG_LINE)]
    update = worker(RS.COMPUTE_FAILED, cause=Cause.PRE_COMPUTE_DATASET_DECRYPTION_FAILED, teeStages=stages)
    decision = decide(update, replicate(*RUNNING_TO_CONTRIBUTING[:-2]))
    assert isinstance(decision, Accepted)
    assert decision.logs is not None and decision.logs[:2] == ("", "")
    assert json.loads(decision.logs[2]) == [
        {"stage": "pre-compute", "exitCode": 1, "stdout": "", "stderr": f"{CUT_MARKER}\n" + "d" * MAX_LOG_BYTES}
    ]
