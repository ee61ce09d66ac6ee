"""LocalChain's file: creating, opening, connecting by URL, persistence, closing, block times."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from eth_account import Account

from pocopool.chain import ChainError, LocalChain, connect
from pocopool.chain.errors import NotALedgerError
from pocopool.protocol.time import VirtualClock

OWNER = Account.from_key("0x" + "01" * 32)
ALICE = Account.from_key("0x" + "02" * 32)
START = 1_700_000_000


@pytest.fixture
def path(tmp_path):
    return tmp_path / "chain.db"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


def test_create_refuses_to_overwrite_an_existing_file(path, clock):
    LocalChain.create(path, OWNER.address, clock=clock).close()
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        LocalChain.create(path, OWNER.address, clock=clock)
    empty = path.with_name("empty.db")
    empty.write_bytes(b"")
    with pytest.raises(FileExistsError):
        LocalChain.create(empty, OWNER.address, clock=clock)
    assert empty.read_bytes() == b""


def test_create_with_a_bad_owner_leaves_no_file(path, clock):
    with pytest.raises(ValueError):
        LocalChain.create(path, "not an address", clock=clock)
    assert not path.exists()


def test_opening_a_missing_file_says_so(path):
    with pytest.raises(FileNotFoundError, match="no pocopool ledger"):
        LocalChain(path)


def test_opening_a_file_that_is_not_a_ledger_says_so(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not SQLite at all, and it is long enough to have a header" * 20)
    with pytest.raises(NotALedgerError, match="not a pocopool ledger"):
        LocalChain(text)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE things (x)")
    with pytest.raises(NotALedgerError, match="not a pocopool ledger"):
        LocalChain(other)


def test_the_file_is_in_wal_mode_and_keeps_its_chain_id(path, clock):
    LocalChain.create(path, OWNER.address, chain_id=4242, clock=clock).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with LocalChain(path, clock) as chain:
        assert chain.chain_id() == 4242
        assert chain.owner() == OWNER.address


def test_the_ledger_persists_and_two_instances_see_each_other(path, clock):
    first = LocalChain.create(path, OWNER.address, clock=clock)
    second = LocalChain(path, clock)
    first.mint(OWNER, ALICE.address, 10)
    assert second.view_account(ALICE.address).balance == 10
    second.mint(OWNER, ALICE.address, 5)
    assert first.view_account(ALICE.address).balance == 15
    assert first.latest_block() == second.latest_block()
    first.close()
    second.close()
    with LocalChain(path, clock) as reopened:
        assert reopened.view_account(ALICE.address).balance == 15


def test_connect_opens_a_local_url(path, clock):
    LocalChain.create(path, OWNER.address, clock=clock).close()
    chain = connect(f"local:{path}", clock)
    assert isinstance(chain, LocalChain)
    assert chain.owner() == OWNER.address
    chain.close()


@pytest.mark.parametrize("url", ["evm:http://127.0.0.1:8545", "chain.db", "local:relative/chain.db", "local:", ""])
def test_connect_refuses_anything_else_clearly(url):
    with pytest.raises(ValueError, match="local:/"):
        connect(url)


def test_connect_to_a_missing_file_says_so(path):
    with pytest.raises(FileNotFoundError):
        connect(f"local:{path}")


def test_a_closed_chain_refuses_reads_and_transactions(path, clock):
    chain = LocalChain.create(path, OWNER.address, clock=clock)
    chain.close()
    with pytest.raises(ChainError, match="closed"):
        chain.latest_block()
    with pytest.raises(ChainError, match="closed"):
        chain.mint(OWNER, ALICE.address, 1)


def test_close_releases_the_connections_of_every_thread(path, clock):
    chain = LocalChain.create(path, OWNER.address, clock=clock)
    reader = threading.Thread(target=chain.latest_block)
    reader.start()
    reader.join()
    assert len(chain._opened) == 2
    chain.close()
    assert chain._opened == []


def test_block_times_never_go_back_even_if_the_clock_does(path, clock):
    chain = LocalChain.create(path, OWNER.address, clock=clock)
    clock.advance(100)
    assert chain.mint(OWNER, ALICE.address, 1).timestamp == START + 100
    clock.advance(-50)
    assert chain.now() == START + 100
    assert chain.mint(OWNER, ALICE.address, 1).timestamp == START + 100
    clock.advance(60)
    assert chain.now() == START + 110
    chain.close()
