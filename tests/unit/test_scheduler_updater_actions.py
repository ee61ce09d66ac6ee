"""The updater performs exactly the action a transition announces, and refuses one it does not know."""

from __future__ import annotations

from enum import Enum
from types import SimpleNamespace
from typing import Any

import pytest

from pocopool.protocol.statuses import TaskStatus as TS
from pocopool.scheduler.engine import ChainAction
from pocopool.scheduler.state import TaskState
from pocopool.scheduler.updater import TaskUpdater
from pocopool.scheduler.wakeups import Wakeups


class RecordingChain:
    """Answers every transaction with a receipt and remembers which one was sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def _receipt(self, name: str) -> Any:
        self.sent.append(name)
        return SimpleNamespace(block_number=7, tx_hash="0x" + "cd" * 32)

    def initialize(self, *_: Any) -> Any:
        return self._receipt("initialize")

    def reopen(self, *_: Any) -> Any:
        return self._receipt("reopen")

    def finalize(self, *_: Any) -> Any:
        return self._receipt("finalize")


class Unknown(str, Enum):
    BURN = "burn"


TASK = TaskState(
    chain_task_id="0x" + "11" * 32,
    deal_id="0x" + "22" * 32,
    task_index=0,
    status=TS.RECEIVED,
    status_date=0.0,
    trust=1,
    tag="0x" + "00" * 32,
    max_execution_time=100,
    contribution_deadline=700.0,
    final_deadline=1000.0,
    deal_block=3,
)


def updater(chain: RecordingChain) -> TaskUpdater:
    return TaskUpdater(store=None, chain=chain, clock=None, signer=None, wakeups=Wakeups())  # type: ignore[arg-type]


@pytest.mark.parametrize("action", list(ChainAction))
async def test_each_chain_action_sends_its_own_transaction(action: ChainAction) -> None:
    chain = RecordingChain()
    outcome = await updater(chain).perform(TASK, action)
    assert chain.sent == [action.value]
    assert outcome.action is action and outcome.mined


async def test_an_unknown_action_fails_loudly_and_sends_nothing() -> None:
    chain = RecordingChain()
    with pytest.raises(AssertionError, match="burn"):
        await updater(chain).perform(TASK, Unknown.BURN)  # type: ignore[arg-type]
    assert chain.sent == []
