"""The built-in EVM node charging gas (`--gas-price`, `--fund`; decision 126), a real node process each:
what a transaction must offer, what its sender pays, what a restart on its journal keeps, and what
EvmChain and the worker's ETH check read from it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from pocopool.chain import LocalChain, OutOfGas
from pocopool.chain.evm import EvmChain, Rpc
from pocopool.chain.evm.ether import balance, send_ether
from pocopool.chain.evm.rpc import wait_receipt
from pocopool.devnet.evm_nodes import NodeProcess, start_builtin_node
from pocopool.worker.gas import CONTRIBUTE_GAS, ONE_TRANSACTION_GAS, shortage, startup_check

pytestmark = pytest.mark.evm

PRICE = 10**9
RICH_KEY, OTHER_KEY = "0x" + "a1" * 32, "0x" + "a2" * 32
RICH, OTHER = Account.from_key(RICH_KEY), Account.from_key(OTHER_KEY)
POOR = Account.from_key("0x" + "a3" * 32)  # never funded
ETHER = 10**18


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    started = start_builtin_node(
        gas_price=PRICE, funds={RICH.address: ETHER}, journal=tmp_path / "chain.jsonl", log=tmp_path / "node.log"
    )
    yield started
    started.stop()


def _send(rpc: Rpc, sender, *, price: int = PRICE, value: int = 0, to: str = OTHER.address) -> dict:
    """The raw answer to eth_sendRawTransaction of a plain transfer ({"result": hash} or {"error": …})."""
    transaction = {
        "nonce": int(rpc.call("eth_getTransactionCount", sender.address, "pending"), 16),
        "gasPrice": price,
        "gas": 21_000,
        "to": to,
        "value": value,
        "data": b"",
        "chainId": int(rpc.call("eth_chainId"), 16),
    }
    signed = Account.sign_transaction(transaction, sender.key)
    return rpc.request("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])


def test_a_node_with_a_gas_price_answers_it_and_its_blocks_carry_it_as_base_fee(node: NodeProcess) -> None:
    rpc = Rpc(node.url)
    assert int(rpc.call("eth_gasPrice"), 16) == PRICE
    rpc.call("evm_mine")  # an empty block would lower the protocol's base fee: ours keeps the price
    assert int(rpc.call("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16) == PRICE
    assert balance(node.url, RICH.address) == ETHER
    assert balance(node.url, POOR.address) == 0


def test_the_sender_pays_the_gas_it_used_times_the_price(node: NodeProcess) -> None:
    rpc = Rpc(node.url)
    sent = _send(rpc, RICH, value=1_000)
    receipt = wait_receipt(rpc, sent["result"])
    used, paid = int(receipt["gasUsed"], 16), int(receipt["effectiveGasPrice"], 16)
    assert (used, paid) == (21_000, PRICE)
    assert balance(node.url, RICH.address) == ETHER - 1_000 - used * PRICE
    assert balance(node.url, OTHER.address) == 1_000


def test_a_transaction_offering_less_than_the_price_is_refused_as_underpriced(node: NodeProcess) -> None:
    rpc = Rpc(node.url)
    refused = _send(rpc, RICH, price=PRICE - 1)
    assert "transaction underpriced" in refused["error"]["message"], refused
    assert f"below the node's gas price {PRICE} wei" in refused["error"]["message"]
    assert balance(node.url, RICH.address) == ETHER and int(rpc.call("eth_blockNumber"), 16) == 0


def test_a_sender_that_cannot_pay_is_refused_with_what_it_has_and_wants(node: NodeProcess) -> None:
    refused = _send(Rpc(node.url), POOR)
    message = refused["error"]["message"]
    assert message == (
        f"insufficient funds for gas * price + value: address {POOR.address} have 0 want {21_000 * PRICE}"
    )


def test_a_restarted_node_replays_the_same_priced_and_funded_chain(node: NodeProcess, tmp_path: Path) -> None:
    rpc = Rpc(node.url)
    wait_receipt(rpc, _send(rpc, RICH, value=5)["result"])
    head = rpc.call("eth_getBlockByNumber", "latest", False)
    rich = balance(node.url, RICH.address)
    node.stop()
    again = start_builtin_node(journal=tmp_path / "chain.jsonl", log=tmp_path / "node.log")  # no options: the journal's
    try:
        assert Rpc(again.url).call("eth_getBlockByNumber", "latest", False)["hash"] == head["hash"]
        assert balance(again.url, RICH.address) == rich and int(Rpc(again.url).call("eth_gasPrice"), 16) == PRICE
    finally:
        again.stop()


def test_a_node_started_on_a_journal_with_another_gas_price_or_funding_refuses_in_one_line(
    node: NodeProcess, tmp_path: Path
) -> None:
    node.stop()
    journal = str(tmp_path / "chain.jsonl")
    for options, said in (
        (["--gas-price", "7"], f"holds a chain with gas price {PRICE} wei, not 7"),
        (["--fund", f"{POOR.address}=1"], "genesis funds 1 account(s), not the 1 of --fund"),
    ):
        done = _run_node("--journal", journal, *options)
        assert done.returncode == 2 and said in done.stderr and len(done.stderr.strip().splitlines()) == 1, done


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("nobody=5", "'nobody' is not an address"),
        (f"{RICH.address}=lots", "'lots' is not a whole number of wei"),
        (f"{RICH.address}=-1", "a balance cannot be negative"),
    ],
)
def test_a_bad_fund_option_is_refused_in_one_line(option: str, said: str) -> None:
    done = _run_node("--fund", option)
    assert done.returncode == 2 and said in done.stderr, done


def _run_node(*options: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pocopool.devnet.evmnode", "--port", "1", *options]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_evm_chain_pays_its_transactions_and_a_wallet_without_ether_is_out_of_gas(node: NodeProcess) -> None:
    ledger = EvmChain.deploy(node.url, RICH_KEY)
    try:
        before = balance(node.url, RICH.address)
        ledger.mint(RICH, OTHER.address, 10)
        assert balance(node.url, RICH.address) < before  # the gas of the mint
        with pytest.raises(OutOfGas, match="have 0 want"):
            ledger.transfer(POOR, OTHER.address, 0)  # a price it cannot pay is refused as such, not underpriced
        assert ledger.gas_budget(POOR.address).price == PRICE
        assert ledger.gas_budget(RICH.address).can_pay(CONTRIBUTE_GAS)
    finally:
        ledger.close()


def test_the_worker_check_says_the_wallet_its_balance_and_what_it_needs(node: NodeProcess) -> None:
    ledger = EvmChain.deploy(node.url, RICH_KEY)
    try:
        send_ether(node.url, RICH_KEY, OTHER.address, 1_000)
        lacking = shortage(ledger, OTHER.address, CONTRIBUTE_GAS, "the contribute transaction")
        assert lacking is not None
        need = CONTRIBUTE_GAS * PRICE
        assert lacking.message == (
            f"the worker's wallet {OTHER.address} holds 1000 wei, and the contribute transaction may cost {need} wei "
            f"({CONTRIBUTE_GAS} gas at {PRICE} wei): refill it with at least {need - 1_000} wei"
        )
        assert shortage(ledger, RICH.address, CONTRIBUTE_GAS, "the contribute transaction") is None
        with pytest.raises(
            ValueError, match=f"holds 1000 wei, and one transaction may cost {ONE_TRANSACTION_GAS * PRICE}"
        ):
            startup_check(ledger, OTHER.address)
        send_ether(node.url, RICH_KEY, OTHER.address, 3 * ONE_TRANSACTION_GAS * PRICE)
        warning = startup_check(ledger, OTHER.address)  # enough for three: it starts, and warns
        assert warning is not None and "enough for 3 transaction(s)" in warning
        assert startup_check(ledger, RICH.address) is None
    finally:
        ledger.close()


def test_the_worker_check_passes_on_a_chain_without_gas(tmp_path: Path) -> None:
    chain = LocalChain.create(tmp_path / "chain.db", RICH.address)
    try:
        assert shortage(chain, POOR.address, CONTRIBUTE_GAS, "the contribute transaction") is None
        assert startup_check(chain, POOR.address) is None
    finally:
        chain.close()


def test_emptying_a_wallet_leaves_it_nothing(node: NodeProcess) -> None:
    send_ether(node.url, RICH_KEY, OTHER.address, ETHER // 10)
    send_ether(node.url, OTHER_KEY, RICH.address)
    assert balance(node.url, OTHER.address) == 0
