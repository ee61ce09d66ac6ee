"""The task as the chain describes it: deal, app, dataset, category, params (spec/worker.md §9.2).

Deal, app, dataset and category never change once the deal exists, so a description is read once
per replicate; the on-chain task (status, deadlines, contributors) changes and is always read fresh.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from ..chain.aio import chain_read
from ..chain.base import AppInfo, Chain, ChainError, DatasetInfo, Deal
from ..protocol.crypto import ZERO_ADDRESS
from ..protocol.params import DealParams
from ..protocol.tags import is_tee
from ..protocol.time import Category, task_deadlines

READ_ATTEMPTS = 5
READ_PAUSE = 1.0  # s between attempts ("one block time" in the reference)


class DescriptionUnavailable(Exception):
    """The deal, app or category could not be read from the chain."""


@dataclass(frozen=True)
class TaskDescription:
    chain_task_id: str
    task_index: int
    deal: Deal
    app: AppInfo
    dataset: DatasetInfo | None
    category: Category
    params: DealParams
    network: bool  # pocopool deal param "pocopool_network": the app may use the network

    @property
    def is_tee(self) -> bool:
        return is_tee(self.deal.tag)

    @property
    def has_callback(self) -> bool:
        return self.deal.has_callback

    @property
    def dataset_address(self) -> str:
        return self.dataset.address if self.dataset is not None else ZERO_ADDRESS

    @property
    def max_execution_time(self) -> int:
        """Seconds an app may run: the category's work-clock time reference."""
        return self.category.work_clock_time_ref

    @property
    def final_deadline(self) -> int:
        return task_deadlines(self.deal.start_time, self.category.work_clock_time_ref).final

    @property
    def contribution_deadline(self) -> int:
        return task_deadlines(self.deal.start_time, self.category.work_clock_time_ref).contribution


def _network_param(params: str) -> bool:
    try:
        data = json.loads(params) if params else {}
    except json.JSONDecodeError:
        return False
    return isinstance(data, dict) and data.get("pocopool_network") is True


def read_description(chain: Chain, chain_task_id: str, deal_id: str, task_index: int) -> TaskDescription:
    """Blocking read (call it through chain_read). Raises DescriptionUnavailable."""
    try:
        deal = chain.view_deal(deal_id)
        if deal is None:
            raise DescriptionUnavailable(f"deal {deal_id} not found on chain")
        app = chain.view_app(deal.app.pointer)
        if app is None:
            raise DescriptionUnavailable(f"app {deal.app.pointer} not found on chain")
        dataset = None
        if deal.has_dataset:
            dataset = chain.view_dataset(deal.dataset.pointer)
            if dataset is None:
                raise DescriptionUnavailable(f"dataset {deal.dataset.pointer} not found on chain")
        category = chain.view_category(deal.category)
    except ChainError as error:
        raise DescriptionUnavailable(f"chain read failed: {error}") from error
    return TaskDescription(
        chain_task_id=chain_task_id,
        task_index=task_index,
        deal=deal,
        app=app,
        dataset=dataset,
        category=category,
        params=DealParams.parse(deal.params),
        network=_network_param(deal.params),
    )


async def load_description(chain: Chain, chain_task_id: str, deal_id: str, task_index: int) -> TaskDescription:
    """read_description with retries (5 attempts, 1 s apart), off the event loop."""
    error: Exception | None = None
    for attempt in range(READ_ATTEMPTS):
        try:
            return await chain_read(chain, read_description, chain, chain_task_id, deal_id, task_index)
        except DescriptionUnavailable as failure:
            error = failure
        except Exception as failure:  # noqa: BLE001 - a backend bug reads as "unavailable", with its text
            error = DescriptionUnavailable(f"{type(failure).__name__}: {failure}")
        if attempt + 1 < READ_ATTEMPTS:
            await asyncio.sleep(READ_PAUSE)
    assert error is not None
    raise error if isinstance(error, DescriptionUnavailable) else DescriptionUnavailable(str(error))
