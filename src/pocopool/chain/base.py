"""The Chain interface: what every part of pocopool may ask of the PoCo ledger (DESIGN §4).

Reads return plain frozen dataclasses; transactions return a Receipt or raise ChainRevert naming
the rule they broke. Both LocalChain and (later) EvmChain implement this and pass one conformance
suite. Amounts are integers in nRLC; times are whole seconds of chain time.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from ..protocol.crypto import ZERO_ADDRESS, ZERO_BYTES32
from ..protocol.crypto import task_id as compute_task_id
from ..protocol.keys import Wallet
from ..protocol.statuses import ChainContributionStatus, ChainTaskStatus
from ..protocol.time import Category

Signer = Wallet

# KITTY_ADDRESS = (first 20 bytes of keccak("iExecKitty")) - 1 (poco.md §1)
KITTY_ADDRESS = "0x99c2268479b93fDe36232351229815DF80837e23"
WORKERPOOL_STAKE_RATIO = 30
KITTY_RATIO = 10
KITTY_MIN = 1_000_000_000
DEFAULT_WORKER_STAKE_RATIO = 30
DEFAULT_SCHEDULER_REWARD_RATIO = 1


class ChainError(Exception):
    """The chain could not be reached or answered something unreadable."""


class OutOfGas(ChainError):
    """The chain refused a transaction because its sender cannot pay for the gas: nothing changed."""


class ChainRevert(ChainError):
    """A transaction broke a protocol rule and changed nothing.

    `rule` is a stable kebab-case name (see chain/errors.py) shared by every backend.
    """

    def __init__(self, rule: str, message: str = "") -> None:
        self.rule = rule
        self.message = message or rule
        super().__init__(f"{rule}: {self.message}" if message else rule)


@dataclass(frozen=True)
class Block:
    number: int
    timestamp: int


@dataclass(frozen=True)
class Event:
    """One log entry: `name` is the event name of spec/poco.md §17, `args` its named fields."""

    block_number: int
    log_index: int
    tx_hash: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Receipt:
    block_number: int
    tx_hash: str
    timestamp: int
    events: tuple[Event, ...] = ()
    return_value: Any = None


@dataclass(frozen=True)
class AccountBalance:
    balance: int  # free ("stake" in viewAccount)
    frozen: int  # locked


@dataclass(frozen=True)
class GasBudget:
    """What a sender holds to pay for gas and what a unit of gas costs it, in wei (the chain's native
    currency, not RLC). `price` 0: transactions cost nothing on this chain, every sender can pay."""

    balance: int
    price: int

    def cost(self, gas: int) -> int:
        """What a transaction with this gas limit may cost."""
        return gas * self.price

    def can_pay(self, gas: int) -> bool:
        return self.balance >= self.cost(gas)


@dataclass(frozen=True)
class AppInfo:
    address: str
    owner: str
    name: str
    app_type: str
    multiaddr: str  # where to fetch the app (bundle URL)
    checksum: str  # bytes32: 0x + sha256 of the bundle
    mrenclave: str
    price: int


@dataclass(frozen=True)
class DatasetInfo:
    address: str
    owner: str
    name: str
    multiaddr: str
    checksum: str
    price: int


@dataclass(frozen=True)
class WorkerpoolInfo:
    address: str
    owner: str
    description: str
    worker_stake_ratio: int
    scheduler_reward_ratio: int
    price: int


@dataclass(frozen=True)
class Resource:
    pointer: str
    owner: str
    price: int


NO_RESOURCE = Resource(ZERO_ADDRESS, ZERO_ADDRESS, 0)


@dataclass(frozen=True)
class Deal:
    deal_id: str
    app: Resource
    dataset: Resource
    workerpool: Resource
    trust: int
    category: int
    tag: str
    requester: str
    beneficiary: str
    callback: str
    params: str
    start_time: int
    bot_first: int
    bot_size: int
    worker_stake: int
    scheduler_reward_ratio: int
    sponsor: str

    @property
    def has_dataset(self) -> bool:
        return self.dataset.pointer != ZERO_ADDRESS

    @property
    def has_callback(self) -> bool:
        return self.callback != ZERO_ADDRESS

    def task_index_range(self) -> range:
        return range(self.bot_first, self.bot_first + self.bot_size)

    def task_ids(self) -> list[str]:
        return [compute_task_id(self.deal_id, idx) for idx in self.task_index_range()]


@dataclass(frozen=True)
class ChainTask:
    task_id: str
    status: ChainTaskStatus
    deal_id: str = ZERO_BYTES32
    idx: int = 0
    timeref: int = 0
    contribution_deadline: int = 0
    reveal_deadline: int = 0
    final_deadline: int = 0
    consensus_value: str = ZERO_BYTES32
    reveal_counter: int = 0
    winner_counter: int = 0
    contributors: tuple[str, ...] = ()
    result_digest: str = ZERO_BYTES32
    results: bytes = b""
    results_callback: bytes = b""


@dataclass(frozen=True)
class Contribution:
    status: ChainContributionStatus = ChainContributionStatus.UNSET
    result_hash: str = ZERO_BYTES32
    result_seal: str = ZERO_BYTES32
    enclave_challenge: str = ZERO_ADDRESS
    weight: int = 0


@dataclass(frozen=True)
class DealRequest:
    """What a requester asks for when creating a deal directly (signed orders come later)."""

    app: str
    workerpool: str
    category: int
    dataset: str = ZERO_ADDRESS
    trust: int = 1
    tag: str = ZERO_BYTES32
    params: str = ""
    volume: int = 1
    beneficiary: str | None = None  # defaults to the requester
    callback: str = ZERO_ADDRESS
    # Highest prices the requester accepts; the asset's own price is charged.
    app_max_price: int | None = None
    dataset_max_price: int | None = None
    workerpool_max_price: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Chain(abc.ABC):
    """The PoCo ledger. Implementations must be safe to use from several threads and processes."""

    # True when a read is a local lookup that never waits (LocalChain: one statement on a WAL file):
    # async callers may then call reads inline instead of handing them to a thread.
    reads_never_wait: bool = False

    # ----- reads -------------------------------------------------------------------------------
    @abc.abstractmethod
    def chain_id(self) -> int: ...

    @abc.abstractmethod
    def owner(self) -> str:
        """The ledger owner: may create categories and mint devnet funds."""

    @abc.abstractmethod
    def latest_block(self) -> Block: ...

    @abc.abstractmethod
    def now(self) -> int:
        """Chain time in seconds: the time the next block would carry."""

    @abc.abstractmethod
    def view_account(self, address: str) -> AccountBalance: ...

    def total_supply(self) -> int:
        """All SRLC in existence: the sum of every free balance, the escrow's included (poco.md §2)."""
        raise NotImplementedError

    def escrow_address(self) -> str:
        """The ledger's own account (the PoCo proxy): its balance holds every frozen amount (poco.md §2)."""
        raise NotImplementedError

    @abc.abstractmethod
    def gas_budget(self, address: str) -> GasBudget:
        """`address`'s native balance and the price per unit of gas its transactions pay: what the
        worker's ETH check compares (spec/worker.md §2.1 step 5, §6.9 step 2)."""

    @abc.abstractmethod
    def view_score(self, worker: str) -> int: ...

    @abc.abstractmethod
    def category_count(self) -> int: ...

    @abc.abstractmethod
    def view_category(self, category_id: int) -> Category:
        """Raises ChainRevert('unknown-category') for an id that does not exist."""

    @abc.abstractmethod
    def view_app(self, address: str) -> AppInfo | None: ...

    @abc.abstractmethod
    def view_dataset(self, address: str) -> DatasetInfo | None: ...

    @abc.abstractmethod
    def view_workerpool(self, address: str) -> WorkerpoolInfo | None: ...

    @abc.abstractmethod
    def view_deal(self, deal_id: str) -> Deal | None: ...

    @abc.abstractmethod
    def view_task(self, task_id: str) -> ChainTask:
        """An unknown task reads as status UNSET, as on chain."""

    @abc.abstractmethod
    def view_contribution(self, task_id: str, worker: str) -> Contribution: ...

    @abc.abstractmethod
    def events(
        self, from_block: int, to_block: int | None = None, names: tuple[str, ...] = (), *, task_id: str | None = None
    ) -> list[Event]:
        """Events of blocks from_block..to_block (inclusive), in chain order; with `task_id`, only the
        events whose `taskid` (the first indexed argument of every task event) is that task."""

    # ----- transactions ------------------------------------------------------------------------
    @abc.abstractmethod
    def mint(self, sender: Signer, account: str, amount: int) -> Receipt:
        """Devnet faucet: the ledger owner credits free balance to an account."""

    @abc.abstractmethod
    def transfer(self, sender: Signer, to: str, amount: int) -> Receipt: ...

    @abc.abstractmethod
    def create_category(self, sender: Signer, name: str, description: str, work_clock_time_ref: int) -> Receipt:
        """Owner only. return_value: the new category id."""

    @abc.abstractmethod
    def create_app(
        self,
        sender: Signer,
        name: str,
        multiaddr: str,
        checksum: str,
        *,
        app_type: str = "BUNDLE",
        mrenclave: str = "",
        price: int = 0,
    ) -> Receipt:
        """return_value: the app address."""

    @abc.abstractmethod
    def create_dataset(self, sender: Signer, name: str, multiaddr: str, checksum: str, *, price: int = 0) -> Receipt:
        """return_value: the dataset address."""

    @abc.abstractmethod
    def create_workerpool(self, sender: Signer, description: str, *, price: int = 0) -> Receipt:
        """return_value: the workerpool address."""

    @abc.abstractmethod
    def change_workerpool_policy(
        self, sender: Signer, workerpool: str, worker_stake_ratio: int, scheduler_reward_ratio: int
    ) -> Receipt: ...

    @abc.abstractmethod
    def create_deal(self, sender: Signer, request: DealRequest) -> Receipt:
        """The sender pays (and is the requester). return_value: the deal id."""

    @abc.abstractmethod
    def initialize(self, sender: Signer, deal_id: str, idx: int) -> Receipt:
        """return_value: the task id."""

    @abc.abstractmethod
    def contribute(
        self,
        sender: Signer,
        task_id: str,
        result_hash: str,
        result_seal: str,
        enclave_challenge: str,
        enclave_sign: str,
        authorization_sign: str,
    ) -> Receipt: ...

    @abc.abstractmethod
    def reveal(self, sender: Signer, task_id: str, result_digest: str) -> Receipt: ...

    @abc.abstractmethod
    def reopen(self, sender: Signer, task_id: str) -> Receipt: ...

    @abc.abstractmethod
    def finalize(self, sender: Signer, task_id: str, results: bytes, results_callback: bytes = b"") -> Receipt: ...

    @abc.abstractmethod
    def contribute_and_finalize(
        self,
        sender: Signer,
        task_id: str,
        result_digest: str,
        results: bytes,
        results_callback: bytes,
        enclave_challenge: str,
        enclave_sign: str,
        authorization_sign: str,
    ) -> Receipt: ...

    @abc.abstractmethod
    def claim(self, sender: Signer, task_id: str) -> Receipt: ...

    @abc.abstractmethod
    def initialize_and_claim(self, sender: Signer, deal_id: str, idx: int) -> Receipt: ...

    def close(self) -> None:  # noqa: B027 - a hook: a chain with nothing to release keeps it
        """Release connections. Reads and transactions after close are not allowed."""
