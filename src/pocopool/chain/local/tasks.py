"""Ledger rules for the life of a task (spec/poco.md §6-§8, §10.3-§10.4): IexecPoco2Facet in Python.

Each public function is one transaction body. Preconditions are checked in the spec's order and
raise ChainRevert on the first that fails; effects go through the TxState, which emits the escrow
events, so the event order follows the contract's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...protocol import crypto
from ...protocol.consensus import is_winning_group, reward_weight, worker_weight
from ...protocol.crypto import ZERO_ADDRESS, ZERO_BYTES32, keccak, keccak_hex, same_address
from ...protocol.statuses import ChainContributionStatus as CS
from ...protocol.statuses import ChainTaskStatus as TS
from ...protocol.tags import TEE_BIT, tag_to_int
from ...protocol.time import reveal_deadline, task_deadlines
from .. import arguments as arg
from .. import errors as rule
from ..base import KITTY_ADDRESS, KITTY_MIN, KITTY_RATIO, ChainTask, Contribution, Deal
from ..reverts import revert
from .state import TxState, scheduler_stake, task_price


# ----- shared preconditions ---------------------------------------------------------------------------
def _require_status(task: ChainTask, allowed: tuple[TS, ...], rule_name: str) -> None:
    if task.status not in allowed:
        expected = " or ".join(status.value for status in allowed)
        raise revert(rule_name, f"task {task.task_id} is {task.status.value}, not {expected}")


def _require_before(deadline: int, now: int, rule_name: str, what: str) -> None:
    """Deadlines that gate an action are strict: the action needs deadline > now (§11.2)."""
    if not deadline > now:
        raise revert(rule_name, f"the {what} is {deadline}, the block time {now}")


def _require_reached(deadline: int, now: int, rule_name: str, what: str) -> None:
    if not deadline <= now:
        raise revert(rule_name, f"the {what} is {deadline}, the block time {now}")


def _deal_of(state: TxState, task: ChainTask) -> Deal:
    deal = state.deal(task.deal_id)
    assert deal is not None, f"initialized task {task.task_id} has no deal {task.deal_id}"
    return deal


def _scheduler_deal(state: TxState, task: ChainTask, sender: str) -> Deal:
    """The task's deal, if `sender` is its scheduler (onlyScheduler = deal.workerpool.owner, §7.4)."""
    if task.status is TS.UNSET:  # the contract reads the zero deal, whose scheduler is address 0
        raise revert(rule.ONLY_SCHEDULER, f"task {task.task_id} is not initialized: it has no scheduler")
    deal = _deal_of(state, task)
    if sender != deal.workerpool.owner:
        raise revert(rule.ONLY_SCHEDULER, f"the scheduler is {deal.workerpool.owner}, not {sender}")
    return deal


def _check_tee(deal: Deal, enclave_challenge: str) -> None:
    if enclave_challenge == ZERO_ADDRESS and tag_to_int(deal.tag) & TEE_BIT:
        raise revert(rule.ENCLAVE_CHALLENGE_REQUIRED, f"deal {deal.deal_id} got the zero address")


@dataclass(frozen=True)
class Signers:
    """Who signed a contribution's authorization and its result (None: unreadable or absent signature).

    ECDSA recovery is pure and slow (milliseconds in pure Python): LocalChain recovers the signers
    before it takes the write lock, and the rules below only compare them with the expected ones.
    """

    authorization: str | None
    enclave: str | None


def recover_signers(
    worker: str,
    task_id: str,
    result_hash: str,
    result_seal: str,
    enclave_challenge: str,
    enclave_sign: str,
    authorization_sign: str,
) -> Signers:
    """The signers of contribute's arguments, which may still be malformed (the rules reject those)."""
    authorization = crypto.recover_authorization_signer(worker, task_id, enclave_challenge, authorization_sign)
    try:
        result = crypto.hex_to_bytes(result_hash, 32) + crypto.hex_to_bytes(result_seal, 32)
    except crypto.InvalidHex:
        return Signers(authorization, None)
    return Signers(authorization, crypto.recover_personal(keccak(result), enclave_sign) if enclave_sign else None)


def recover_one_shot_signers(
    worker: str,
    task_id: str,
    result_digest: str,
    enclave_challenge: str,
    enclave_sign: str,
    authorization_sign: str,
) -> Signers:
    """The signers of contributeAndFinalize's arguments, whose vote is derived from the digest."""
    try:
        result_hash = crypto.result_hash(task_id, result_digest)
        result_seal = crypto.result_seal(worker, task_id, result_digest)
    except crypto.InvalidHex:
        return Signers(None, None)
    return recover_signers(
        worker, task_id, result_hash, result_seal, enclave_challenge, enclave_sign, authorization_sign
    )


def _check_authorization(deal: Deal, task_id: str, worker: str, enclave_challenge: str, signers: Signers) -> None:
    """WorkerpoolAuthorization (§9.1). This ledger has no teebroker, so the scheduler always signs."""
    signer, recovered = deal.workerpool.owner, signers.authorization
    if not same_address(recovered, signer):
        raise revert(
            rule.INVALID_AUTHORIZATION,
            f"expected an authorization of ({worker}, {task_id}, {enclave_challenge}) signed by the scheduler "
            f"{signer}, found {'one signed by ' + recovered if recovered else 'an unreadable signature'}",
        )


def _check_enclave_signature(enclave_challenge: str, signers: Signers) -> None:
    """The enclave signs ethSigned(keccak(resultHash ‖ resultSeal)) with the challenge key (§9.3)."""
    recovered = signers.enclave
    if enclave_challenge != ZERO_ADDRESS and not same_address(recovered, enclave_challenge):
        raise revert(
            rule.INVALID_ENCLAVE_SIGNATURE,
            f"expected the result signed by the enclave challenge {enclave_challenge}, "
            f"found {'a signature by ' + recovered if recovered else 'an unreadable signature'}",
        )


def _check_results_callback(deal: Deal, result_digest: str, results_callback: bytes) -> None:
    """Callback deals vote on keccak(callback data), and finalize proves it (§7.5 (5), §13.1)."""
    if not deal.has_callback and not results_callback:
        return
    found = keccak_hex(results_callback)
    if found != result_digest:
        raise revert(rule.WRONG_RESULTS_CALLBACK, f"the result digest is {result_digest}, the keccak {found}")


# ----- initialize (§7.1) -----------------------------------------------------------------------------
def initialize(state: TxState, deal_id: str, idx: int) -> str:
    deal_id, idx = arg.bytes32(deal_id, "deal id"), arg.uint(idx, "task index")
    deal = state.deal(deal_id)
    if deal is None:
        raise revert(rule.UNKNOWN_DEAL, f"deal {deal_id}")
    if idx not in deal.task_index_range():
        raise revert(
            rule.TASK_INDEX_OUT_OF_RANGE,
            f"the bag is {deal.bot_first} to {deal.bot_first + deal.bot_size - 1}, got {idx}",
        )
    task_id = crypto.task_id(deal_id, idx)
    task = state.task(task_id)
    if task.status is not TS.UNSET:
        raise revert(rule.TASK_ALREADY_INITIALIZED, f"task {task_id} is {task.status.value}")
    timeref = state.category(deal.category).work_clock_time_ref  # type: ignore[union-attr]
    deadlines = task_deadlines(deal.start_time, timeref)
    state.save_task(
        replace(
            task,
            status=TS.ACTIVE,
            deal_id=deal_id,
            idx=idx,
            timeref=timeref,
            contribution_deadline=deadlines.contribution,
            final_deadline=deadlines.final,
        )
    )
    state.emit("TaskInitialize", taskid=task_id, workerpool=deal.workerpool.pointer)
    return task_id


# ----- contribute and consensus (§7.2, §8.2, §8.3) ---------------------------------------------------------
def contribute(
    state: TxState,
    worker: str,
    task_id: str,
    result_hash: str,
    result_seal: str,
    enclave_challenge: str,
    signers: Signers,
) -> None:
    task_id = arg.bytes32(task_id, "task id")
    result_hash = arg.bytes32(result_hash, "result hash")
    result_seal = arg.bytes32(result_seal, "result seal")
    enclave_challenge = arg.address(enclave_challenge, "enclave challenge")
    task = state.task(task_id)
    _require_status(task, (TS.ACTIVE,), rule.TASK_NOT_ACTIVE)
    _require_before(task.contribution_deadline, state.now, rule.CONTRIBUTION_DEADLINE_PASSED, "contribution deadline")
    existing = state.contribution(task_id, worker)
    if existing.status is not CS.UNSET:
        raise revert(rule.ALREADY_CONTRIBUTED, f"{worker}, task {task_id}", status=existing.status.value)
    deal = _deal_of(state, task)
    _check_tee(deal, enclave_challenge)
    _check_authorization(deal, task_id, worker, enclave_challenge, signers)
    _check_enclave_signature(enclave_challenge, signers)

    score = state.score(worker)
    state.save_contribution(
        task_id,
        worker,
        Contribution(
            CS.CONTRIBUTED,
            result_hash,
            result_seal,
            enclave_challenge,
            weight=reward_weight(score),
        ),
    )
    task = replace(task, contributors=(*task.contributors, worker))
    state.lock(worker, deal.worker_stake)
    state.emit("TaskContribute", taskid=task_id, worker=worker, hash=result_hash)
    state.save_task(_vote(state, task, deal, result_hash, worker_weight(score)))


def _vote(state: TxState, task: ChainTask, deal: Deal, result_hash: str, weight: int) -> ChainTask:
    """Adds a vote to the consensus (§8.2) and moves the task to REVEALING if its group wins (§8.3)."""
    # A group weighs the product of its voters' weights; total (1 + Σ groups) grows by the same delta.
    group = max(state.consensus_group(task.task_id, result_hash), 1) * weight
    state.set_consensus_group(task.task_id, result_hash, group)
    if not is_winning_group(group, state.consensus_total(task.task_id), deal.trust):
        return task
    winners = state.count_contributions(task.task_id, result_hash, CS.CONTRIBUTED)  # REJECTED ones excluded
    state.emit("TaskConsensus", taskid=task.task_id, consensus=result_hash)
    return replace(
        task,
        status=TS.REVEALING,
        consensus_value=result_hash,
        reveal_deadline=reveal_deadline(state.now, task.timeref),
        reveal_counter=0,
        winner_counter=winners,
    )


# ----- reveal (§7.3) ---------------------------------------------------------------------------------
def reveal(state: TxState, worker: str, task_id: str, result_digest: str) -> None:
    task_id, result_digest = arg.bytes32(task_id, "task id"), arg.bytes32(result_digest, "result digest")
    task = state.task(task_id)
    _require_status(task, (TS.REVEALING,), rule.TASK_NOT_REVEALING)
    _require_before(task.reveal_deadline, state.now, rule.REVEAL_DEADLINE_PASSED, "reveal deadline")
    contribution = state.contribution(task_id, worker)
    if contribution.status is not CS.CONTRIBUTED:
        raise revert(rule.NOT_CONTRIBUTED, f"{worker}, task {task_id}", status=contribution.status.value)
    if contribution.result_hash != task.consensus_value:
        raise revert(
            rule.NOT_IN_CONSENSUS,
            f"{worker} voted {contribution.result_hash}, the consensus is {task.consensus_value}",
        )
    expected_hash = crypto.result_hash(task_id, result_digest)
    if contribution.result_hash != expected_hash:
        raise revert(
            rule.WRONG_RESULT_HASH,
            f"the digest gives result hash {expected_hash}, {worker} contributed {contribution.result_hash}",
        )
    expected_seal = crypto.result_seal(worker, task_id, result_digest)
    if contribution.result_seal != expected_seal:
        raise revert(
            rule.WRONG_RESULT_SEAL,
            f"the digest gives result seal {expected_seal}, {worker} contributed {contribution.result_seal}",
        )
    state.save_contribution(task_id, worker, replace(contribution, status=CS.PROVED))
    state.save_task(replace(task, reveal_counter=task.reveal_counter + 1, result_digest=result_digest))
    state.emit("TaskReveal", taskid=task_id, worker=worker, digest=result_digest)


# ----- reopen (§7.4) ---------------------------------------------------------------------------------
def reopen(state: TxState, sender: str, task_id: str) -> None:
    task = state.task(arg.bytes32(task_id, "task id"))
    _scheduler_deal(state, task, sender)
    _require_status(task, (TS.REVEALING,), rule.TASK_NOT_REVEALING)
    _require_before(task.final_deadline, state.now, rule.FINAL_DEADLINE_PASSED, "final deadline")
    _require_reached(task.reveal_deadline, state.now, rule.REVEAL_DEADLINE_NOT_REACHED, "reveal deadline")
    if task.reveal_counter != 0:
        raise revert(rule.TASK_HAS_REVEALS, f"{task.reveal_counter} winner(s) revealed")
    for worker in task.contributors:
        contribution = state.contribution(task.task_id, worker)
        if contribution.result_hash == task.consensus_value:
            state.save_contribution(task.task_id, worker, replace(contribution, status=CS.REJECTED))
    state.set_consensus_group(task.task_id, task.consensus_value, 0)  # total drops with it
    state.save_task(
        replace(
            task,
            status=TS.ACTIVE,
            consensus_value=ZERO_BYTES32,
            reveal_deadline=0,
            winner_counter=0,
        )
    )
    state.emit("TaskReopen", taskid=task.task_id)


# ----- finalize (§7.5, §8.5, §10.3) -------------------------------------------------------------------------
def finalize(state: TxState, sender: str, task_id: str, results: bytes, results_callback: bytes) -> None:
    task = state.task(arg.bytes32(task_id, "task id"))
    results, results_callback = arg.data(results, "results"), arg.data(results_callback, "results callback")
    deal = _scheduler_deal(state, task, sender)
    _require_status(task, (TS.REVEALING,), rule.TASK_NOT_REVEALING)
    _require_before(task.final_deadline, state.now, rule.FINAL_DEADLINE_PASSED, "final deadline")
    all_revealed = task.reveal_counter == task.winner_counter
    if not (all_revealed or (task.reveal_counter > 0 and task.reveal_deadline <= state.now)):
        raise revert(
            rule.REVEALS_PENDING,
            f"the reveal deadline is {task.reveal_deadline}, the block time {state.now}",
            winners=task.winner_counter,
            revealed=task.reveal_counter,
        )
    _check_results_callback(deal, task.result_digest, results_callback)
    task = replace(task, status=TS.COMPLETED, results=results, results_callback=results_callback)
    state.save_task(task)
    _success_work(state, deal, task.task_id)
    _distribute_rewards(state, deal, task)
    state.emit("TaskFinalize", taskid=task.task_id, results=results)


def _success_work(state: TxState, deal: Deal, task_id: str) -> None:
    """The payer's price goes to the asset owners; the scheduler gets its stake back and a kitty share."""
    state.seize(deal.sponsor, task_price(deal), task_id)
    if deal.app.price > 0:
        state.reward(deal.app.owner, deal.app.price, task_id)
    if deal.dataset.price > 0 and deal.has_dataset:
        state.reward(deal.dataset.owner, deal.dataset.price, task_id)
    state.unlock(deal.workerpool.owner, scheduler_stake(deal.workerpool.price))
    kitty = state.account(KITTY_ADDRESS).frozen
    if kitty > 0:
        share = min(max(kitty * KITTY_RATIO // 100, KITTY_MIN), kitty)
        state.seize(KITTY_ADDRESS, share, task_id)
        state.reward(deal.workerpool.owner, share, task_id)


def _distribute_rewards(state: TxState, deal: Deal, task: ChainTask) -> None:
    """Winners who revealed share the workerpool price and the losers' stakes, pro rata to weight (§8.5)."""
    contributions = {worker: state.contribution(task.task_id, worker) for worker in task.contributors}
    total_reward = deal.workerpool.price
    total_weight = 0
    for contribution in contributions.values():
        if contribution.status is CS.PROVED:
            total_weight += contribution.weight
        else:  # REJECTED, or a winner that never revealed: its stake joins the pot
            total_reward += deal.worker_stake
    workers_reward = total_reward * (100 - deal.scheduler_reward_ratio) // 100
    replicated = len(task.contributors) > 1  # scores only move when results could be compared
    for worker, contribution in contributions.items():
        if contribution.status is CS.PROVED:
            share = workers_reward * contribution.weight // total_weight
            total_reward -= share
            state.unlock(worker, deal.worker_stake)
            state.reward(worker, share, task.task_id)
            if replicated:
                state.set_score(worker, state.score(worker) + 1)
                state.emit("AccurateContribution", worker=worker, taskid=task.task_id)
        else:
            state.seize(worker, deal.worker_stake, task.task_id)
            state.set_score(worker, state.score(worker) * 2 // 3)
            state.emit("FaultyContribution", worker=worker, taskid=task.task_id)
    state.reward(deal.workerpool.owner, total_reward, task.task_id)  # its ratio plus the rounding dust


# ----- contributeAndFinalize (§7.6) ------------------------------------------------------------------
def contribute_and_finalize(
    state: TxState,
    worker: str,
    task_id: str,
    result_digest: str,
    results: bytes,
    results_callback: bytes,
    enclave_challenge: str,
    signers: Signers,
) -> None:
    task_id, result_digest = arg.bytes32(task_id, "task id"), arg.bytes32(result_digest, "result digest")
    results, results_callback = arg.data(results, "results"), arg.data(results_callback, "results callback")
    enclave_challenge = arg.address(enclave_challenge, "enclave challenge")
    task = state.task(task_id)
    _require_status(task, (TS.ACTIVE,), rule.TASK_NOT_ACTIVE)
    _require_before(task.contribution_deadline, state.now, rule.CONTRIBUTION_DEADLINE_PASSED, "contribution deadline")
    if task.contributors:
        raise revert(rule.TASK_ALREADY_CONTRIBUTED, f"task {task_id} has {len(task.contributors)} contributor(s)")
    deal = _deal_of(state, task)
    if deal.trust != 1:
        raise revert(rule.TRUST_NOT_1, f"this deal's trust is {deal.trust}")
    result_hash = crypto.result_hash(task_id, result_digest)
    result_seal = crypto.result_seal(worker, task_id, result_digest)
    _check_results_callback(deal, result_digest, results_callback)
    _check_tee(deal, enclave_challenge)
    _check_authorization(deal, task_id, worker, enclave_challenge, signers)
    _check_enclave_signature(enclave_challenge, signers)

    # No stake, no weight, no score: there is nothing to compare the result with.
    state.save_contribution(task_id, worker, Contribution(CS.PROVED, result_hash, result_seal, enclave_challenge))
    state.save_task(
        replace(
            task,
            status=TS.COMPLETED,
            consensus_value=result_hash,
            reveal_deadline=reveal_deadline(state.now, task.timeref),
            reveal_counter=1,
            winner_counter=1,
            contributors=(worker,),
            result_digest=result_digest,
            results=results,
            results_callback=results_callback,
        )
    )
    _success_work(state, deal, task_id)
    worker_reward = deal.workerpool.price * (100 - deal.scheduler_reward_ratio) // 100
    state.reward(worker, worker_reward, task_id)
    state.reward(deal.workerpool.owner, deal.workerpool.price - worker_reward, task_id)
    state.emit("TaskContribute", taskid=task_id, worker=worker, hash=result_hash)
    state.emit("TaskConsensus", taskid=task_id, consensus=result_hash)
    state.emit("TaskReveal", taskid=task_id, worker=worker, digest=result_digest)
    state.emit("TaskFinalize", taskid=task_id, results=results)


# ----- claim (§7.7, §10.4) ---------------------------------------------------------------------------
def claim(state: TxState, task_id: str) -> None:
    task = state.task(arg.bytes32(task_id, "task id"))
    _require_status(task, (TS.ACTIVE, TS.REVEALING), rule.TASK_NOT_CLAIMABLE)
    _require_reached(task.final_deadline, state.now, rule.FINAL_DEADLINE_NOT_REACHED, "final deadline")
    deal = _deal_of(state, task)
    state.save_task(replace(task, status=TS.FAILED))
    _failed_work(state, deal, task.task_id)
    for worker in task.contributors:
        state.unlock(worker, deal.worker_stake)
    state.emit("TaskClaimed", taskid=task.task_id)


def _failed_work(state: TxState, deal: Deal, task_id: str) -> None:
    """The payer is refunded; the scheduler's stake stays in escrow as the kitty's."""
    state.unlock(deal.sponsor, task_price(deal))
    stake = scheduler_stake(deal.workerpool.price)
    state.seize(deal.workerpool.owner, stake, task_id)
    state.reward_frozen(KITTY_ADDRESS, stake, task_id)


def initialize_and_claim(state: TxState, deal_id: str, idx: int) -> str:
    task_id = initialize(state, deal_id, idx)
    claim(state, task_id)
    return task_id
