"""The TEE steps of the task engine on plain values (spec/scheduler.md §1.3, docs/tee.md): SMS framework
check, enclave challenge, contributeAndFinalize completion, RUNNING_FAILED; the TEE supply and the
standing orders of the optimized flow."""

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
    ReplicateStatusModifier as Modifier,
)
from pocopool.protocol.statuses import (
    TaskNotificationType as Next,
)
from pocopool.protocol.statuses import (
    TaskStatus as TS,
)
from pocopool.protocol.tags import TeeFramework, int_to_tag
from pocopool.protocol.transitions import is_valid_task_path
from pocopool.scheduler.engine import ChainAction, ChainView, SmsCall, TxOutcome, decide, standing_order
from pocopool.scheduler.state import ReplicateEntry, ReplicateRecord, TaskState, WorkerState
from pocopool.scheduler.supply import refusal

T0 = 1_000_000.0
TASK_ID = "0x" + "11" * 32
DEAL_ID = "0x" + "22" * 32
GOOD = "0x" + "aa" * 32
W1, W2, W3 = ("0x" + c * 40 for c in "123")
ENCLAVE = "0x" + "ee" * 20
SMS = "http://127.0.0.1:9999"
GRAMINE = frozenset({TeeFramework.GRAMINE})
TEE_TAG = int_to_tag(0x5)


def task(status: TS = TS.RECEIVED, **changes) -> TaskState:
    base = TaskState(
        chain_task_id=TASK_ID,
        deal_id=DEAL_ID,
        task_index=0,
        status=status,
        status_date=T0,
        trust=1,
        tag=TEE_TAG,
        max_execution_time=100,
        contribution_deadline=T0 + 700,
        final_deadline=T0 + 1000,
        deal_block=3,
        enclave_challenge=ENCLAVE if status not in (TS.RECEIVED, TS.INITIALIZING) else None,
    )
    return replace(base, **changes)


def replicate(wallet: str, *statuses: RS) -> ReplicateRecord:
    history = tuple(
        ReplicateEntry(s, T0 + i, Modifier.POOL_MANAGER if s is RS.CREATED else Modifier.WORKER)
        for i, s in enumerate((RS.CREATED, *statuses))
    )
    return ReplicateRecord(wallet=wallet, history=history, worker_weight=2)


def chain(
    status: CTS = CTS.ACTIVE, tx: TxOutcome | None = None, consensus_block: int | None = None, **fields
) -> ChainView:
    base = ChainTask(
        task_id=TASK_ID,
        status=status,
        deal_id=DEAL_ID,
        contribution_deadline=int(T0 + 700),
        final_deadline=int(T0 + 1000),
        reveal_deadline=int(T0 + 400),
    )
    return ChainView(task=replace(base, **fields), consensus_block=consensus_block, latest_block=50, tx=tx)


def statuses(transition) -> list[TS]:
    return [change.status for change in transition.statuses]


def framework(value: str | None = None, error: str | None = None) -> TxOutcome:
    return TxOutcome(SmsCall.FRAMEWORK, value=value, error=error, source=SMS)


def challenge(value: str | None = None, **outcome) -> TxOutcome:
    return TxOutcome(SmsCall.ENCLAVE_CHALLENGE, value=value, source=SMS, **outcome)


UNSET = chain(CTS.UNSET)
FAILED_START = (RS.STARTING, RS.START_FAILED)
COMPUTING = (
    RS.STARTING,
    RS.STARTED,
    RS.APP_DOWNLOADING,
    RS.APP_DOWNLOADED,
    RS.DATA_DOWNLOADING,
    RS.DATA_DOWNLOADED,
    RS.COMPUTING,
)
DONE = (*COMPUTING, RS.COMPUTED, RS.CONTRIBUTE_AND_FINALIZE_ONGOING, RS.CONTRIBUTE_AND_FINALIZE_DONE)


# ----- RECEIVED: the SMS framework check ----------------------------------------------------------


def test_a_tee_task_without_an_sms_still_fails_to_initialize():
    t = decide(task(), [], UNSET, T0 + 1)
    assert statuses(t) == [TS.INITIALIZE_FAILED, TS.FAILED]
    assert t.statuses[0].cause == "TEE_NOT_SUPPORTED"


def test_a_tee_task_asks_the_sms_for_its_framework_before_initialize():
    t = decide(task(), [], UNSET, T0 + 1, tee_frameworks=GRAMINE)
    assert statuses(t) == [] and t.action is SmsCall.FRAMEWORK and not t.fields


def test_the_sms_serving_the_framework_lets_the_task_initialize():
    t = decide(task(), [], chain(CTS.UNSET, tx=framework("GRAMINE")), T0 + 1, tee_frameworks=GRAMINE)
    assert statuses(t) == [TS.INITIALIZING] and t.action is ChainAction.INITIALIZE


def test_an_sms_of_another_framework_fails_the_task_naming_the_url():
    t = decide(task(), [], chain(CTS.UNSET, tx=framework("SCONE")), T0 + 1, tee_frameworks=GRAMINE)
    assert statuses(t) == [TS.INITIALIZE_FAILED, TS.FAILED]
    assert t.statuses[0].cause == "SMS_FRAMEWORK_MISMATCH"
    assert t.statuses[0].message == f"the SMS {SMS} serves SCONE, the task asks for GRAMINE"


def test_an_unreachable_sms_fails_the_task_naming_the_url():
    lost = framework(error=f"GET {SMS}/tee/framework: ConnectError refused")
    t = decide(task(), [], chain(CTS.UNSET, tx=lost), T0 + 1, tee_frameworks=GRAMINE)
    assert statuses(t) == [TS.INITIALIZE_FAILED, TS.FAILED]
    assert t.statuses[0].cause == "SMS_UNREACHABLE"
    assert SMS in t.statuses[0].message and "\n" not in t.statuses[0].message


def test_a_tee_task_initialized_by_someone_else_waits_for_its_challenge_at_initializing():
    t = decide(task(), [], chain(CTS.ACTIVE, tx=framework("GRAMINE")), T0 + 1, tee_frameworks=GRAMINE)
    assert statuses(t) == [TS.INITIALIZING] and t.action is None and "enclave_challenge" not in t.fields


# ----- INITIALIZING: the enclave challenge --------------------------------------------------------


def test_a_mined_initialize_of_a_tee_task_keeps_its_block_and_asks_for_the_challenge():
    mined = TxOutcome(ChainAction.INITIALIZE, block_number=7, tx_hash="0x" + "cd" * 32)
    t = decide(task(TS.INITIALIZING), [], chain(CTS.ACTIVE, tx=mined), T0 + 1, tee_frameworks=GRAMINE)
    assert statuses(t) == [] and t.action is SmsCall.ENCLAVE_CHALLENGE
    assert t.fields == {"initialization_block": 7}


def test_the_challenge_makes_the_tee_task_initialized_with_it():
    t = decide(
        task(TS.INITIALIZING, initialization_block=7),
        [],
        chain(CTS.ACTIVE, tx=challenge(ENCLAVE)),
        T0 + 1,
        tee_frameworks=GRAMINE,
    )
    assert statuses(t) == [TS.INITIALIZED]
    assert t.fields == {"enclave_challenge": ENCLAVE}
    assert t.statuses[0].block_number == 7 and ENCLAVE in t.statuses[0].message


def test_an_unreachable_sms_is_asked_again_on_the_next_pass_until_the_contribution_deadline():
    lost = challenge(error="POST …: ConnectError")
    assert decide(task(TS.INITIALIZING), [], chain(CTS.ACTIVE, tx=lost), T0 + 1, tee_frameworks=GRAMINE).is_empty
    again = decide(task(TS.INITIALIZING), [], chain(CTS.ACTIVE), T0 + 2, tee_frameworks=GRAMINE)
    assert again.action is SmsCall.ENCLAVE_CHALLENGE
    late = decide(task(TS.INITIALIZING), [], chain(CTS.ACTIVE, tx=lost), T0 + 700, tee_frameworks=GRAMINE)
    assert statuses(late) == [TS.INITIALIZE_FAILED, TS.FAILED]
    assert late.statuses[0].cause == "CONTRIBUTION_DEADLINE_PASSED" and "ConnectError" in late.statuses[0].message


def test_an_sms_refusal_fails_the_task_at_once():
    refused = challenge(revert_rule="NOT_POOL_OWNER", revert_message="the signer does not own the workerpool")
    t = decide(task(TS.INITIALIZING), [], chain(CTS.ACTIVE, tx=refused), T0 + 1, tee_frameworks=GRAMINE)
    assert statuses(t) == [TS.INITIALIZE_FAILED, TS.FAILED]
    assert t.statuses[0].cause == "ENCLAVE_CHALLENGE_REFUSED"
    assert SMS in t.statuses[0].message and "does not own the workerpool" in t.statuses[0].message


# ----- RUNNING: contributeAndFinalize -----------------------------------------------------------------


def test_one_contribute_and_finalize_done_completes_the_task_in_one_write():
    reps = [replicate(W1, *DONE), replicate(W2, *FAILED_START)]
    view = chain(CTS.COMPLETED, consensus_value=GOOD, results=b"pocopool://results/x", consensus_block=12)
    t = decide(task(TS.RUNNING), reps, view, T0 + 10, tee_frameworks=GRAMINE)
    assert statuses(t) == [TS.FINALIZED, TS.COMPLETED]
    assert is_valid_task_path(TS.RUNNING, statuses(t))
    assert t.fields == {
        "consensus": GOOD,
        "consensus_block": 12,
        "reveal_deadline": T0 + 400,
        "result_link": "pocopool://results/x",
        "callback_data": None,
    }
    assert [(p.type, p.wallets) for p in t.notifications] == [(Next.PLEASE_COMPLETE, (W1, W2))]


def test_a_callback_task_completes_with_the_callback_data_from_the_chain():
    view = chain(CTS.COMPLETED, consensus_value=GOOD, results=b"", results_callback=b"\xca\x11")
    t = decide(task(TS.RUNNING), [replicate(W1, *DONE)], view, T0 + 10, tee_frameworks=GRAMINE)
    assert statuses(t) == [TS.FINALIZED, TS.COMPLETED]
    assert t.fields["callback_data"] == "0xca11" and t.fields["result_link"] is None


def test_no_contribute_and_finalize_yet_leaves_the_task_running():
    reps = [replicate(W1, *COMPUTING, RS.COMPUTED, RS.CONTRIBUTE_AND_FINALIZE_ONGOING)]
    assert decide(
        task(TS.RUNNING), reps, chain(CTS.ACTIVE), T0 + 10, tee_frameworks=GRAMINE, alive_workers={W1}
    ).is_empty


def test_two_contribute_and_finalize_done_fail_the_task():
    reps = [replicate(W1, *DONE), replicate(W2, *DONE)]
    t = decide(task(TS.RUNNING), reps, chain(CTS.COMPLETED, consensus_value=GOOD), T0 + 10, tee_frameworks=GRAMINE)
    assert statuses(t) == [TS.RUNNING_FAILED, TS.FAILED]
    assert t.statuses[0].cause == "MANY_CONTRIBUTE_AND_FINALIZE"


# ----- RUNNING_FAILED ----------------------------------------------------------------------------------


def test_every_alive_worker_failed_before_computing_fails_the_tee_task_and_aborts():
    reps = [replicate(W1, *FAILED_START), replicate(W2, *COMPUTING, RS.COMPUTE_FAILED)]
    t = decide(task(TS.RUNNING), reps, chain(), T0 + 10, alive_workers={W1, W2})
    assert statuses(t) == [TS.RUNNING_FAILED, TS.FAILED]
    assert t.statuses[0].cause == "ALL_ALIVE_WORKERS_FAILED"
    assert "START_FAILED" in t.statuses[0].message and "COMPUTE_FAILED" in t.statuses[0].message
    assert [(p.type, set(p.wallets)) for p in t.notifications] == [(Next.PLEASE_ABORT, {W1, W2})]


def test_one_alive_worker_still_computing_keeps_the_task_running():
    reps = [replicate(W1, *FAILED_START), replicate(W2, *COMPUTING)]
    assert decide(task(TS.RUNNING), reps, chain(), T0 + 10, alive_workers={W1, W2}).is_empty


def test_an_alive_worker_without_a_replicate_keeps_the_task_running():
    reps = [replicate(W1, *FAILED_START)]
    assert decide(task(TS.RUNNING), reps, chain(), T0 + 10, alive_workers={W1, W3}).is_empty


def test_no_alive_worker_does_not_fail_the_task():
    reps = [replicate(W1, *FAILED_START)]
    assert decide(task(TS.RUNNING), reps, chain(), T0 + 10, alive_workers=set()).is_empty
    assert decide(task(TS.RUNNING), reps, chain(), T0 + 10, alive_workers=None).is_empty


def test_a_standard_task_never_fails_by_running_failed():
    reps = [replicate(W1, *FAILED_START)]
    standard = task(TS.RUNNING, tag="0x" + "00" * 32, enclave_challenge=ZERO_ADDRESS)
    assert decide(standard, reps, chain(), T0 + 10, alive_workers={W1}).is_empty


# ----- supply and standing orders --------------------------------------------------------------------

ACTIVE = ChainTask(task_id=TASK_ID, status=CTS.ACTIVE)


def test_a_tee_task_is_given_only_to_a_tee_enabled_worker():
    assert (
        refusal(task(TS.INITIALIZED), [], WorkerState(wallet=W1, max_nb_tasks=1), ACTIVE, T0 + 1)
        == "the task needs an SGX worker"
    )
    assert (
        refusal(task(TS.INITIALIZED), [], WorkerState(wallet=W1, max_nb_tasks=1, tee_enabled=True), ACTIVE, T0 + 1)
        is None
    )


def test_a_tee_task_without_its_challenge_is_given_to_nobody():
    tee_worker = WorkerState(wallet=W1, max_nb_tasks=1, tee_enabled=True)
    assert (
        refusal(task(TS.INITIALIZED, enclave_challenge=None), [], tee_worker, ACTIVE, T0 + 1)
        == "the task has no enclave challenge yet"
    )


def test_a_restarted_worker_is_told_to_contribute_and_finalize_then_to_complete():
    computed = replicate(W1, *COMPUTING, RS.COMPUTED)
    assert standing_order(task(TS.RUNNING), computed).type is Next.PLEASE_CONTRIBUTE_AND_FINALIZE
    assert standing_order(task(TS.RUNNING), replicate(W1, *DONE)).type is Next.PLEASE_WAIT
    assert standing_order(task(TS.COMPLETED), replicate(W1, *DONE)).type is Next.PLEASE_COMPLETE


def test_a_tee_task_every_capable_worker_refused_at_start_goes_running_then_running_failed():
    reps = [replicate(W1, *FAILED_START)]
    t = decide(task(TS.INITIALIZED), reps, chain(), T0 + 10, alive_workers={W1})
    assert statuses(t) == [TS.RUNNING, TS.RUNNING_FAILED, TS.FAILED]
    assert W1 in t.statuses[0].message and t.statuses[1].cause == "ALL_ALIVE_WORKERS_FAILED"
    waiting = decide(task(TS.INITIALIZED), [replicate(W1, *FAILED_START)], chain(), T0 + 10, alive_workers={W1, W2})
    assert TS.RUNNING_FAILED not in statuses(waiting)  # W2 can still take it
