"""The task updater: it applies the task engine's decisions, and queues the task update requests (spec §1.2).

Anyone who learns something that may move a task (a new deal, a replicate status, a detector)
calls `TaskUpdater.request(task_id)`. Requests go through a de-duplicated queue consumed by a few
coroutines; one task is updated by one coroutine at a time, and a request arriving while its task
is being updated makes it run once more afterwards, so no news is lost.

An update loads the task, reads the chain, asks `engine.decide`, writes the transition in one
guarded transaction, performs the action the transition announces (a chain transaction, in a
thread, or an SMS call), and asks again, until the engine has nothing more to do. It loads the task
again only after an action or a stale write: otherwise the next step decides on the state the
write left (written.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import assert_never

from ..chain.aio import chain_read
from ..chain.base import Chain, ChainError, ChainRevert
from ..protocol.crypto import hex_to_bytes, key_hex
from ..protocol.keys import Wallet
from ..protocol.statuses import CONTRIBUTION_PHASE
from ..protocol.statuses import ChainTaskStatus as CTS
from ..protocol.statuses import TaskStatus as TS
from ..protocol.tags import TeeFramework
from ..protocol.time import Clock
from .engine import UPLOAD_TIMEOUT_PERIODS, Action, ChainAction, ChainView, SmsCall, Transition, TxOutcome, decide
from .locks import KeyedLocks
from .logs import log_event
from .notifications import render_notifications, wallets_of
from .sms import SmsClient
from .state import ReplicateRecord, TaskState
from .store import Store
from .wakeups import Wakeups
from .written import written

MAX_STEPS = 16
SHUTDOWN_TIMEOUT = 10.0  # seconds the update coroutines have to finish after stop()


class TaskUpdater:
    """Owned by the Scheduler, which runs `run()`; the update coroutines are the updater's own."""

    def __init__(
        self,
        store: Store,
        chain: Chain,
        clock: Clock,
        signer: Wallet,
        wakeups: Wakeups,
        *,
        tee_frameworks: frozenset[TeeFramework] = frozenset(),
        upload_timeout_periods: float = UPLOAD_TIMEOUT_PERIODS,
        sms: SmsClient | None = None,
        alive_workers: Callable[[TeeFramework | None], Awaitable[frozenset[str]]] | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.clock = clock
        self.signer = signer
        self.wakeups = wakeups
        self.tee_frameworks = tee_frameworks
        self.upload_timeout_periods = upload_timeout_periods
        self.sms = sms
        self.alive_workers = alive_workers
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._queued: set[str] = set()
        self._running: set[str] = set()
        self._rerun: set[str] = set()
        self._locks = KeyedLocks()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = asyncio.Event()

    # ----- requests -------------------------------------------------------------------------------
    def request(self, task_id: str) -> None:
        """Asks for an update of the task (cheap; duplicates are merged)."""
        if task_id in self._running:
            self._rerun.add(task_id)
            return
        if task_id in self._queued:
            return
        self._queued.add(task_id)
        self._idle.clear()
        self._queue.put_nowait(task_id)

    def request_many(self, task_ids: Iterable[str]) -> None:
        for task_id in task_ids:
            self.request(task_id)

    async def idle(self) -> None:
        """Returns once no update is queued or running (tests, shutdown)."""
        await self._idle.wait()

    async def run(self, workers: int, *, shutdown_timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """Applies update requests with `workers` coroutines, in a TaskGroup of its own, until
        `stop()`; then lets each finish its current update and returns. Updates still running
        `shutdown_timeout` seconds after `stop()` are cancelled (a restart updates them again)."""
        async with asyncio.TaskGroup() as group:
            owned = [group.create_task(self.worker(), name=f"task-updates-{i}") for i in range(workers)]
            await self._stopping.wait()
            self._drop_requests()
            for _ in owned:
                self._queue.put_nowait(None)
            _, pending = await asyncio.wait(owned, timeout=shutdown_timeout)
            for task in pending:
                log_event("scheduler.cancel", level=logging.WARNING, loop=task.get_name())
                task.cancel()

    def stop(self) -> None:
        """Asks `run()` to return once the current updates are done (waiting requests are dropped:
        a restart updates every unfinished task anyway)."""
        self._stopping.set()

    def _drop_requests(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queued.clear()
        self._rerun.clear()

    async def worker(self) -> None:
        """Consumes update requests until `run()` sends it a stop marker."""
        while True:
            task_id = await self._queue.get()
            if task_id is None:
                return
            self._queued.discard(task_id)
            self._running.add(task_id)
            try:
                await self.update(task_id)
            except Exception as error:  # one broken task must not stop the others
                log_event("task.update_failed", level=logging.ERROR, task=task_id, error=repr(error))
                logging.getLogger("pocopool.scheduler").exception("update of task %s failed", task_id)
            finally:
                self._running.discard(task_id)
                if task_id in self._rerun:
                    self._rerun.discard(task_id)
                    self.request(task_id)
                if not self._queued and not self._running:
                    self._idle.set()

    # ----- one update -----------------------------------------------------------------------------
    async def update(self, task_id: str) -> None:
        """Moves the task as far as the engine can take it now (one update per task at a time)."""
        async with self._locks.hold(task_id):
            await self._update(task_id)

    async def _update(self, task_id: str) -> None:
        tx: TxOutcome | None = None
        known: tuple[TaskState, list[ReplicateRecord]] | None = None  # as the last step wrote it
        for _ in range(MAX_STEPS):
            loaded = known or await self.store.load(task_id)
            if loaded is None:
                return
            task, replicates = loaded
            known = None
            if task.status.is_final:
                return
            view = await self.chain_view(task, tx)
            alive = await self._alive_workers(task)
            now = self.clock.now()
            transition = decide(
                task,
                replicates,
                view,
                now,
                tee_frameworks=self.tee_frameworks,
                upload_timeout_periods=self.upload_timeout_periods,
                alive_workers=alive,
            )
            tx = None
            if transition.is_empty:
                return
            rows = render_notifications(transition.notifications, task_id, self._key)
            if not await self.store.apply(task, transition, rows, now):
                log_event("task.stale", level=logging.DEBUG, task=task_id, status=task.status)
                continue  # changed meanwhile: read again and decide again
            self._log(task, transition)
            self.wakeups.notify(wallets_of(rows))
            if transition.action is not None:
                tx = await self.perform(task, transition.action)
            else:
                known = written(task, replicates, transition, now)
        log_event("task.too_many_steps", level=logging.WARNING, task=task_id, steps=MAX_STEPS)

    @property
    def _key(self) -> str:
        return key_hex(self.signer)

    async def chain_view(self, task: TaskState, tx: TxOutcome | None) -> ChainView:
        try:
            chain_task = await chain_read(self.chain, self.chain.view_task, task.chain_task_id)
            consensus_block = latest = None
            if chain_task.status in (CTS.REVEALING, CTS.COMPLETED) and task.status in CONTRIBUTION_PHASE:
                consensus_block = await self._event_block("TaskConsensus", task)
                latest = (await chain_read(self.chain, self.chain.latest_block)).number
        except ChainError as error:
            log_event("chain.unreadable", level=logging.WARNING, task=task.chain_task_id, error=str(error))
            return ChainView(task=None, tx=tx)
        return ChainView(task=chain_task, consensus_block=consensus_block, latest_block=latest, tx=tx)

    async def _event_block(self, name: str, task: TaskState) -> int | None:
        start = task.initialization_block or task.deal_block
        read = partial(self.chain.events, task_id=task.chain_task_id)
        found = await chain_read(self.chain, read, start, None, (name,))
        return found[-1].block_number if found else None

    async def _alive_workers(self, task: TaskState) -> frozenset[str] | None:
        """Who is alive and could be given the task, for the RUNNING_FAILED rule (one read of the workers)."""
        if task.status not in (TS.INITIALIZED, TS.RUNNING) or self.alive_workers is None:
            return None
        return await self.alive_workers(task.tee_framework)

    async def perform(self, task: TaskState, action: Action) -> TxOutcome:
        """Sends the transaction, or makes the SMS call, that a transition announces. Reverts,
        refusals and unreachable ledgers become outcomes, not exceptions; an action this updater
        does not know raises (AssertionError) rather than being taken for another."""
        match action:
            case SmsCall():
                return await self._ask_sms(task, action)
            case ChainAction():
                return await self._send(task, action)
            case _:
                assert_never(action)

    async def _ask_sms(self, task: TaskState, call: SmsCall) -> TxOutcome:
        if self.sms is None:
            return TxOutcome(call, error="no SMS is configured (--sms)")
        match call:
            case SmsCall.FRAMEWORK:
                outcome = await self.sms.framework()
            case SmsCall.ENCLAVE_CHALLENGE:
                outcome = await self.sms.enclave_challenge(task.chain_task_id)
            case _:
                assert_never(call)
        log_event(
            "sms.call",
            level=logging.INFO if outcome.answered else logging.WARNING,
            task=task.chain_task_id,
            action=call.value,
            sms=self.sms.url,
            answer=outcome.value,
            rule=outcome.revert_rule,
            message=outcome.revert_message,
            error=outcome.error,
        )
        return outcome

    async def _send(self, task: TaskState, action: ChainAction) -> TxOutcome:
        try:
            match action:
                case ChainAction.INITIALIZE:
                    receipt = await asyncio.to_thread(self.chain.initialize, self.signer, task.deal_id, task.task_index)
                case ChainAction.REOPEN:
                    receipt = await asyncio.to_thread(self.chain.reopen, self.signer, task.chain_task_id)
                case ChainAction.FINALIZE:
                    callback = b""
                    if task.has_callback and task.callback_data:
                        callback = hex_to_bytes(task.callback_data, what="callback data")
                    receipt = await asyncio.to_thread(
                        self.chain.finalize,
                        self.signer,
                        task.chain_task_id,
                        (task.result_link or "").encode(),
                        callback,
                    )
                case _:
                    assert_never(action)
        except ChainRevert as error:
            log_event(
                "chain.revert",
                level=logging.WARNING,
                task=task.chain_task_id,
                action=action.value,
                rule=error.rule,
                message=error.message,
            )
            return TxOutcome(action, revert_rule=error.rule, revert_message=error.message)
        except (ChainError, ValueError) as error:
            log_event(
                "chain.error", level=logging.WARNING, task=task.chain_task_id, action=action.value, error=str(error)
            )
            return TxOutcome(action, error=str(error))
        log_event(
            "chain.tx", task=task.chain_task_id, action=action.value, block=receipt.block_number, tx=receipt.tx_hash
        )
        return TxOutcome(action, block_number=receipt.block_number, tx_hash=receipt.tx_hash)

    def _log(self, task: TaskState, transition: Transition) -> None:
        previous: TS = task.status
        for change in transition.statuses:
            log_event(
                "task.status",
                task=task.chain_task_id,
                status=change.status,
                previous=previous,
                cause=change.cause,
                message=change.message,
            )
            previous = change.status
        for replicate in transition.replicates:
            log_event(
                "replicate.status",
                task=task.chain_task_id,
                wallet=replicate.wallet,
                status=replicate.status,
                modifier="POOL_MANAGER",
                cause=replicate.cause,
            )
        for notification in transition.notifications:
            for wallet in notification.wallets:
                log_event(
                    "notification",
                    task=task.chain_task_id,
                    wallet=wallet,
                    type=notification.type.value,
                    abort_cause=notification.abort_cause,
                    block=notification.block_number or None,
                )
