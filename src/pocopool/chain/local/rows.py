"""Rows of the ledger tables ↔ the dataclasses of chain/base.py, and event arguments ↔ JSON.

Each record has one column list, one SELECT by primary key, one writer: reads of LocalChain and
writes inside a transaction share them, so a column is named in exactly one place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ...protocol.statuses import ChainContributionStatus, ChainTaskStatus
from ...protocol.time import Category
from ..base import AppInfo, ChainTask, Contribution, DatasetInfo, Deal, Resource, WorkerpoolInfo

Row = Sequence[Any]


def select_sql(table: str, columns: Sequence[str], key: str) -> str:
    return f"SELECT {', '.join(columns)} FROM {table} WHERE {key}"


def replace_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


# ----- categories ---------------------------------------------------------------------------------
CATEGORY_COLUMNS = ("id", "name", "description", "work_clock_time_ref")
SELECT_CATEGORY = select_sql("categories", CATEGORY_COLUMNS, "id = ?")
INSERT_CATEGORY = replace_sql("categories", CATEGORY_COLUMNS)


def category_from_row(row: Row) -> Category:
    return Category(id=row[0], name=row[1], description=row[2], work_clock_time_ref=row[3])


def category_to_row(category: Category) -> tuple[Any, ...]:
    return (category.id, category.name, category.description, category.work_clock_time_ref)


# ----- assets -------------------------------------------------------------------------------------
APP_COLUMNS = ("address", "owner", "name", "app_type", "multiaddr", "checksum", "mrenclave", "price")
SELECT_APP = select_sql("apps", APP_COLUMNS, "address = ?")
INSERT_APP = replace_sql("apps", APP_COLUMNS)


def app_from_row(row: Row) -> AppInfo:
    address, owner, name, app_type, multiaddr, checksum, mrenclave, price = row
    return AppInfo(address, owner, name, app_type, multiaddr, checksum, mrenclave, int(price))


def app_to_row(app: AppInfo) -> tuple[Any, ...]:
    return (app.address, app.owner, app.name, app.app_type, app.multiaddr, app.checksum, app.mrenclave, str(app.price))


DATASET_COLUMNS = ("address", "owner", "name", "multiaddr", "checksum", "price")
SELECT_DATASET = select_sql("datasets", DATASET_COLUMNS, "address = ?")
INSERT_DATASET = replace_sql("datasets", DATASET_COLUMNS)


def dataset_from_row(row: Row) -> DatasetInfo:
    address, owner, name, multiaddr, checksum, price = row
    return DatasetInfo(address, owner, name, multiaddr, checksum, int(price))


def dataset_to_row(dataset: DatasetInfo) -> tuple[Any, ...]:
    return (dataset.address, dataset.owner, dataset.name, dataset.multiaddr, dataset.checksum, str(dataset.price))


WORKERPOOL_COLUMNS = ("address", "owner", "description", "worker_stake_ratio", "scheduler_reward_ratio", "price")
SELECT_WORKERPOOL = select_sql("workerpools", WORKERPOOL_COLUMNS, "address = ?")
INSERT_WORKERPOOL = replace_sql("workerpools", WORKERPOOL_COLUMNS)


def workerpool_from_row(row: Row) -> WorkerpoolInfo:
    return WorkerpoolInfo(
        address=row[0],
        owner=row[1],
        description=row[2],
        worker_stake_ratio=int(row[3]),
        scheduler_reward_ratio=row[4],
        price=int(row[5]),
    )


def workerpool_to_row(pool: WorkerpoolInfo) -> tuple[Any, ...]:
    return (
        pool.address,
        pool.owner,
        pool.description,
        str(pool.worker_stake_ratio),
        pool.scheduler_reward_ratio,
        str(pool.price),
    )


# ----- deals --------------------------------------------------------------------------------------
DEAL_COLUMNS = (
    "deal_id",
    "app",
    "app_owner",
    "app_price",
    "dataset",
    "dataset_owner",
    "dataset_price",
    "workerpool",
    "workerpool_owner",
    "workerpool_price",
    "trust",
    "category",
    "tag",
    "requester",
    "beneficiary",
    "callback",
    "params",
    "start_time",
    "bot_first",
    "bot_size",
    "worker_stake",
    "scheduler_reward_ratio",
    "sponsor",
)
SELECT_DEAL = select_sql("deals", DEAL_COLUMNS, "deal_id = ?")
INSERT_DEAL = replace_sql("deals", DEAL_COLUMNS)


def _resource(row: Row, at: int) -> Resource:
    return Resource(pointer=row[at], owner=row[at + 1], price=int(row[at + 2]))


def _resource_row(resource: Resource) -> tuple[str, str, str]:
    return (resource.pointer, resource.owner, str(resource.price))


def deal_from_row(row: Row) -> Deal:
    return Deal(
        deal_id=row[0],
        app=_resource(row, 1),
        dataset=_resource(row, 4),
        workerpool=_resource(row, 7),
        trust=int(row[10]),
        category=row[11],
        tag=row[12],
        requester=row[13],
        beneficiary=row[14],
        callback=row[15],
        params=row[16],
        start_time=row[17],
        bot_first=int(row[18]),
        bot_size=int(row[19]),
        worker_stake=int(row[20]),
        scheduler_reward_ratio=row[21],
        sponsor=row[22],
    )


def deal_to_row(deal: Deal) -> tuple[Any, ...]:
    return (
        deal.deal_id,
        *_resource_row(deal.app),
        *_resource_row(deal.dataset),
        *_resource_row(deal.workerpool),
        str(deal.trust),
        deal.category,
        deal.tag,
        deal.requester,
        deal.beneficiary,
        deal.callback,
        deal.params,
        deal.start_time,
        str(deal.bot_first),
        str(deal.bot_size),
        str(deal.worker_stake),
        deal.scheduler_reward_ratio,
        deal.sponsor,
    )


# ----- tasks --------------------------------------------------------------------------------------
TASK_COLUMNS = (
    "task_id",
    "status",
    "deal_id",
    "idx",
    "timeref",
    "contribution_deadline",
    "reveal_deadline",
    "final_deadline",
    "consensus_value",
    "reveal_counter",
    "winner_counter",
    "contributors",
    "result_digest",
    "results",
    "results_callback",
)
SELECT_TASK = select_sql("tasks", TASK_COLUMNS, "task_id = ?")
INSERT_TASK = replace_sql("tasks", TASK_COLUMNS)


def task_from_row(row: Row) -> ChainTask:
    return ChainTask(
        task_id=row[0],
        status=ChainTaskStatus(row[1]),
        deal_id=row[2],
        idx=int(row[3]),
        timeref=row[4],
        contribution_deadline=row[5],
        reveal_deadline=row[6],
        final_deadline=row[7],
        consensus_value=row[8],
        reveal_counter=row[9],
        winner_counter=row[10],
        contributors=tuple(row[11].split(",")) if row[11] else (),
        result_digest=row[12],
        results=bytes(row[13]),
        results_callback=bytes(row[14]),
    )


def task_to_row(task: ChainTask) -> tuple[Any, ...]:
    return (
        task.task_id,
        task.status.value,
        task.deal_id,
        str(task.idx),
        task.timeref,
        task.contribution_deadline,
        task.reveal_deadline,
        task.final_deadline,
        task.consensus_value,
        task.reveal_counter,
        task.winner_counter,
        ",".join(task.contributors),
        task.result_digest,
        task.results,
        task.results_callback,
    )


# ----- contributions ------------------------------------------------------------------------------
CONTRIBUTION_COLUMNS = ("status", "result_hash", "result_seal", "enclave_challenge", "weight")
SELECT_CONTRIBUTION = select_sql("contributions", CONTRIBUTION_COLUMNS, "task_id = ? AND worker = ?")
INSERT_CONTRIBUTION = replace_sql("contributions", ("task_id", "worker", *CONTRIBUTION_COLUMNS))


def contribution_from_row(row: Row) -> Contribution:
    return Contribution(
        status=ChainContributionStatus(row[0]),
        result_hash=row[1],
        result_seal=row[2],
        enclave_challenge=row[3],
        weight=row[4],
    )


def contribution_to_row(task_id: str, worker: str, contribution: Contribution) -> tuple[Any, ...]:
    return (
        task_id,
        worker,
        contribution.status.value,
        contribution.result_hash,
        contribution.result_seal,
        contribution.enclave_challenge,
        contribution.weight,
    )


# ----- event arguments ----------------------------------------------------------------------------
# JSON keeps Python ints exact at any size; bytes (TaskFinalize.results) are tagged so they come back
# as bytes, and a receipt's events equal the same events read back with `events()`.
_BYTES_TAG = "$bytes"


def _encode_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES_TAG: value.hex()}
    raise TypeError(f"event argument of type {type(value).__name__} cannot be stored")


def _decode_object(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _BYTES_TAG in obj:
        return bytes.fromhex(obj[_BYTES_TAG])
    return obj


def encode_args(args: dict[str, Any]) -> str:
    return json.dumps(args, default=_encode_value, separators=(",", ":"))


def decode_args(text: str) -> dict[str, Any]:
    return json.loads(text, object_hook=_decode_object)
