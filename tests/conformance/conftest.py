"""Fixtures of the Chain conformance suite.

Every test runs once per backend in BACKENDS. A backend provides three things: a fresh ledger owned
by KEYS["owner"] whose time starts at START_TIME, a way to move its time forward, and a way to set a
worker score (the contract has no such function: each backend does it its own way). To add
EvmChain, add "evm" to BACKENDS and a branch to each of the three fixtures below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from eth_account import Account
from poco_world import KEYS, START_TIME, World

from pocopool.chain import Chain, LocalChain
from pocopool.protocol.time import VirtualClock

BACKENDS = ["local"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START_TIME)


@pytest.fixture
def chain(backend: str, tmp_path, clock: VirtualClock) -> Iterator[Chain]:
    """A fresh ledger with the five standard categories and nothing else."""
    assert backend == "local"
    ledger = LocalChain.create(tmp_path / "chain.db", Account.from_key(KEYS["owner"]).address, clock=clock)
    yield ledger
    ledger.close()


@pytest.fixture
def advance(backend: str, clock: VirtualClock) -> Callable[[int], None]:
    assert backend == "local"
    return lambda seconds: clock.advance(seconds)


@pytest.fixture
def set_score(backend: str, chain: Chain) -> Callable[[str, int], None]:
    assert backend == "local" and isinstance(chain, LocalChain)
    return chain._set_score_for_tests


@pytest.fixture
def world(chain: Chain, advance: Callable[[int], None], set_score: Callable[[str, int], None]) -> Iterator[World]:
    """Funded actors and registered assets; the money invariants are checked after every test."""
    world = World(chain, advance, set_score).setup()
    yield world
    world.check_invariants()
