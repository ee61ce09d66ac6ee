"""Fixtures of the Chain conformance suite.

Every test runs once per backend in BACKENDS. A backend provides three things: a fresh ledger owned
by KEYS["owner"] whose time starts at START_TIME, a way to move its time forward, and a way to set a
worker score (the contract has no such function: each backend does it its own way).

- "local": LocalChain over a new SQLite file, on a virtual clock.
- "evm": EvmChain on the built-in node (py-evm, `python -m pocopool.devnet.evmnode`), marked `evm`.
- "hardhat": EvmChain on Hardhat Network installed from the npm registry into tools/hardhat, marked
  `evm` and `hardhat`; skipped with the reason when node/npm cannot install or run it.

Each EVM backend starts its node once per session (genesis just before START_TIME), deploys the
contract's test build in a block stamped START_TIME, and snapshots the node there; every test starts
from that snapshot (evm_revert), so it sees a fresh ledger at block 0, at START_TIME. The EvmChain
stamps each block with the test's virtual clock (evm_setNextBlockTimestamp). Scores are set with the
test build's owner-only `setScoreForTests` hook (one transaction, so one block).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from eth_account import Account

from poco_world import KEYS, START_TIME, World
from pocopool.chain import Chain, LocalChain
from pocopool.protocol.time import VirtualClock

BACKENDS = [
    "local",
    pytest.param("evm", marks=pytest.mark.evm),
    pytest.param("hardhat", marks=[pytest.mark.evm, pytest.mark.hardhat]),
]


class _EvmLedger:
    """A node process with the contract deployed at START_TIME and a snapshot to return to."""

    def __init__(self, kind: str, tmp_dir) -> None:
        from pocopool.chain.evm import deploy
        from pocopool.devnet.evm_nodes import NodeUnavailable, start_builtin_node, start_hardhat_node

        start = start_builtin_node if kind == "evm" else start_hardhat_node
        if kind in _unavailable:
            pytest.skip(_unavailable[kind])
        try:
            self.node = start(genesis_time=START_TIME - 1_000, log=tmp_dir / f"{kind}-node.log")
        except NodeUnavailable as unavailable:
            _unavailable[kind] = f"the {kind} node is not available here: {unavailable}"  # asked once per session
            pytest.skip(_unavailable[kind])
        from pocopool.chain.evm import Rpc

        self.rpc = Rpc(self.node.url)
        self.ledger = deploy(self.node.url, KEYS["owner"], test_build=True, timestamp=START_TIME)
        self.snapshot = self.rpc.call("evm_snapshot")
        self.world_snapshot: str | None = None  # the same ledger after World.setup(), taken once
        self.world_assets: dict[str, str] = {}

    def fresh(self, with_world: bool) -> bool:
        """Back to the ledger after World.setup() (True) if asked and still known, else to the bare one."""
        if with_world and self.world_snapshot is not None:
            self.world_snapshot = self._back_to(self.world_snapshot)
            return True
        self.snapshot = self._back_to(self.snapshot)
        self.world_snapshot = None  # hardhat forgets the snapshots taken after the one it returns to
        return False

    def _back_to(self, snapshot: str) -> str:
        assert self.rpc.call("evm_revert", snapshot) is True
        return self.rpc.call("evm_snapshot")  # hardhat's snapshots are used up by a revert

    def world(self, world: World, restored: bool) -> World:
        """World.setup() once, then the snapshot after it: the same ledger in less time. Setup runs at
        START_TIME with no time advance, so both paths give the same state."""
        if not restored:
            world.setup()
            self.world_assets = {name: getattr(world, name) for name in ("app", "tee_app", "dataset", "workerpool")}
            self.world_snapshot = self.rpc.call("evm_snapshot")
            return world
        for name, value in self.world_assets.items():
            setattr(world, name, value)
        return world


_ledgers: dict[str, _EvmLedger] = {}
_unavailable: dict[str, str] = {}  # kind → why it cannot run here


@pytest.fixture(scope="session")
def evm_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, _EvmLedger]]:
    yield _ledgers
    for ledger in _ledgers.values():
        ledger.node.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START_TIME)


@pytest.fixture
def chain(backend: str, tmp_path, clock: VirtualClock, request: pytest.FixtureRequest) -> Iterator[Chain]:
    """A fresh ledger with the five standard categories and nothing else."""
    if backend == "local":
        ledger = LocalChain.create(tmp_path / "chain.db", Account.from_key(KEYS["owner"]).address, clock=clock)
    else:
        from pocopool.chain.evm import EvmChain

        nodes = request.getfixturevalue("evm_nodes")
        if backend not in nodes:
            nodes[backend] = _EvmLedger(backend, request.getfixturevalue("tmp_path_factory").mktemp(backend))
        evm = nodes[backend]
        request.node.world_restored = evm.fresh(with_world="world" in request.fixturenames)
        ledger = EvmChain(evm.node.url, evm.ledger, clock, control_time=True, test_build=True)
    yield ledger
    ledger.close()


@pytest.fixture
def advance(backend: str, clock: VirtualClock) -> Callable[[int], None]:
    return lambda seconds: clock.advance(seconds)


@pytest.fixture
def set_score(backend: str, chain: Chain) -> Callable[[str, int], None]:
    if isinstance(chain, LocalChain):
        return chain._set_score_for_tests
    owner = Account.from_key(KEYS["owner"])
    return lambda worker, score: chain._set_score_for_tests(owner, worker, score)  # type: ignore[attr-defined]


@pytest.fixture
def world(
    backend: str,
    chain: Chain,
    advance: Callable[[int], None],
    set_score: Callable[[str, int], None],
    request: pytest.FixtureRequest,
) -> Iterator[World]:
    """Funded actors and registered assets; the money invariants are checked after every test."""
    world = World(chain, advance, set_score)
    world = (
        world.setup()
        if backend == "local"
        else request.getfixturevalue("evm_nodes")[backend].world(world, request.node.world_restored)
    )
    yield world
    world.check_invariants()
