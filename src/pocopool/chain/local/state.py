"""The ledger tables seen through one SQLite connection: reads, and the writes of one transaction.

`LedgerView` holds every read, each one indexed query; LocalChain's views and the rules share it.
`TxState` adds the writes of one `BEGIN IMMEDIATE` transaction. The PoCo rules (assets.py,
tasks.py) go through it and never touch SQL. Money only moves through the escrow primitives of
spec/poco.md §10.1, which check uint256 bounds and emit the token events, so balances and events
cannot disagree.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ...protocol.crypto import ZERO_ADDRESS
from ...protocol.statuses import ChainContributionStatus, ChainTaskStatus
from ...protocol.time import Category
from .. import errors as rule
from ..arguments import UINT256_MAX
from ..base import (
    WORKERPOOL_STAKE_RATIO,
    AccountBalance,
    AppInfo,
    ChainTask,
    Contribution,
    DatasetInfo,
    Deal,
    WorkerpoolInfo,
)
from ..reverts import revert
from . import rows

SQLITE_INT_MAX = 2**63 - 1


def scheduler_stake(workerpool_price: int) -> int:
    """What the scheduler locks per task: floor(price × 30 / 100), floored before × volume (§4.2)."""
    return workerpool_price * WORKERPOOL_STAKE_RATIO // 100


def task_price(deal: Deal) -> int:
    """What the payer locks per task and is refunded on claim (§10.2)."""
    return deal.app.price + deal.dataset.price + deal.workerpool.price


@dataclass
class LedgerView:
    connection: sqlite3.Connection

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.connection.execute(sql, params).fetchone()

    # ----- accounts ---------------------------------------------------------------------------------
    def account(self, address: str) -> AccountBalance:
        row = self._one("SELECT balance, frozen FROM accounts WHERE address = ?", (address,))
        return AccountBalance(int(row[0]), int(row[1])) if row else AccountBalance(0, 0)

    def score(self, worker: str) -> int:
        row = self._one("SELECT score FROM accounts WHERE address = ?", (worker,))
        return row[0] if row else 0

    def total_supply(self) -> int:
        return int(self._one("SELECT value FROM meta WHERE key = 'total_supply'")[0])

    # ----- categories and assets --------------------------------------------------------------------
    def category_count(self) -> int:
        return self._one("SELECT count(*) FROM categories")[0]

    def category(self, category_id: int) -> Category | None:
        if not 0 <= category_id <= SQLITE_INT_MAX:
            return None
        row = self._one(rows.SELECT_CATEGORY, (category_id,))
        return rows.category_from_row(row) if row else None

    def app(self, address: str) -> AppInfo | None:
        row = self._one(rows.SELECT_APP, (address,))
        return rows.app_from_row(row) if row else None

    def dataset(self, address: str) -> DatasetInfo | None:
        row = self._one(rows.SELECT_DATASET, (address,))
        return rows.dataset_from_row(row) if row else None

    def workerpool(self, address: str) -> WorkerpoolInfo | None:
        row = self._one(rows.SELECT_WORKERPOOL, (address,))
        return rows.workerpool_from_row(row) if row else None

    # ----- deals, tasks, contributions, consensus ----------------------------------------------------
    def deal(self, deal_id: str) -> Deal | None:
        row = self._one(rows.SELECT_DEAL, (deal_id,))
        return rows.deal_from_row(row) if row else None

    def task(self, task_id: str) -> ChainTask:
        """An unknown task reads as UNSET, as on chain."""
        row = self._one(rows.SELECT_TASK, (task_id,))
        return rows.task_from_row(row) if row else ChainTask(task_id=task_id, status=ChainTaskStatus.UNSET)

    def contribution(self, task_id: str, worker: str) -> Contribution:
        row = self._one(rows.SELECT_CONTRIBUTION, (task_id, worker))
        return rows.contribution_from_row(row) if row else Contribution()

    def count_contributions(self, task_id: str, result_hash: str, status: ChainContributionStatus) -> int:
        return self._one(
            "SELECT count(*) FROM contributions WHERE task_id = ? AND result_hash = ? AND status = ?",
            (task_id, result_hash, status.value),
        )[0]

    def consensus_groups(self, task_id: str) -> dict[str, int]:
        """Result hash → group weight (the product of its voters' weights), for every hash voted."""
        found = self.connection.execute(
            "SELECT result_hash, weight FROM consensus_groups WHERE task_id = ?", (task_id,)
        ).fetchall()
        return {result_hash: int(weight) for result_hash, weight in found}

    def consensus_group(self, task_id: str, result_hash: str) -> int:
        row = self._one(
            "SELECT weight FROM consensus_groups WHERE task_id = ? AND result_hash = ?", (task_id, result_hash)
        )
        return int(row[0]) if row else 0

    def consensus_total(self, task_id: str) -> int:
        """What the contract keeps in `consensus.total`: initialized to 1, +delta per vote, −group on
        reopen (§7.4, §8.2), so always 1 + Σ groups. Derived here rather than stored twice."""
        return 1 + sum(self.consensus_groups(task_id).values())


@dataclass
class PendingEvent:
    name: str
    args: dict[str, Any]


@dataclass
class TxState(LedgerView):
    block_number: int
    now: int  # the timestamp of the block this transaction goes into
    owner: str  # the ledger owner
    escrow: str  # the ledger's own account, which holds every frozen amount
    events: list[PendingEvent] = field(default_factory=list)

    def emit(self, event: str, /, **args: Any) -> None:
        self.events.append(PendingEvent(event, args))

    # ----- accounts ---------------------------------------------------------------------------------
    def _write_account(self, address: str, account: AccountBalance) -> None:
        self.connection.execute(
            "INSERT INTO accounts (address, balance, frozen) VALUES (?, ?, ?) "
            "ON CONFLICT (address) DO UPDATE SET balance = excluded.balance, frozen = excluded.frozen",
            (address, str(account.balance), str(account.frozen)),
        )

    def _move(self, address: str, balance: int = 0, frozen: int = 0) -> None:
        """Adds (possibly negative) amounts to an account, with the checked arithmetic of uint256."""
        current = self.account(address)
        new_balance, new_frozen = current.balance + balance, current.frozen + frozen
        if new_balance < 0:
            raise revert(rule.INSUFFICIENT_BALANCE, address, needed=-balance, has=current.balance)
        if new_frozen < 0:
            raise revert(
                rule.ARITHMETIC_OVERFLOW, f"{address} would unfreeze {-frozen} nRLC, has {current.frozen} frozen"
            )
        if new_balance > UINT256_MAX or new_frozen > UINT256_MAX:
            raise revert(rule.ARITHMETIC_OVERFLOW, f"the balance of {address} would exceed 2^256 - 1")
        self._write_account(address, AccountBalance(new_balance, new_frozen))

    def set_score(self, worker: str, score: int) -> None:
        write_score(self.connection, worker, score)

    # ----- token and escrow primitives (poco.md §10.1) ---------------------------------------------
    def mint(self, to: str, amount: int) -> None:
        if to == ZERO_ADDRESS:
            raise revert(rule.ZERO_ADDRESS_NOT_ALLOWED, "a mint to the zero address")
        supply = self.total_supply() + amount
        if supply > UINT256_MAX:
            raise revert(rule.ARITHMETIC_OVERFLOW, "the total supply would exceed 2^256 - 1")
        self.connection.execute("UPDATE meta SET value = ? WHERE key = 'total_supply'", (str(supply),))
        self._move(to, balance=amount)
        self.emit("Transfer", **{"from": ZERO_ADDRESS, "to": to, "value": amount})

    def transfer(self, source: str, target: str, amount: int) -> None:
        if ZERO_ADDRESS in (source, target):
            raise revert(rule.ZERO_ADDRESS_NOT_ALLOWED, f"a transfer from {source} to {target}")
        self._move(source, balance=-amount)
        self._move(target, balance=amount)
        self.emit("Transfer", **{"from": source, "to": target, "value": amount})

    def lock(self, owner: str, amount: int) -> None:
        self.transfer(owner, self.escrow, amount)
        self._move(owner, frozen=amount)
        self.emit("Lock", owner=owner, amount=amount)

    def unlock(self, owner: str, amount: int) -> None:
        self.transfer(self.escrow, owner, amount)
        self._move(owner, frozen=-amount)
        self.emit("Unlock", owner=owner, amount=amount)

    def reward(self, owner: str, amount: int, ref: str) -> None:
        self.transfer(self.escrow, owner, amount)
        self.emit("Reward", owner=owner, amount=amount, ref=ref)

    def seize(self, owner: str, amount: int, ref: str) -> None:
        """The amount stays in escrow, to be rewarded to someone else."""
        self._move(owner, frozen=-amount)
        self.emit("Seize", owner=owner, amount=amount, ref=ref)

    def reward_frozen(self, owner: str, amount: int, ref: str) -> None:
        """Credits an amount already held in escrow as `owner`'s frozen funds (the kitty, §10.4 step 3).

        The tokens never leave the escrow, so there is no Transfer event.
        """
        self._move(owner, frozen=amount)
        self.emit("Reward", owner=owner, amount=amount, ref=ref)
        self.emit("Lock", owner=owner, amount=amount)

    # ----- nonces -----------------------------------------------------------------------------------
    def next_nonce(self, owner: str, kind: str) -> int:
        """The owner's counter for `kind`, then incremented: 0 for the first use."""
        row = self._one("SELECT value FROM nonces WHERE owner = ? AND kind = ?", (owner, kind))
        nonce = row[0] if row else 0
        self.connection.execute(
            "INSERT OR REPLACE INTO nonces (owner, kind, value) VALUES (?, ?, ?)", (owner, kind, nonce + 1)
        )
        return nonce

    # ----- records ----------------------------------------------------------------------------------
    def add_category(self, category: Category) -> None:
        self.connection.execute(rows.INSERT_CATEGORY, rows.category_to_row(category))

    def save_app(self, app: AppInfo) -> None:
        self.connection.execute(rows.INSERT_APP, rows.app_to_row(app))

    def save_dataset(self, dataset: DatasetInfo) -> None:
        self.connection.execute(rows.INSERT_DATASET, rows.dataset_to_row(dataset))

    def save_workerpool(self, pool: WorkerpoolInfo) -> None:
        self.connection.execute(rows.INSERT_WORKERPOOL, rows.workerpool_to_row(pool))

    def save_deal(self, deal: Deal) -> None:
        self.connection.execute(rows.INSERT_DEAL, rows.deal_to_row(deal))

    def save_task(self, task: ChainTask) -> None:
        self.connection.execute(rows.INSERT_TASK, rows.task_to_row(task))

    def save_contribution(self, task_id: str, worker: str, contribution: Contribution) -> None:
        self.connection.execute(rows.INSERT_CONTRIBUTION, rows.contribution_to_row(task_id, worker, contribution))

    def set_consensus_group(self, task_id: str, result_hash: str, weight: int) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO consensus_groups (task_id, result_hash, weight) VALUES (?, ?, ?)",
            (task_id, result_hash, str(weight)),
        )


def write_score(connection: sqlite3.Connection, worker: str, score: int) -> None:
    """Inside a transaction (finalize), or alone for LocalChain's test hook."""
    connection.execute(
        "INSERT INTO accounts (address, score) VALUES (?, ?) "
        "ON CONFLICT (address) DO UPDATE SET score = excluded.score",
        (worker, score),
    )
