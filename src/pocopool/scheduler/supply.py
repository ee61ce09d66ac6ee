"""Replicate supply: which task a worker asking for work gets (spec §5.1–5.4).

`refusal()` is the pure decision for one (task, worker) pair; `SupplyService.next_replicate()` runs
the gatekeeping, scans the candidate tasks in order and writes the first accepted replicate. The scan
reads a batch of candidates and their replicates in two queries and decides what it can from them;
only the task it picks is locked, read again and checked on the chain.

A worker may let its ask wait (`hold`, pocopool's long-poll): when nothing fits, the scan runs
again after each status write (the only way work appears: a task initialized, a replicate ended) or
after HOLD_RESCAN seconds (writes of another process), until the hold ends. An idle pool then
costs one request per worker per hold instead of one per ask period, and work still goes out at
once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from ..chain.aio import chain_read
from ..chain.base import Chain, ChainError, ChainTask
from ..protocol.consensus import needs_more_contributions, worker_weight
from ..protocol.crypto import key_hex, sign_authorization
from ..protocol.gas import ONE_TRANSACTION_GAS
from ..protocol.keys import Wallet
from ..protocol.models import MAX_ASK_HOLD, ReplicateTaskSummary, Signature, WorkerpoolAuthorization
from ..protocol.statuses import (
    CONTRIBUTION_PHASE,
)
from ..protocol.statuses import (
    ChainTaskStatus as CTS,
)
from ..protocol.statuses import (
    ReplicateStatus as RS,
)
from ..protocol.tags import TeeFramework, requires_gpu
from ..protocol.time import Clock
from ..protocol.transitions import may_still_contribute
from .locks import KeyedLocks
from .logs import log_event
from .state import ReplicateRecord, TaskState, WorkerState
from .store import Store
from .wakeups import Wakeups

SCAN_BATCH = 20
HOLD_RESCAN = 2.0  # s: a held ask scans again this often even without news of this process


def prediction_inputs(
    replicates: Sequence[ReplicateRecord],
    now: float,
    period: float,
) -> tuple[dict[str, list[int]], list[int]]:
    """Contributed weights by hash, and the weights of replicates still expected to contribute
    (`may_still_contribute`), as spec §5.4 reads them. A contribution already on chain counts even
    when its worker is lost since."""
    contributed: dict[str, list[int]] = {}
    pending: list[int] = []
    for replicate in replicates:
        last = replicate.last_relevant
        if last is RS.CONTRIBUTED and replicate.contribution_hash:
            contributed.setdefault(replicate.contribution_hash.lower(), []).append(replicate.worker_weight)
        elif may_still_contribute(replicate.status, last, replicate.cause_of(last), now - replicate.created_at, period):
            pending.append(replicate.worker_weight)
    return contributed, pending


def worker_fits(task: TaskState, worker: WorkerState) -> str | None:
    """Why this worker cannot run this task at all (None: it can)."""
    framework = task.tee_framework
    if framework is TeeFramework.TDX and not worker.tdx_enabled:
        return "the task needs a TDX worker"
    if framework in (TeeFramework.SCONE, TeeFramework.GRAMINE) and not worker.tee_enabled:
        return "the task needs an SGX worker"
    if requires_gpu(task.tag) and not worker.gpu_enabled:
        return "the task needs a GPU worker"
    return None


def refusal(
    task: TaskState,
    replicates: Sequence[ReplicateRecord],
    worker: WorkerState,
    chain_task: ChainTask | None,
    now: float,
) -> str | None:
    """Why the worker must not get a replicate of this task now (None: give it one)."""
    return store_refusal(task, replicates, worker, now) or chain_refusal(chain_task)


def store_refusal(
    task: TaskState, replicates: Sequence[ReplicateRecord], worker: WorkerState, now: float
) -> str | None:
    """`refusal` from what the store knows alone: the supply scan checks this for a whole batch of
    candidates before it reads the chain for the one it picks."""
    if task.status not in CONTRIBUTION_PHASE:
        return f"the task is {task.status.value}"
    if now >= task.contribution_deadline:
        return "the contribution deadline passed"
    if not task.enclave_challenge:
        return "the task has no enclave challenge yet"
    if any(r.wallet.lower() == worker.wallet.lower() for r in replicates):
        return "the worker already holds a replicate of the task"
    unfit = worker_fits(task, worker)
    if unfit:
        return unfit
    contributed, pending = prediction_inputs(replicates, now, float(task.max_execution_time))
    if not needs_more_contributions(contributed, pending, task.trust):
        return "the replicates already given are enough to reach consensus"
    return None


def chain_refusal(chain_task: ChainTask | None) -> str | None:
    if chain_task is None:
        return "the chain task cannot be read"
    if chain_task.status is not CTS.ACTIVE:
        return f"the chain task is {chain_task.status.value}: it accepts no contribution"
    return None


class SupplyService:
    def __init__(
        self,
        store: Store,
        chain: Chain,
        clock: Clock,
        signer: Wallet,
        ask_period_ms: int,
        *,
        sms_url: str = "",
        wakeups: Wakeups | None = None,
    ) -> None:
        """`wakeups` announces status writes: a held ask scans again on each."""
        self.wakeups = wakeups or Wakeups()
        self.sms_url = sms_url.rstrip("/")
        self.store = store
        self.chain = chain
        self.clock = clock
        self.signer = signer
        self.ask_period = ask_period_ms / 1000
        self._task_locks = KeyedLocks()
        self._wallet_locks = KeyedLocks()

    @property
    def private_key(self) -> str:
        return key_hex(self.signer)

    def authorization(self, task: TaskState, wallet: str) -> WorkerpoolAuthorization:
        """A WorkerpoolAuthorization for (worker, task), signed by the scheduler (spec §5.3)."""
        challenge = task.enclave_challenge or "0x" + "00" * 20
        signature = sign_authorization(self.private_key, wallet, task.chain_task_id, challenge)
        return WorkerpoolAuthorization(
            chainTaskId=task.chain_task_id,
            dealId=task.deal_id,
            taskIndex=task.task_index,
            workerWallet=wallet,
            enclaveChallenge=challenge,
            signature=Signature(value=signature),
        )

    async def next_replicate(
        self,
        wallet: str,
        block_number: int,
        hold: float = 0.0,
        *,
        gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> ReplicateTaskSummary | None:
        """The replicate given to the worker, or None (HTTP 204): too early, not synced, no free
        slot, or no task needs it within `hold` seconds (0: answer at once, the reference's ask).

        `gone()` tells whether the asker hung up: a held ask is dropped then, before it scans again,
        so that no replicate is written for an answer nobody reads (a worker restarted during the
        hold would never learn of it, and the task would wait for its contribution deadline)."""
        # The reference tolerates 500 ms on a 5 s period: 10 %.
        if not await self.store.claim_replicate_demand(wallet, self.clock.now(), self.ask_period * 0.9):
            return None
        if block_number <= 0:
            return None
        if not await self._can_pay_gas(wallet):
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(hold, 0.0), MAX_ASK_HOLD)
        while True:
            news = self.wakeups.ticket()  # before the scan: a write during it wakes the next wait
            summary = await self._scan(wallet)
            remaining = deadline - loop.time()
            if summary is not None or remaining <= 0 or self.wakeups.closed:
                return summary
            await self.wakeups.wait(news, min(remaining, HOLD_RESCAN))
            if gone is not None and await gone():
                return None

    async def _scan(self, wallet: str) -> ReplicateTaskSummary | None:
        now = self.clock.now()
        async with self._wallet_locks.hold(wallet):
            worker = await self.store.worker(wallet)
            if worker is None or worker.computing >= worker.max_nb_tasks:
                return None
            weight = worker_weight(await chain_read(self.chain, self.chain.view_score, wallet))
            offset = 0
            while True:
                candidates = await self.store.supply_candidates(wallet, now, limit=SCAN_BATCH, offset=offset)
                held = await self.store.replicates_of_tasks([task.chain_task_id for task in candidates])
                for task in candidates:
                    if store_refusal(task, held.get(task.chain_task_id, []), worker, now) is not None:
                        continue  # decided from the batch read: no lock, no chain read
                    summary = await self._try(task, worker, weight, now)
                    if summary is not None:
                        return summary
                if len(candidates) < SCAN_BATCH:
                    return None
                offset += SCAN_BATCH

    async def _can_pay_gas(self, wallet: str) -> bool:
        """§5.1 step 5: a worker whose wallet cannot pay one transaction gets no replicate it could not
        contribute (always can on a chain without gas: LocalChain answers without I/O)."""
        try:
            budget = await chain_read(self.chain, self.chain.gas_budget, wallet)
        except ChainError as error:
            log_event("supply.gas-unknown", level=logging.WARNING, wallet=wallet, error=str(error))
            return False
        if budget.can_pay(ONE_TRANSACTION_GAS):
            return True
        log_event(
            "supply.out-of-gas",
            level=logging.WARNING,
            wallet=wallet,
            balance=budget.balance,
            needed=budget.cost(ONE_TRANSACTION_GAS),
        )
        return False

    async def _try(self, task: TaskState, worker: WorkerState, weight: int, now: float) -> ReplicateTaskSummary | None:
        if self._task_locks.busy(task.chain_task_id):
            return None  # another worker is being given this task: try the next one
        async with self._task_locks.hold(task.chain_task_id):
            fresh = await self.store.load(task.chain_task_id)
            if fresh is None:
                return None
            task, replicates = fresh
            if store_refusal(task, replicates, worker, now) is not None:
                return None
            chain_task = await chain_read(self.chain, self.chain.view_task, task.chain_task_id)
            if chain_refusal(chain_task) is not None:
                return None
            if not await self.store.add_replicate(task.chain_task_id, worker.wallet, weight, worker.max_nb_tasks, now):
                return None
        log_event(
            "replicate.status",
            task=task.chain_task_id,
            wallet=worker.wallet,
            status=RS.CREATED.value,
            modifier="POOL_MANAGER",
            weight=weight,
        )
        return self.summary(task, worker.wallet)

    def summary(self, task: TaskState, wallet: str) -> ReplicateTaskSummary:
        """What the worker gets: the authorization, and the SMS URL for a TEE task (spec §5.1 step 8)."""
        return ReplicateTaskSummary(
            workerpoolAuthorization=self.authorization(task, wallet), smsUrl=self.sms_url_for(task)
        )

    def sms_url_for(self, task: TaskState) -> str | None:
        return self.sms_url if task.tee_framework is not None and self.sms_url else None
