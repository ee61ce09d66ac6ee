"""Replicates and their status histories: reads, the guarded status write, and the queries the
detectors scan.

Status writes are optimistic: an UPDATE filtered on the status the caller read. When another writer
changed it meanwhile, nothing is written (the functions answer None or raise `Stale`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from ...protocol.statuses import (
    IRRELEVANT_STATUSES,
)
from ...protocol.statuses import (
    ReplicateStatus as RS,
)
from ...protocol.statuses import (
    ReplicateStatusModifier as Modifier,
)
from ...protocol.statuses import (
    TaskStatus as TS,
)
from ...service.database import StoreConnection
from ..engine.replicates import Accepted, with_history
from ..state import ReplicateRecord
from .records import Stale, replicate_states, to_datetime
from .tables import replicate_status_updates, replicates, task_logs, tasks, worker_tasks, workers

# Statements of the status-update path, built once: building and hashing a statement on every call
# cost more than running it on SQLite (bench/RESULTS.md, profile of status-updates).
_HISTORY_COLUMNS = (
    replicates,
    replicate_status_updates.c.status.label("u_status"),
    replicate_status_updates.c.date.label("u_date"),
    replicate_status_updates.c.modifier.label("u_modifier"),
    replicate_status_updates.c.cause.label("u_cause"),
)
HISTORY = (
    select(*_HISTORY_COLUMNS)
    .join(replicate_status_updates, replicate_status_updates.c.replicate_id == replicates.c.id)
    .order_by(replicates.c.id, replicate_status_updates.c.id)
)
_HISTORY_OF_TASK = HISTORY.where(replicates.c.task_id == bindparam("b_task"))
_HISTORY_OF_ONE = _HISTORY_OF_TASK.where(replicates.c.wallet == bindparam("b_wallet"))
_SET_STATUS = (
    update(replicates)
    .where(replicates.c.id == bindparam("b_id"), replicates.c.status == bindparam("b_expected"))
    .values(
        status=bindparam("b_status"),
        last_relevant_status=bindparam("b_relevant"),
        updated_at=bindparam("b_updated", type_=replicates.c.updated_at.type),
    )
)
_APPEND_UPDATE = insert(replicate_status_updates)
_UPDATE_IF_STATUS = update(replicates).where(  # sets the columns its parameters name
    replicates.c.id == bindparam("b_id"), replicates.c.status == bindparam("b_expected")
)
_ROW_OF = select(replicates.c.id, replicates.c.status, replicates.c.last_relevant_status).where(
    replicates.c.task_id == bindparam("b_task"), replicates.c.wallet == bindparam("b_wallet")
)
_LOGS_OF = select(task_logs.c.id).where(
    task_logs.c.task_id == bindparam("b_task"), task_logs.c.wallet == bindparam("b_wallet")
)
_MEMBERSHIP = (worker_tasks.c.wallet == bindparam("b_wallet")) & (worker_tasks.c.task_id == bindparam("b_task"))
_LEAVE_TASK = delete(worker_tasks).where(_MEMBERSHIP)
_FREE_SLOT = update(worker_tasks).where(_MEMBERSHIP).values(computing=False)


def _relevant(new: RS, previous_relevant: str) -> str:
    return previous_relevant if new in IRRELEVANT_STATUSES else new.value


# ----- reads -------------------------------------------------------------------------------------
async def replicates_of_task(conn: StoreConnection, task_id: str, wallet: str | None = None) -> list[ReplicateRecord]:
    """The replicates of one task (or its one replicate held by `wallet`) with their histories."""
    if wallet is None:
        result = await conn.execute(_HISTORY_OF_TASK, {"b_task": task_id})
    else:
        result = await conn.execute(_HISTORY_OF_ONE, {"b_task": task_id, "b_wallet": wallet})
    return replicate_states(result.mappings().all()).get(task_id, [])


async def replicates_of_tasks(conn: StoreConnection, task_ids: Sequence[str]) -> dict[str, list[ReplicateRecord]]:
    """The replicates of several tasks, by task id, in one query."""
    rows = (await conn.execute(HISTORY.where(replicates.c.task_id.in_(task_ids)))).mappings().all()
    return replicate_states(rows)


async def replicates_in(
    conn: StoreConnection,
    task_statuses: Iterable[TS],
    last_relevant: Iterable[RS],
    limit: int,
) -> list[tuple[str, str]]:
    """(task id, wallet) of replicates whose last relevant status is one of `last_relevant`, in tasks
    in one of `task_statuses` (indexed: replicates by last relevant status, tasks by id)."""
    query = (
        select(replicates.c.task_id, replicates.c.wallet)
        .join(tasks, tasks.c.chain_task_id == replicates.c.task_id)
        .where(
            replicates.c.last_relevant_status.in_([s.value for s in last_relevant]),
            tasks.c.status.in_([s.value for s in task_statuses]),
        )
        .order_by(replicates.c.id)
        .limit(limit)
    )
    return [(row.task_id, row.wallet) for row in (await conn.execute(query)).all()]


async def lost_replicates(conn: StoreConnection, alive_after: float, now: float, limit: int) -> list[tuple[str, str]]:
    """(task id, wallet) of replicates held by workers that did not ping since `alive_after`, in
    tasks whose final deadline is not passed, not yet WORKER_LOST nor final (indexed: workers by
    last ping, worker_tasks by wallet, replicates by wallet and task)."""
    ended = [RS.WORKER_LOST.value, RS.COMPLETED.value, RS.FAILED.value]
    query = (
        select(replicates.c.task_id, replicates.c.wallet)
        .select_from(workers)
        .join(worker_tasks, worker_tasks.c.wallet == workers.c.wallet)
        .join(
            replicates,
            (replicates.c.wallet == worker_tasks.c.wallet) & (replicates.c.task_id == worker_tasks.c.task_id),
        )
        .join(tasks, tasks.c.chain_task_id == replicates.c.task_id)
        .where(
            workers.c.last_alive < to_datetime(alive_after),
            replicates.c.status.not_in(ended),
            tasks.c.final_deadline > to_datetime(now),
        )
        .order_by(replicates.c.id)
        .limit(limit)
    )
    return [(row.task_id, row.wallet) for row in (await conn.execute(query)).all()]


# ----- writes ------------------------------------------------------------------------------------
async def add_replicate(
    conn: StoreConnection, task_id: str, wallet: str, weight: int, max_nb_tasks: int, now: float
) -> None:
    """Gives the worker a replicate CREATED and a computing slot. Raises `Stale` if the worker has no
    free slot, IntegrityError if it already holds a replicate of the task."""
    when = to_datetime(now)
    computing = await conn.scalar(
        select(func.count())
        .select_from(worker_tasks)
        .where(worker_tasks.c.wallet == wallet, worker_tasks.c.computing.is_(True))
    )
    if computing >= max_nb_tasks:
        raise Stale
    done = await conn.execute(
        insert(replicates).values(
            task_id=task_id,
            wallet=wallet,
            status=RS.CREATED.value,
            last_relevant_status=RS.CREATED.value,
            worker_weight=weight,
            created_at=when,
            updated_at=when,
        )
    )
    await conn.execute(
        insert(replicate_status_updates).values(
            replicate_id=done.inserted_primary_key[0],
            status=RS.CREATED.value,
            modifier=Modifier.POOL_MANAGER.value,
            date=when,
        )
    )
    await conn.execute(insert(worker_tasks).values(wallet=wallet, task_id=task_id, computing=True, created_at=when))


class StaleReplicate(Stale):
    """The replicate changed between the read a decision was made on and its write."""


class ReplicateWriter:
    """The replicate of one worker inside one write transaction (see `Store.replicate_writer`)."""

    def __init__(self, conn: StoreConnection, task_id: str, wallet: str, replicate: ReplicateRecord | None) -> None:
        self._conn = conn
        self.task_id = task_id
        self.wallet = wallet
        self.replicate = replicate
        self.written = 0
        self._known: tuple[int, str] | None = None

    async def append(
        self, accepted: Accepted, *, score: int | None = None, result_files: Mapping[str, str] | None = None
    ) -> None:
        """Appends one decided status; `replicate` then shows it. Raises StaleReplicate if the
        replicate is no longer in the status the decision read. `score`: the worker's score on
        chain the decision read, kept with a contribution; `result_files`: the sha256 of each
        result file, reported with COMPUTED."""
        assert self.replicate is not None, "no replicate to append to"
        known = await append_status(
            self._conn,
            self.task_id,
            self.wallet,
            self.replicate.status,
            accepted,
            known=self._known,
            score=score,
            result_files=result_files,
        )
        if known is None:
            raise StaleReplicate(f"replicate {self.task_id}/{self.wallet} changed meanwhile")
        self._known = known
        self.replicate = with_history(self.replicate, accepted)
        self.written += 1


async def append_status(
    conn: StoreConnection,
    task_id: str,
    wallet: str,
    expected: RS,
    accepted: Accepted,
    *,
    known: tuple[int, str] | None = None,
    score: int | None = None,
    result_files: Mapping[str, str] | None = None,
) -> tuple[int, str] | None:
    """The one replicate append: the status decided by `decide_replicate` (if the replicate is still
    `expected`), what the decision verified (contribution, result link, callback data), the first
    compute logs of this worker, and the worker's task lists (and with a contribution, `score`;
    with `result_files`, the sha256 of each result file the worker reported). Its (row id, last relevant status)
    afterwards, which a caller writing several in one transaction passes back as `known`; None if
    the replicate changed."""
    new = accepted.entry
    if known is None:
        row = (await conn.execute(_ROW_OF, {"b_task": task_id, "b_wallet": wallet})).first()
        if row is None or row.status != expected.value:
            return None
        known = (row.id, row.last_relevant_status)
    replicate_id, last_relevant = known
    relevant = _relevant(new.status, last_relevant)
    if (
        accepted.contribution is None
        and accepted.result_link is None
        and accepted.callback_data is None
        and result_files is None
    ):
        done = await conn.execute(
            _SET_STATUS,
            {
                "b_id": replicate_id,
                "b_expected": expected.value,
                "b_status": new.status.value,
                "b_relevant": relevant,
                "b_updated": to_datetime(new.date),
            },
        )
    else:
        values: dict[str, Any] = {
            "status": new.status.value,
            "last_relevant_status": relevant,
            "updated_at": to_datetime(new.date),
        }
        if accepted.contribution is not None:
            values["contribution_hash"], values["worker_weight"] = accepted.contribution
            values["worker_score"] = score
        if accepted.result_link is not None:
            values["result_link"] = accepted.result_link
        if accepted.callback_data is not None:
            values["callback_data"] = accepted.callback_data
        if result_files is not None:
            values["result_files"] = dict(result_files)
        done = await conn.execute(_UPDATE_IF_STATUS, {"b_id": replicate_id, "b_expected": expected.value, **values})
    if done.rowcount != 1:
        return None
    await conn.execute(
        _APPEND_UPDATE,
        {
            "replicate_id": replicate_id,
            "status": new.status.value,
            "modifier": new.modifier.value,
            "date": to_datetime(new.date),
            "cause": new.cause.value if new.cause else None,
            "error_message": new.error_message,
            "exit_code": new.exit_code,
            "block_number": new.block_number,
            "tx_hash": new.tx_hash,
            "result_link": new.result_link,
            "tee_session_error": new.tee_session_error,
            "exit_causes": [{"cause": c, "message": m} for c, m in new.exit_causes] if new.exit_causes else None,
        },
    )
    if accepted.logs is not None:
        present = await conn.scalar(_LOGS_OF, {"b_task": task_id, "b_wallet": wallet})
        if present is None:
            await conn.execute(
                insert(task_logs).values(
                    task_id=task_id,
                    wallet=wallet,
                    stdout=accepted.logs[0],
                    stderr=accepted.logs[1],
                    tee_stages=accepted.logs[2],
                    created_at=to_datetime(new.date),
                )
            )
    if accepted.leave_task:
        await conn.execute(_LEAVE_TASK, {"b_wallet": wallet, "b_task": task_id})
    elif accepted.free_computing_slot:
        await conn.execute(_FREE_SLOT, {"b_wallet": wallet, "b_task": task_id})
    return replicate_id, relevant
