"""EvmChain beyond the conformance suite: chain URLs, nonces under threads, reconnects and event cursors.

The built-in node runs in this process (its HTTP server on a thread), so each test gets a fresh chain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from eth_account import Account

from pocopool.chain import connect
from pocopool.chain.evm import EvmChain, Rpc, chain_url, parse_url
from pocopool.devnet.evmnode import Node, make_server
from pocopool.devnet.processes import free_port

pytestmark = pytest.mark.evm

OWNER = Account.from_key("0x" + "01" * 32)
SENDERS = [Account.from_key(f"0x{0xC0C0 + i:064x}") for i in range(6)]


def serve(port: int = 0) -> tuple[str, object]:
    return serve_node(Node(), port)


def serve_node(node: Node, port: int = 0) -> tuple[str, object]:
    server = make_server(node, "127.0.0.1", port)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


@pytest.fixture
def ledger() -> Iterator[EvmChain]:
    url, server = serve()
    chain = EvmChain.deploy(url, "0x" + "01" * 32)
    yield chain
    chain.close()
    server.shutdown()  # type: ignore[attr-defined]


def test_connect_opens_an_evm_chain_url_and_refuses_malformed_ones(ledger: EvmChain) -> None:
    opened = connect(ledger.url)
    assert isinstance(opened, EvmChain) and opened.owner() == OWNER.address
    assert parse_url(chain_url("http://h:1", ledger.ledger_address)) == ("http://h:1", ledger.ledger_address)
    for bad in ("evm:http://h:1", "evm:http://h:1#0x12", "evm http://h:1#" + ledger.ledger_address):
        with pytest.raises(ValueError):
            connect(bad)


def test_threads_sending_from_many_senders_get_one_block_each_and_no_nonce_clash(ledger: EvmChain) -> None:
    for sender in SENDERS:
        ledger.mint(OWNER, sender.address, 1_000)
    start = ledger.latest_block().number
    errors: list[BaseException] = []

    def send(sender) -> None:
        try:
            for _ in range(3):
                ledger.transfer(sender, OWNER.address, 10)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=send, args=(s,)) for s in SENDERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert ledger.latest_block().number == start + 3 * len(SENDERS)
    assert all(ledger.view_account(s.address).balance == 970 for s in SENDERS)


def test_two_clients_of_one_ledger_keep_their_own_senders_apart(ledger: EvmChain) -> None:
    other = EvmChain(*parse_url(ledger.url))  # another process would open the same URL
    ledger.mint(OWNER, SENDERS[0].address, 100)
    other.mint(OWNER, SENDERS[1].address, 100)  # same owner, stale nonce cache in `ledger`: re-read on error
    ledger.mint(OWNER, SENDERS[2].address, 100)
    assert [ledger.view_account(s.address).balance for s in SENDERS[:3]] == [100, 100, 100]


def test_a_client_waits_for_a_node_that_comes_up_late() -> None:
    port = free_port()
    holder: dict[str, object] = {}

    def late() -> None:
        time.sleep(0.5)
        holder["server"] = serve(port)[1]

    threading.Thread(target=late, daemon=True).start()
    assert int(Rpc(f"http://127.0.0.1:{port}").call("eth_chainId"), 16) == 1337
    holder["server"].shutdown()  # type: ignore[attr-defined]


def test_an_event_cursor_reads_every_event_once_across_reconnects(ledger: EvmChain) -> None:
    for index, sender in enumerate(SENDERS):
        ledger.mint(OWNER, sender.address, index + 1)
    everything = ledger.events(0)
    seen, cursor = [], 0
    while cursor <= ledger.latest_block().number:
        reader = EvmChain(*parse_url(ledger.url))  # a new connection for each batch
        last = min(cursor + 2, ledger.latest_block().number)
        seen += reader.events(cursor, last)
        cursor = last + 1
    assert seen == everything
    assert [e.args["value"] for e in seen if e.name == "Transfer"] == [1, 2, 3, 4, 5, 6]


def test_a_transaction_that_reverts_in_its_block_still_names_the_rule(ledger: EvmChain) -> None:
    """A race with another sender can make a transaction revert after its estimate passed: it is then
    mined (one block, no state change) and EvmChain names the rule by running it again."""
    from pocopool.chain import ChainRevert
    from pocopool.chain import errors as rule
    from pocopool.chain.evm.rpc import wait_receipt

    poor = SENDERS[0]
    connection = ledger._connection
    data = "0x" + connection._abi.encode("transfer", [OWNER.address, 5]).hex()  # poor holds nothing
    signed = Account.sign_transaction(
        {
            "nonce": 0,
            "gasPrice": 0,
            "gas": 200_000,
            "to": ledger.ledger_address,
            "value": 0,
            "data": data,
            "chainId": ledger.chain_id(),
        },
        poor.key,
    )
    rpc = Rpc(parse_url(ledger.url)[0])
    raw = wait_receipt(rpc, rpc.call("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex()))
    assert int(raw["status"], 16) == 0
    error = connection._mined_revert("transfer", {"from": poor.address, "to": ledger.ledger_address, "data": data}, raw)
    assert isinstance(error, ChainRevert) and error.rule == rule.INSUFFICIENT_BALANCE


def test_a_node_started_on_its_journal_replays_the_same_chain(tmp_path) -> None:
    journal = tmp_path / "chain.jsonl"
    first = Node(65535, journal=journal)
    url, server = serve_node(first)
    chain = EvmChain.deploy(url, "0x" + "01" * 32)
    chain.mint(OWNER, SENDERS[0].address, 1_000)
    rpc = Rpc(url)
    snapshot = rpc.call("evm_snapshot")
    chain.transfer(SENDERS[0], SENDERS[1].address, 400)
    assert rpc.call("evm_revert", snapshot) is True  # a reverted block leaves the journal too
    chain.transfer(SENDERS[0], SENDERS[1].address, 300)
    head, events = chain.latest_block(), chain.events(0)
    server.shutdown()  # type: ignore[attr-defined]
    with open(journal, "a") as sink:
        sink.write('{"timestamp": 1')  # a block cut short by a kill: never answered as mined, dropped

    second = Node(65535, journal=journal)
    assert second._head().hash == first._head().hash  # same blocks, same hashes
    url, server = serve_node(second)
    again = EvmChain(url, chain.ledger_address)
    assert again.latest_block() == head and again.events(0) == events
    assert [again.view_account(s.address).balance for s in SENDERS[:2]] == [700, 300]
    again.transfer(SENDERS[1], SENDERS[0].address, 50)  # and it goes on from there
    assert len(journal.read_text().splitlines()) == 1 + again.latest_block().number + chain._genesis
    server.shutdown()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="chain 1337"):
        Node(1337, journal=journal)  # another chain id: refused, the journal is left as it is
