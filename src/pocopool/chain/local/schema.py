"""The SQLite layout of a LocalChain ledger file, and how a connection to it is opened.

Amounts, prices, trust and consensus weights are uint256 on chain: they are stored as decimal TEXT
(SQLite INTEGER stops at 2^63) and computed on in Python. Times, counters and small ratios are
INTEGER. Addresses are stored checksummed, hashes lowercase 0x-hex, exactly as the reads return them.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from ...integrity import RESTORE, DamagedFile, check_sqlite_file, require_tables
from ..errors import NotALedgerError

LEDGER_MAGIC = "pocopool-ledger"
SCHEMA_VERSION = "1"
BUSY_TIMEOUT_SECONDS = 30.0

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

-- One transaction per block. The genesis block 0 holds the standard categories.
CREATE TABLE blocks (
    number INTEGER PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    sender TEXT NOT NULL,
    action TEXT NOT NULL
);
CREATE TABLE events (
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    name TEXT NOT NULL,
    args TEXT NOT NULL,  -- JSON, see rows.encode_args
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX events_by_name ON events (name, block_number);

CREATE TABLE accounts (
    address TEXT PRIMARY KEY,
    balance TEXT NOT NULL DEFAULT '0',
    frozen TEXT NOT NULL DEFAULT '0',
    score INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- Per-owner counters that make asset addresses and deal ids unique ('app', 'dataset', 'workerpool', 'deal').
CREATE TABLE nonces (
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (owner, kind)
) WITHOUT ROWID;

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    work_clock_time_ref INTEGER NOT NULL
);
CREATE TABLE apps (
    address TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, app_type TEXT NOT NULL,
    multiaddr TEXT NOT NULL, checksum TEXT NOT NULL, mrenclave TEXT NOT NULL, price TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE datasets (
    address TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,
    multiaddr TEXT NOT NULL, checksum TEXT NOT NULL, price TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE workerpools (
    address TEXT PRIMARY KEY, owner TEXT NOT NULL, description TEXT NOT NULL,
    worker_stake_ratio TEXT NOT NULL, scheduler_reward_ratio INTEGER NOT NULL, price TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE deals (
    deal_id TEXT PRIMARY KEY,
    app TEXT NOT NULL, app_owner TEXT NOT NULL, app_price TEXT NOT NULL,
    dataset TEXT NOT NULL, dataset_owner TEXT NOT NULL, dataset_price TEXT NOT NULL,
    workerpool TEXT NOT NULL, workerpool_owner TEXT NOT NULL, workerpool_price TEXT NOT NULL,
    trust TEXT NOT NULL, category INTEGER NOT NULL, tag TEXT NOT NULL,
    requester TEXT NOT NULL, beneficiary TEXT NOT NULL, callback TEXT NOT NULL, params TEXT NOT NULL,
    start_time INTEGER NOT NULL, bot_first TEXT NOT NULL, bot_size TEXT NOT NULL,
    worker_stake TEXT NOT NULL, scheduler_reward_ratio INTEGER NOT NULL, sponsor TEXT NOT NULL
) WITHOUT ROWID;
-- contributors: comma-separated addresses in contribution order, so a task reads in one query.
-- consensus.total is not stored: it is always 1 + the sum of the task's consensus groups.
CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY,
    status TEXT NOT NULL, deal_id TEXT NOT NULL, idx TEXT NOT NULL, timeref INTEGER NOT NULL,
    contribution_deadline INTEGER NOT NULL, reveal_deadline INTEGER NOT NULL, final_deadline INTEGER NOT NULL,
    consensus_value TEXT NOT NULL, reveal_counter INTEGER NOT NULL, winner_counter INTEGER NOT NULL,
    contributors TEXT NOT NULL, result_digest TEXT NOT NULL, results BLOB NOT NULL, results_callback BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE contributions (
    task_id TEXT NOT NULL, worker TEXT NOT NULL,
    status TEXT NOT NULL, result_hash TEXT NOT NULL, result_seal TEXT NOT NULL,
    enclave_challenge TEXT NOT NULL, weight INTEGER NOT NULL,
    PRIMARY KEY (task_id, worker)
) WITHOUT ROWID;
CREATE TABLE consensus_groups (
    task_id TEXT NOT NULL, result_hash TEXT NOT NULL, weight TEXT NOT NULL,
    PRIMARY KEY (task_id, result_hash)
) WITHOUT ROWID;
"""


LEDGER_TABLES = frozenset(re.findall(r"CREATE TABLE (\w+)", SCHEMA))


def check_file(path: Path) -> None:
    """NotALedgerError, naming the file and what to do, for a file that is not SQLite, is damaged or
    lacks a ledger table; read only, so the file is left as it is. A ledger made by an older
    version of this file's SCHEMA is told apart by `read_meta`."""
    try:
        tables = check_sqlite_file(path)
        if LEDGER_TABLES & set(tables):
            require_tables(path, tables, LEDGER_TABLES)
    except DamagedFile as damage:
        raise NotALedgerError(f"{path} is not a pocopool ledger or is damaged: {damage.problem}; {RESTORE}") from None


def open_connection(path: Path) -> sqlite3.Connection:
    """A connection in manual-transaction mode: the caller issues BEGIN IMMEDIATE / COMMIT itself.

    WAL lets readers run while one writer commits; the busy timeout makes writers from other
    threads and processes queue instead of failing. synchronous=NORMAL is durable across process
    crashes (a power loss may drop the last transactions, acceptable for a devnet ledger).
    """
    connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def create_schema(connection: sqlite3.Connection, meta: dict[str, str]) -> None:
    """Inside the caller's transaction: the tables and the meta rows (magic and version added here)."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            connection.execute(statement)
    rows = {"magic": LEDGER_MAGIC, "schema_version": SCHEMA_VERSION, **meta}
    connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows.items())


def read_meta(connection: sqlite3.Connection, path: Path) -> dict[str, str]:
    """The meta rows of a ledger file; NotALedgerError for any other file."""
    try:
        rows = connection.execute("SELECT key, value FROM meta").fetchall()
    except sqlite3.DatabaseError as error:  # not SQLite at all, or SQLite without our tables
        raise NotALedgerError(f"{path} is not a pocopool ledger ({error})") from error
    meta = dict(rows)
    if meta.get("magic") != LEDGER_MAGIC:
        raise NotALedgerError(f"{path} is not a pocopool ledger (no pocopool magic in its meta table)")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise NotALedgerError(
            f"{path} is a pocopool ledger of schema version {meta.get('schema_version')!r}, "
            f"this code reads version {SCHEMA_VERSION!r}"
        )
    return meta
