"""The devnet's keys and gas on the built-in EVM node (decision 126), without the devnet's services: a new
chain funds every key at genesis; a key made after it (a devnet started again with more workers) gets
ether from the owner's."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocopool.chain.evm import chain_url, deploy
from pocopool.chain.evm.ether import balance
from pocopool.devnet import homes
from pocopool.devnet.evm_nodes import start_builtin_node
from pocopool.devnet.state import previous_state
from pocopool.protocol.keys import Wallet

pytestmark = pytest.mark.evm


def test_a_new_evm_devnet_chain_charges_gas_and_funds_every_key_at_genesis(tmp_path: Path) -> None:
    home = tmp_path / "home"
    node, url = homes.start_evm_chain(home, None, workers=2)
    assert node is not None and previous_state(home) is None
    try:
        keys = sorted((home / "keys").glob("*.key"))
        assert [key.stem for key in keys] == ["owner", "requester", "scheduler", "worker-0", "worker-1"]
        wallets = [Wallet.from_key(homes.read_key(key)).address for key in keys]
        owner = wallets[0]
        assert balance(node.url, owner) < homes.ETHER  # it paid for the ledger's deployment
        assert [balance(node.url, wallet) for wallet in wallets[1:]] == [homes.ETHER] * 4
        state = homes.prepare_chain(home, 2, url)  # funded already: no top-up
        assert [balance(node.url, w.wallet) for w in state.workers] == [homes.ETHER] * 2
    finally:
        node.stop()


def test_keys_made_after_the_genesis_get_ether_from_the_owner(tmp_path: Path) -> None:
    home = tmp_path / "home"
    owner_key = "0x" + "01" * 32
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "owner.key").write_text(owner_key + "\n")
    (home / "keys" / "owner.key").chmod(0o600)
    owner = Wallet.from_key(owner_key).address
    node = start_builtin_node(gas_price=homes.GAS_PRICE, funds={owner: 10 * homes.ETHER}, log=tmp_path / "node.log")
    try:
        state = homes.prepare_chain(home, 2, chain_url(node.url, deploy(node.url, owner_key)))
        made = [state.requester, *(worker.wallet for worker in state.workers)]
        assert [balance(node.url, wallet) for wallet in made] == [homes.ETHER] * 3
        paid = homes.ETHER - balance(node.url, state.scheduler_wallet)  # topped up, then created the workerpool
        assert 0 < paid < 1_000_000 * homes.GAS_PRICE
    finally:
        node.stop()
