"""A small PoCo world for the conformance suite: funded actors, registered assets, and the steps of
a task life written once (deal, initialize, signed contribution, reveal), over any Chain backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from pocopool.chain import KITTY_ADDRESS, Chain, ChainRevert, Deal, DealRequest, Receipt
from pocopool.protocol import crypto
from pocopool.protocol.crypto import ZERO_ADDRESS, ZERO_BYTES32

# The spec lives beside the repository (/work/shared/spec next to /work/main, DESIGN.md): one copy.
VECTORS_PATH = Path(__file__).resolve().parents[1] / "data" / "vectors.json"
VECTORS = json.loads(VECTORS_PATH.read_text())

KEYS = {
    "owner": "0x" + "01" * 32,
    "scheduler": "0x" + "a1" * 32,  # vectors.json keys.scheduler
    "requester": "0x" + "c3" * 32,  # vectors.json keys.requester
    "app_owner": "0x" + "0a" * 32,
    "dataset_owner": "0x" + "0d" * 32,
    "stranger": "0x" + "5e" * 32,
}
WORKER_KEYS = ["0x" + "b2" * 32] + [f"0x{0xB0B0 + i:064x}" for i in range(1, 8)]  # first = vectors.json worker

START_TIME = 1_000_000  # vectors.json deadlines.dealStartTime
XS = 0  # category id of XS: time ref 300 s
WORKERPOOL_PRICE = 1_000_000_000  # vectors.json rewards.workerpoolPrice
WORKER_STAKE = 300_000_000  # 30 % of it
SCHEDULER_STAKE = 300_000_000  # WORKERPOOL_STAKE_RATIO 30 % of it
APP_PRICE = 200_000_000
DATASET_PRICE = 100_000_000
FUNDS = 100_000_000_000  # minted to every actor
CHECKSUM = "0x" + "ab" * 32


def key_of(account: LocalAccount) -> str:
    return crypto.key_hex(account)


def digest_of(label: str) -> str:
    """A result digest standing for a named result ("good", "bad", ...)."""
    return crypto.keccak_hex(label.encode())


@dataclass
class World:
    chain: Chain
    advance: Callable[[int], None]  # moves chain time forward by whole seconds
    set_score: Callable[[str, int], None]
    owner: LocalAccount = field(default_factory=lambda: Account.from_key(KEYS["owner"]))
    scheduler: LocalAccount = field(default_factory=lambda: Account.from_key(KEYS["scheduler"]))
    requester: LocalAccount = field(default_factory=lambda: Account.from_key(KEYS["requester"]))
    app_owner: LocalAccount = field(default_factory=lambda: Account.from_key(KEYS["app_owner"]))
    dataset_owner: LocalAccount = field(default_factory=lambda: Account.from_key(KEYS["dataset_owner"]))
    stranger: LocalAccount = field(default_factory=lambda: Account.from_key(KEYS["stranger"]))
    workers: list[LocalAccount] = field(default_factory=lambda: [Account.from_key(k) for k in WORKER_KEYS])
    app: str = ZERO_ADDRESS
    tee_app: str = ZERO_ADDRESS
    dataset: str = ZERO_ADDRESS
    workerpool: str = ZERO_ADDRESS

    def setup(self) -> World:
        for account in (self.scheduler, self.requester, *self.workers):
            self.chain.mint(self.owner, account.address, FUNDS)
        self.app = self.chain.create_app(
            self.app_owner, "echo", "http://files/echo.tar.gz", CHECKSUM, price=APP_PRICE
        ).return_value
        self.tee_app = self.chain.create_app(
            self.app_owner,
            "echo-tee",
            "http://files/echo.tar.gz",
            CHECKSUM,
            mrenclave='{"framework":"SCONE"}',
            price=APP_PRICE,
        ).return_value
        self.dataset = self.chain.create_dataset(
            self.dataset_owner, "data", "http://files/data", CHECKSUM, price=DATASET_PRICE
        ).return_value
        self.workerpool = self.chain.create_workerpool(self.scheduler, "pool", price=WORKERPOOL_PRICE).return_value
        return self

    # ----- steps --------------------------------------------------------------------------------------
    def request(self, **overrides: object) -> DealRequest:
        fields: dict[str, object] = {"app": self.app, "workerpool": self.workerpool, "category": XS}
        fields.update(overrides)
        return DealRequest(**fields)  # type: ignore[arg-type]

    def deal(self, **overrides: object) -> Deal:
        deal_id = self.chain.create_deal(self.requester, self.request(**overrides)).return_value
        deal = self.chain.view_deal(deal_id)
        assert deal is not None
        return deal

    def task(self, **overrides: object) -> str:
        """A deal of one task, initialized by the scheduler: its task id."""
        deal = self.deal(**overrides)
        return self.chain.initialize(self.scheduler, deal.deal_id, 0).return_value

    def authorization(
        self, worker: LocalAccount, task_id: str, challenge: str = ZERO_ADDRESS, signer: LocalAccount | None = None
    ) -> str:
        return crypto.sign_authorization(key_of(signer or self.scheduler), worker.address, task_id, challenge)

    def contribute(self, worker: LocalAccount, task_id: str, result: str = "good", **kwargs: str) -> Receipt:
        digest = digest_of(result)
        return self.chain.contribute(
            worker,
            task_id,
            kwargs.get("result_hash", crypto.result_hash(task_id, digest)),
            kwargs.get("result_seal", crypto.result_seal(worker.address, task_id, digest)),
            kwargs.get("enclave_challenge", ZERO_ADDRESS),
            kwargs.get("enclave_sign", ""),
            kwargs.get("authorization_sign", self.authorization(worker, task_id)),
        )

    def reveal(self, worker: LocalAccount, task_id: str, result: str = "good") -> Receipt:
        return self.chain.reveal(worker, task_id, digest_of(result))

    def contribute_and_finalize(
        self, worker: LocalAccount, task_id: str, result: str = "good", **kwargs: object
    ) -> Receipt:
        return self.chain.contribute_and_finalize(
            worker,
            task_id,
            digest_of(result),
            kwargs.get("results", b"results"),  # type: ignore[arg-type]
            kwargs.get("results_callback", b""),  # type: ignore[arg-type]
            kwargs.get("enclave_challenge", ZERO_ADDRESS),  # type: ignore[arg-type]
            kwargs.get("enclave_sign", ""),  # type: ignore[arg-type]
            kwargs.get("authorization_sign", self.authorization(worker, task_id)),  # type: ignore[arg-type]
        )

    def reach_consensus(self, task_id: str, workers: Iterable[LocalAccount], result: str = "good") -> None:
        for worker in workers:
            self.contribute(worker, task_id, result)

    def advance_to(self, timestamp: int) -> None:
        self.advance(timestamp - self.chain.now())

    # ----- observations -------------------------------------------------------------------------------
    def actors(self) -> list[str]:
        people = (
            self.owner,
            self.scheduler,
            self.requester,
            self.app_owner,
            self.dataset_owner,
            self.stranger,
            *self.workers,
        )
        return [p.address for p in people] + [KITTY_ADDRESS]

    def balance(self, account: LocalAccount | str) -> int:
        return self.chain.view_account(account if isinstance(account, str) else account.address).balance

    def frozen(self, account: LocalAccount | str) -> int:
        return self.chain.view_account(account if isinstance(account, str) else account.address).frozen

    def check_invariants(self) -> None:
        """poco.md §2: totalSupply == Σ balances, and the escrow holds exactly Σ frozen."""
        accounts = [self.chain.view_account(a) for a in self.actors()]
        escrow = self.chain.view_account(self.chain.escrow_address())
        assert self.chain.total_supply() == sum(a.balance for a in accounts) + escrow.balance
        assert escrow.balance == sum(a.frozen for a in accounts)
        assert escrow.frozen == 0


def assert_reverts(rule: str, chain: Chain, action: Callable[[], object]) -> ChainRevert:
    """The action reverts with `rule` and leaves the ledger exactly as it was (no block, no event)."""
    before = chain.latest_block()
    with pytest.raises(ChainRevert) as raised:
        action()
    assert raised.value.rule == rule, f"expected {rule}, got {raised.value.rule}: {raised.value.message}"
    assert raised.value.message and raised.value.message != rule, "a revert says what it expected and found"
    assert chain.latest_block() == before
    return raised.value


def event_names(receipt: Receipt) -> list[str]:
    return [event.name for event in receipt.events]


ZERO32 = ZERO_BYTES32
