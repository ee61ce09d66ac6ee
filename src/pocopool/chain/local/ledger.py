"""LocalChain: the PoCo ledger of spec/poco.md in Python, over one SQLite file (DESIGN §1).

Any number of threads and processes may open the same file. Every transaction is one SQLite
`BEGIN IMMEDIATE` transaction that appends one block: writers queue on the file lock (busy
timeout 30 s), a revert rolls everything back, and readers never wait (WAL). The rules themselves
live in assets.py and tasks.py beside this module; this module owns the file, the connections, the blocks
and the reads.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...protocol.crypto import ZERO_ADDRESS, keccak, keccak_hex, normalize_address, normalize_bytes32
from ...protocol.time import STANDARD_CATEGORIES, Category, Clock, SystemClock
from .. import errors as rule
from ..base import (
    AccountBalance,
    AppInfo,
    Block,
    Chain,
    ChainError,
    ChainTask,
    Contribution,
    DatasetInfo,
    Deal,
    DealRequest,
    Event,
    GasBudget,
    Receipt,
    Signer,
    WorkerpoolInfo,
)
from ..errors import NotALedgerError
from ..reverts import revert
from . import assets, rows, tasks
from .schema import check_file, create_schema, open_connection, read_meta
from .state import SQLITE_INT_MAX, LedgerView, TxState, write_score

DEFAULT_CHAIN_ID = 1337
# The ledger's own account (the PoCo proxy of the contract): it holds every frozen amount.
LEDGER_ADDRESS = normalize_address("0x" + keccak(b"pocopool:ledger")[12:].hex())
GENESIS_SENDER = ZERO_ADDRESS


class LocalChain(Chain):
    """The PoCo ledger over the SQLite file at `path`, which must have been made by `create`."""

    reads_never_wait = True  # reads are single statements on a WAL file: they never wait for a writer

    def __init__(self, path: str | os.PathLike[str], clock: Clock | None = None) -> None:
        self._path = Path(path)
        if not self._path.is_file():
            raise FileNotFoundError(f"no pocopool ledger at {self._path} (create one with LocalChain.create)")
        check_file(self._path)
        self._clock: Clock = clock or SystemClock()
        self._local = threading.local()
        self._opened: list[tuple[int, sqlite3.Connection]] = []  # (pid, connection), to close them all
        self._opened_lock = threading.Lock()
        self._closed = False
        try:
            meta = read_meta(self._first_connection(), self._path)
        except BaseException:
            self.close()
            raise
        self._chain_id = int(meta["chain_id"])
        self._owner = meta["owner"]
        self._salt = bytes.fromhex(meta["salt"])

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        owner_address: str,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        clock: Clock | None = None,
    ) -> LocalChain:
        """A new ledger file owned by `owner_address`, with the standard categories in block 0.

        Refuses to touch an existing file (FileExistsError), even an empty one.
        """
        path, owner, clock = Path(path), normalize_address(owner_address), clock or SystemClock()
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))  # atomic "does not exist yet"
        except FileExistsError:
            raise FileExistsError(f"{path} already exists: refusing to overwrite it with a new ledger") from None
        try:
            _write_genesis(path, owner, chain_id, int(clock.now()))
        except BaseException:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            raise
        return cls(path, clock)

    # ----- connections ---------------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        """This thread's connection. A connection is never used by two threads, nor across a fork."""
        if self._closed:
            raise ChainError(f"the ledger {self._path} is closed")
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:
            with self._sqlite_errors():
                connection = open_connection(self._path)
            with self._opened_lock:
                self._opened.append((pid, connection))
            self._local.connection, self._local.pid = connection, pid
        return self._local.connection

    def _first_connection(self) -> sqlite3.Connection:
        try:
            return self._connection()
        except ChainError as error:  # SQLite refuses the file before we can even read its meta table
            raise NotALedgerError(f"{self._path} is not a pocopool ledger ({error.__cause__})") from error

    def close(self) -> None:
        """Closes every connection this object opened in this process, from any thread.

        Connections are opened with check_same_thread=False only so that this method can close
        them; each one is still used by its own thread alone.
        """
        self._closed = True
        pid = os.getpid()
        with self._opened_lock:
            mine = [connection for owner_pid, connection in self._opened if owner_pid == pid]
            # Connections inherited through fork stay referenced (and open): closing them in the
            # child could disturb the parent's locks.
            self._opened = [entry for entry in self._opened if entry[0] != pid]
        for connection in mine:
            connection.close()

    def __enter__(self) -> LocalChain:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as error:
            raise ChainError(f"ledger {self._path}: {error}") from error

    @contextmanager
    def _reading(self) -> Iterator[LedgerView]:
        """Each read is one statement outside any transaction: it sees one committed state (WAL)."""
        with self._sqlite_errors():
            yield LedgerView(self._connection())

    # ----- transactions --------------------------------------------------------------------------------
    def _transact(self, sender: Signer, action: str, body: Callable[[TxState, str], Any]) -> Receipt:
        """Runs `body(state, sender address)` as one block: all of it is committed, or none of it."""
        sender_address = normalize_address(sender.address)
        connection = self._connection()
        with self._sqlite_errors():
            connection.execute("BEGIN IMMEDIATE")  # waits for other writers up to the busy timeout
            try:
                parent = _latest_block(connection)
                state = TxState(
                    connection,
                    block_number=parent.number + 1,
                    now=max(int(self._clock.now()), parent.timestamp),
                    owner=self._owner,
                    escrow=LEDGER_ADDRESS,
                )
                value = body(state, sender_address)
                tx_hash = _tx_hash(self._salt, state.block_number)
                receipt = _append_block(connection, state, tx_hash, sender_address, action)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
                    connection.execute("ROLLBACK")
                raise
        return replace(receipt, return_value=value)

    def mint(self, sender: Signer, account: str, amount: int) -> Receipt:
        return self._transact(sender, "mint", lambda s, who: assets.mint(s, who, account, amount))

    def transfer(self, sender: Signer, to: str, amount: int) -> Receipt:
        return self._transact(sender, "transfer", lambda s, who: assets.transfer(s, who, to, amount))

    def create_category(self, sender: Signer, name: str, description: str, work_clock_time_ref: int) -> Receipt:
        return self._transact(
            sender,
            "createCategory",
            lambda s, who: assets.create_category(s, who, name, description, work_clock_time_ref),
        )

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
        return self._transact(
            sender,
            "createApp",
            lambda s, who: assets.create_app(s, who, name, multiaddr, checksum, app_type, mrenclave, price),
        )

    def create_dataset(self, sender: Signer, name: str, multiaddr: str, checksum: str, *, price: int = 0) -> Receipt:
        return self._transact(
            sender, "createDataset", lambda s, who: assets.create_dataset(s, who, name, multiaddr, checksum, price)
        )

    def create_workerpool(self, sender: Signer, description: str, *, price: int = 0) -> Receipt:
        return self._transact(
            sender, "createWorkerpool", lambda s, who: assets.create_workerpool(s, who, description, price)
        )

    def change_workerpool_policy(
        self, sender: Signer, workerpool: str, worker_stake_ratio: int, scheduler_reward_ratio: int
    ) -> Receipt:
        return self._transact(
            sender,
            "changePolicy",
            lambda s, who: assets.change_workerpool_policy(
                s, who, workerpool, worker_stake_ratio, scheduler_reward_ratio
            ),
        )

    def create_deal(self, sender: Signer, request: DealRequest) -> Receipt:
        return self._transact(sender, "createDeal", lambda s, who: assets.create_deal(s, who, request))

    def initialize(self, sender: Signer, deal_id: str, idx: int) -> Receipt:
        return self._transact(sender, "initialize", lambda s, who: tasks.initialize(s, deal_id, idx))

    def contribute(
        self,
        sender: Signer,
        task_id: str,
        result_hash: str,
        result_seal: str,
        enclave_challenge: str,
        enclave_sign: str,
        authorization_sign: str,
    ) -> Receipt:
        signers = tasks.recover_signers(
            sender.address, task_id, result_hash, result_seal, enclave_challenge, enclave_sign, authorization_sign
        )
        return self._transact(
            sender,
            "contribute",
            lambda s, who: tasks.contribute(s, who, task_id, result_hash, result_seal, enclave_challenge, signers),
        )

    def reveal(self, sender: Signer, task_id: str, result_digest: str) -> Receipt:
        return self._transact(sender, "reveal", lambda s, who: tasks.reveal(s, who, task_id, result_digest))

    def reopen(self, sender: Signer, task_id: str) -> Receipt:
        return self._transact(sender, "reopen", lambda s, who: tasks.reopen(s, who, task_id))

    def finalize(self, sender: Signer, task_id: str, results: bytes, results_callback: bytes = b"") -> Receipt:
        return self._transact(
            sender, "finalize", lambda s, who: tasks.finalize(s, who, task_id, results, results_callback)
        )

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
    ) -> Receipt:
        signers = tasks.recover_one_shot_signers(
            sender.address, task_id, result_digest, enclave_challenge, enclave_sign, authorization_sign
        )
        return self._transact(
            sender,
            "contributeAndFinalize",
            lambda s, who: tasks.contribute_and_finalize(
                s, who, task_id, result_digest, results, results_callback, enclave_challenge, signers
            ),
        )

    def claim(self, sender: Signer, task_id: str) -> Receipt:
        return self._transact(sender, "claim", lambda s, who: tasks.claim(s, task_id))

    def initialize_and_claim(self, sender: Signer, deal_id: str, idx: int) -> Receipt:
        return self._transact(sender, "initializeAndClaim", lambda s, who: tasks.initialize_and_claim(s, deal_id, idx))

    # ----- reads: one indexed query each ------------------------------------------------------------------
    def chain_id(self) -> int:
        return self._chain_id

    def owner(self) -> str:
        return self._owner

    def escrow_address(self) -> str:
        return LEDGER_ADDRESS

    def latest_block(self) -> Block:
        with self._sqlite_errors():
            return _latest_block(self._connection())

    def now(self) -> int:
        """The timestamp the next block would carry: block times never go backwards."""
        return max(int(self._clock.now()), self.latest_block().timestamp)

    def total_supply(self) -> int:
        with self._reading() as ledger:
            return ledger.total_supply()

    def view_account(self, address: str) -> AccountBalance:
        with self._reading() as ledger:
            return ledger.account(normalize_address(address))

    def gas_budget(self, address: str) -> GasBudget:
        # No gas on this ledger: a transaction is a SQLite statement, so every sender can pay for every
        # one and the worker's ETH check passes (as the reference's does on a sidechain).
        return GasBudget(balance=0, price=0)

    def view_score(self, worker: str) -> int:
        with self._reading() as ledger:
            return ledger.score(normalize_address(worker))

    def category_count(self) -> int:
        with self._reading() as ledger:
            return ledger.category_count()

    def view_category(self, category_id: int) -> Category:
        with self._reading() as ledger:
            category = ledger.category(category_id)
        if category is None:
            raise revert(rule.UNKNOWN_CATEGORY, f"category {category_id}")
        return category

    def view_app(self, address: str) -> AppInfo | None:
        with self._reading() as ledger:
            return ledger.app(normalize_address(address))

    def view_dataset(self, address: str) -> DatasetInfo | None:
        with self._reading() as ledger:
            return ledger.dataset(normalize_address(address))

    def view_workerpool(self, address: str) -> WorkerpoolInfo | None:
        with self._reading() as ledger:
            return ledger.workerpool(normalize_address(address))

    def view_deal(self, deal_id: str) -> Deal | None:
        with self._reading() as ledger:
            return ledger.deal(normalize_bytes32(deal_id, "deal id"))

    def view_task(self, task_id: str) -> ChainTask:
        with self._reading() as ledger:
            return ledger.task(normalize_bytes32(task_id, "task id"))

    def view_contribution(self, task_id: str, worker: str) -> Contribution:
        with self._reading() as ledger:
            return ledger.contribution(normalize_bytes32(task_id, "task id"), normalize_address(worker))

    def events(
        self, from_block: int, to_block: int | None = None, names: tuple[str, ...] = (), *, task_id: str | None = None
    ) -> list[Event]:
        first, last = max(from_block, 0), min(SQLITE_INT_MAX if to_block is None else to_block, SQLITE_INT_MAX)
        sql = (
            "SELECT e.block_number, e.log_index, b.tx_hash, e.name, e.args FROM events e "
            "JOIN blocks b ON b.number = e.block_number WHERE e.block_number BETWEEN ? AND ?"
        )
        parameters: list[Any] = [first, last]
        if names:
            sql += f" AND e.name IN ({', '.join('?' for _ in names)})"
            parameters += names
        if task_id is not None:  # filtered in SQLite: the other tasks' events are not decoded
            sql += " AND lower(json_extract(e.args, '$.taskid')) = ?"
            parameters.append(normalize_bytes32(task_id, "task id").lower())
        with self._sqlite_errors():
            found = self._connection().execute(sql + " ORDER BY e.block_number, e.log_index", parameters).fetchall()
        return [Event(number, index, tx, name, rows.decode_args(args)) for number, index, tx, name, args in found]

    # ----- test hooks (LocalChain only) ---------------------------------------------------------------
    def _set_score_for_tests(self, worker: str, score: int) -> None:
        """Sets a worker score directly, without a block: the contract has no such function."""
        with self._sqlite_errors():
            write_score(self._connection(), normalize_address(worker), score)

    def _consensus_for_tests(self, task_id: str) -> tuple[dict[str, int], int]:
        """The task's consensus groups (result hash → weight) and total, which no view exposes on chain."""
        task_id = normalize_bytes32(task_id, "task id")
        with self._reading() as ledger:
            return ledger.consensus_groups(task_id), ledger.consensus_total(task_id)


def _tx_hash(salt: bytes, block_number: int) -> str:
    """Unique per ledger (random salt of the file) and per block (one transaction per block)."""
    return keccak_hex(salt + block_number.to_bytes(32, "big"))


def _latest_block(connection: sqlite3.Connection) -> Block:
    number, timestamp = connection.execute(
        "SELECT number, timestamp FROM blocks ORDER BY number DESC LIMIT 1"
    ).fetchone()
    return Block(number, timestamp)


def _append_block(connection: sqlite3.Connection, state: TxState, tx_hash: str, sender: str, action: str) -> Receipt:
    """Writes the block of a transaction and its events; the receipt carries no return value yet."""
    connection.execute(
        "INSERT INTO blocks (number, timestamp, tx_hash, sender, action) VALUES (?, ?, ?, ?, ?)",
        (state.block_number, state.now, tx_hash, sender, action),
    )
    events = tuple(
        Event(state.block_number, index, tx_hash, pending.name, pending.args)
        for index, pending in enumerate(state.events)
    )
    connection.executemany(
        "INSERT INTO events (block_number, log_index, name, args) VALUES (?, ?, ?, ?)",
        [(event.block_number, event.log_index, event.name, rows.encode_args(event.args)) for event in events],
    )
    return Receipt(state.block_number, tx_hash, state.now, events)


def _write_genesis(path: Path, owner: str, chain_id: int, timestamp: int) -> None:
    """Schema, meta and block 0 with the standard categories (poco.md §11.1), in one transaction."""
    connection = open_connection(path)
    try:
        connection.execute("PRAGMA journal_mode = WAL")  # persistent: every later connection is in WAL
        connection.execute("BEGIN IMMEDIATE")
        salt = os.urandom(32)
        create_schema(
            connection,
            {
                "chain_id": str(chain_id),
                "owner": owner,
                "salt": salt.hex(),
                "total_supply": "0",
            },
        )
        state = TxState(connection, block_number=0, now=timestamp, owner=owner, escrow=LEDGER_ADDRESS)
        for name, time_ref in STANDARD_CATEGORIES:
            assets.add_category(state, name, "", time_ref)
        _append_block(connection, state, _tx_hash(salt, 0), GENESIS_SENDER, "genesis")
        connection.execute("COMMIT")
    finally:
        connection.close()
