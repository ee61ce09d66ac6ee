"""LocalChain's consensus bookkeeping against vectors.json: groups and total after every vote (poco.md §8.2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from pocopool.chain import DealRequest, LocalChain
from pocopool.protocol import crypto
from pocopool.protocol.time import VirtualClock

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "data" / "vectors.json").read_text())
OWNER = Account.from_key("0x" + "01" * 32)
SCHEDULER = Account.from_key("0x" + "a1" * 32)
REQUESTER = Account.from_key("0x" + "c3" * 32)
WORKERS = [Account.from_key(f"0x{0xC0DE + i:064x}") for i in range(8)]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(1_000_000)


@pytest.fixture
def chain(tmp_path, clock):
    ledger = LocalChain.create(tmp_path / "chain.db", OWNER.address, clock=clock)
    yield ledger
    ledger.close()


def new_task(chain: LocalChain, trust: int) -> str:
    """A free deal (prices 0, so no stakes) of one initialized task."""
    app = chain.create_app(OWNER, "app", "http://x", "0x" + "00" * 32).return_value
    pool = chain.create_workerpool(SCHEDULER, "pool").return_value
    deal_id = chain.create_deal(REQUESTER, DealRequest(app=app, workerpool=pool, category=0, trust=trust)).return_value
    return chain.initialize(SCHEDULER, deal_id, 0).return_value


def vote(chain: LocalChain, worker, task_id: str, result: str) -> None:
    digest = crypto.keccak_hex(result.encode())
    auth = crypto.sign_authorization(crypto.key_hex(SCHEDULER), worker.address, task_id)
    chain.contribute(
        worker,
        task_id,
        crypto.result_hash(task_id, digest),
        crypto.result_seal(worker.address, task_id, digest),
        crypto.ZERO_ADDRESS,
        "",
        auth,
    )


def group_of(task_id: str, result: str) -> str:
    return crypto.result_hash(task_id, crypto.keccak_hex(result.encode()))


def test_an_initialized_task_has_total_1(chain):
    task_id = new_task(chain, 3)
    assert chain._consensus_for_tests(task_id) == ({}, 1)


@pytest.mark.parametrize("case", VECTORS["consensus"], ids=lambda c: f"trust{c['trust']}-{len(c['votes'])}votes")
def test_groups_and_total_match_the_vectors(chain, case):
    task_id = new_task(chain, case["trust"])
    for worker, ballot in zip(WORKERS, case["votes"], strict=False):
        chain._set_score_for_tests(worker.address, ballot["score"])
        vote(chain, worker, task_id, ballot["result"])
    groups, total = chain._consensus_for_tests(task_id)
    expected = case["expected"]
    assert total == expected["total"]
    if expected["reachedAtVote"] is None:
        assert groups == {group_of(task_id, result): weight for result, weight in expected["groups"].items()}
    else:
        assert groups[group_of(task_id, expected["consensus"])] == expected["group"]


def test_reopen_takes_the_abandoned_group_out_of_the_total(chain, clock):
    task_id = new_task(chain, 3)
    vote(chain, WORKERS[0], task_id, "bad")
    vote(chain, WORKERS[1], task_id, "good")
    vote(chain, WORKERS[2], task_id, "good")
    vote(chain, WORKERS[3], task_id, "good")
    assert chain._consensus_for_tests(task_id)[1] == 11
    clock.advance(chain.view_task(task_id).reveal_deadline - chain.now())
    chain.reopen(SCHEDULER, task_id)
    groups, total = chain._consensus_for_tests(task_id)
    assert groups[group_of(task_id, "good")] == 0
    assert total == 3  # 1 + the bad group's 2
