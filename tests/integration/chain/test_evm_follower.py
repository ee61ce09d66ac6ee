"""The built-in EVM node following another (`--follow`, evmnode/follow.py; decision 136), real node
processes each: the follower's blocks are the leader's, hash for hash; a transaction sent to it is mined
by the leader and its receipt is read from it once synced; held, it lags, and it catches up when released;
a URL it cannot follow is one line."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from pocopool.chain.evm import Rpc
from pocopool.chain.evm.ether import balance, send_ether
from pocopool.devnet.evm_nodes import NodeProcess, start_builtin_node, start_follower_node

pytestmark = pytest.mark.evm

PRICE = 10**9
ETHER = 10**18
RICH_KEY = "0x" + "b1" * 32
RICH, OTHER = Account.from_key(RICH_KEY), Account.from_key("0x" + "b2" * 32)


@pytest.fixture
def leader(tmp_path: Path) -> Iterator[NodeProcess]:
    started = start_builtin_node(gas_price=PRICE, funds={RICH.address: ETHER}, log=tmp_path / "leader.log")
    yield started
    started.stop()


@pytest.fixture
def follower_of(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    started: list[NodeProcess] = []

    def start(leader: NodeProcess, lag: int = 0) -> NodeProcess:
        node = start_follower_node(leader.url, lag=lag, log=tmp_path / f"follower-{len(started)}.log")
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def _head(node: NodeProcess) -> int:
    return int(Rpc(node.url).call("eth_blockNumber"), 16)


def _block(node: NodeProcess, number: int) -> dict[str, Any]:
    return dict(Rpc(node.url).call("eth_getBlockByNumber", hex(number), False))


def _until(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} not seen within {timeout:.0f} s")


def _synced(follower: NodeProcess, leader: NodeProcess) -> Callable[[], bool]:
    return lambda: _head(follower) == _head(leader)


def test_a_follower_holds_the_leaders_blocks_hash_for_hash_and_its_chain(leader, follower_of) -> None:
    send_ether(leader.url, RICH_KEY, OTHER.address, 1_000)  # before the follower starts: its first sync
    Rpc(leader.url).call("evm_mine")
    follower = follower_of(leader)
    assert _head(follower) == _head(leader) == 2  # caught up before it answers
    send_ether(leader.url, RICH_KEY, OTHER.address, 2_000)  # after: its sync
    _until(_synced(follower, leader), "the follower at the leader's head")
    for number in range(_head(leader) + 1):
        assert _block(follower, number) == _block(leader, number), number
    rpc = Rpc(follower.url)
    assert int(rpc.call("eth_chainId"), 16) == int(Rpc(leader.url).call("eth_chainId"), 16)
    assert int(rpc.call("eth_gasPrice"), 16) == PRICE  # the leader's genesis: its price and its funding
    assert balance(follower.url, OTHER.address) == 3_000
    assert balance(follower.url, RICH.address) == balance(leader.url, RICH.address) < ETHER - 3_000


def test_a_transaction_sent_to_a_follower_is_mined_by_the_leader_and_read_back_from_the_follower(
    leader, follower_of
) -> None:
    follower = follower_of(leader)
    receipt = send_ether(follower.url, RICH_KEY, OTHER.address, 5_000)  # its receipt, awaited on the follower
    assert receipt == Rpc(leader.url).call("eth_getTransactionReceipt", receipt["transactionHash"])
    assert balance(leader.url, OTHER.address) == balance(follower.url, OTHER.address) == 5_000
    refused = Rpc(follower.url).request(  # the leader's refusal is answered as it is
        "eth_sendRawTransaction",
        [
            "0x"
            + Account.sign_transaction(
                {"nonce": 0, "gasPrice": PRICE, "gas": 21_000, "to": RICH.address, "value": 1, "chainId": 1337},
                OTHER.key,
            ).raw_transaction.hex()
        ],
    )
    assert "insufficient funds" in refused["error"]["message"], refused


def test_a_held_follower_lags_behind_the_leader_and_catches_up_once_released(leader, follower_of) -> None:
    follower = follower_of(leader)
    rpc = Rpc(follower.url)
    assert rpc.call("pocopool_holdSync", True) is True
    receipt = send_ether(leader.url, RICH_KEY, OTHER.address, 7_000)
    mined = int(receipt["blockNumber"], 16)
    assert _head(leader) == mined and _head(follower) == mined - 1
    assert rpc.call("eth_getTransactionReceipt", receipt["transactionHash"]) is None
    assert balance(follower.url, OTHER.address) == 0
    status = rpc.call("pocopool_syncStatus")
    assert status["held"] is True and status["head"] == mined - 1 and status["leader"] == leader.url

    assert rpc.call("pocopool_holdSync", False) is False
    _until(_synced(follower, leader), "the released follower at the leader's head")
    assert rpc.call("eth_getTransactionReceipt", receipt["transactionHash"]) == receipt
    assert balance(follower.url, OTHER.address) == 7_000
    assert _block(follower, mined)["hash"] == receipt["blockHash"]


def test_a_follower_with_a_lag_stays_that_many_blocks_behind(leader, follower_of) -> None:
    for _ in range(4):
        Rpc(leader.url).call("evm_mine")
    follower = follower_of(leader, lag=2)
    assert _head(leader) == 4 and _head(follower) == 2  # its first sync stops 2 blocks short
    Rpc(leader.url).call("evm_mine")
    _until(lambda: _head(follower) == 3, "the follower one block further")
    assert _block(follower, 3) == _block(leader, 3)


def test_a_follower_refuses_the_controls_that_belong_to_its_leader(leader, follower_of) -> None:
    follower = follower_of(leader)
    refused = Rpc(follower.url).request("evm_mine", [])
    assert refused["error"]["message"] == f"this node follows {leader.url}: send evm_mine to that node"
    assert _head(leader) == 0


def test_a_follower_whose_leader_reverted_below_its_head_stops_following_and_says_why(leader, follower_of) -> None:
    follower = follower_of(leader)
    snapshot = Rpc(leader.url).call("evm_snapshot")
    Rpc(leader.url).call("evm_mine")
    _until(_synced(follower, leader), "the follower at block 1")
    assert Rpc(leader.url).call("evm_revert", snapshot) is True
    Rpc(leader.url).call("evm_mine")  # another block 1
    _until(lambda: Rpc(follower.url).call("pocopool_syncStatus")["diverged"], "the follower diverged")
    diverged = Rpc(follower.url).call("pocopool_syncStatus")["diverged"]
    assert diverged.startswith(f"stopped following {leader.url}: the leader's block 1 is 0x"), diverged


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:1", "did not answer pocopool_blocks"),
        ("nonsense", "did not answer pocopool_blocks"),
        ("another node", "only a pocopool EVM node can be followed"),
    ],
)
def test_a_follow_url_that_is_no_pocopool_node_is_refused_in_one_line(url: str, why: str, other_node: str) -> None:
    url = other_node if url == "another node" else url
    done = subprocess.run(
        [sys.executable, "-m", "pocopool.devnet.evmnode", "--port", "0", "--follow", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("pocopool evmnode: cannot follow: ") and url in line and why in line, line


@pytest.fixture
def other_node() -> Iterator[str]:
    """A JSON-RPC server that knows none of pocopool's methods, as another kind of node."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            error = {"code": -32601, "message": f"the method {request['method']} does not exist"}
            raw = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "error": error}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
