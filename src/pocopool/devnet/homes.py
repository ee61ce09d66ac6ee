"""What a devnet home holds besides its processes: the keys, the ledger (HOME/chain.db, or a PocoLedger on
an EVM node whose chain is kept in HOME/evmnode/chain.jsonl), the funds, the categories, the workerpool
and the scheduler's database. A start on a home that has them reuses them.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..chain import Chain, connect
from ..protocol import crypto
from ..protocol.keys import Wallet
from ..service.secrets import load_or_create_key_file
from . import postgres
from .evm_nodes import NodeProcess
from .processes import port_free
from .state import DevnetError, DevnetState, Keys, WorkerEntry, previous_state

EVM_JOURNAL = "evmnode/chain.jsonl"  # the built-in EVM node's chain, kept as HOME/chain.db keeps LocalChain's
CHAIN_ID = 65535
NRLC = 1_000_000_000
DEVNET_CATEGORIES = (
    ("DEVNET-5S", "devnet: 5 s per task, for deadline tests", 5),
    ("DEVNET-30S", "devnet: 30 s per task", 30),
)
WORKERPOOL_PRICE = NRLC // 10
FUNDS = {"requester": 1_000_000 * NRLC, "scheduler": 1_000_000 * NRLC, "worker": 1_000 * NRLC}
# Gas on the built-in EVM node (decision 126): it charges as real chains do, and every devnet key gets
# ether enough for millions of transactions at genesis (at 1 gwei a contribute costs ~0.0003 ETH).
GAS_PRICE = 10**9  # wei: 1 gwei
ETHER = 10_000 * 10**18  # wei each key holds at genesis
TOP_UP_GAS = 10_000_000  # a key holding less than this much gas (a worker's ten transactions) is topped up


# ----- keys -------------------------------------------------------------------------------------------
def read_key(path: Path) -> str:
    """The private key in a key file (0x-hex, 32 bytes); ValueError if it is not one."""
    return _checked_key(path.read_text().strip(), path)


def _checked_key(key: str, path: Path) -> str:
    crypto.hex_to_bytes(key, 32, f"key in {path}")
    return key


def _key(keys_dir: Path, name: str) -> tuple[Path, str]:
    path = keys_dir / f"{name}.key"
    return path, _checked_key(load_or_create_key_file(path, crypto.new_private_key, f"the devnet's {name} key"), path)


def _key_names(workers: int) -> list[str]:
    """Every key a devnet of `workers` workers transacts with."""
    return ["owner", "scheduler", "requester", *(f"worker-{index}" for index in range(workers))]


def _top_up(chain_url: str, chain: Chain, owner_key: str, wallets: list[str]) -> None:
    """Keys made after an EVM chain's genesis (a devnet started again on its journal with more workers),
    or emptied since, get ether from the owner's: on a chain that charges gas, a key without ether
    cannot transact (a worker would not even start)."""
    if not chain_url.startswith("evm:"):
        return
    from ..chain.evm import ether, parse_url

    for wallet in wallets:
        budget = chain.gas_budget(wallet)
        if budget.price and not budget.can_pay(TOP_UP_GAS):
            ether.send_ether(parse_url(chain_url)[0], owner_key, wallet, ETHER)


# ----- the ledger -------------------------------------------------------------------------------------
def prepare_chain(home: Path, workers: int, evm_chain_url: str | None = None) -> DevnetState:
    """Create or reuse the ledger, keys, funds, categories and workerpool. Returns the state skeleton.

    With `evm_chain_url` (an `evm:` URL of a freshly deployed or reused PocoLedger), that ledger is used
    instead of HOME/chain.db; the previous state is reused only if it named the same ledger."""
    keys_dir = home / "keys"
    keys_dir.mkdir(parents=True, exist_ok=True)
    owner_path, owner_key = _key(keys_dir, "owner")
    scheduler_path, scheduler_key = _key(keys_dir, "scheduler")
    requester_path, requester_key = _key(keys_dir, "requester")
    owner = Wallet.from_key(owner_key)
    scheduler = Wallet.from_key(scheduler_key)
    requester = Wallet.from_key(requester_key)
    chain_path = home / "chain.db"
    chain_url = evm_chain_url or f"local:{chain_path}"
    previous = previous_state(home)
    if previous is not None and previous.chain != chain_url:  # another ledger: start afresh
        previous = None
    if evm_chain_url is None and not chain_path.exists():
        from ..chain.local import LocalChain

        LocalChain.create(chain_path, owner.address, chain_id=CHAIN_ID).close()
    chain = connect(chain_url)
    try:
        _top_up(chain_url, chain, owner_key, [scheduler.address, requester.address])
        categories = dict(previous.categories) if previous is not None else {}
        if previous is None or not previous.workerpool:
            for name, description, seconds in DEVNET_CATEGORIES:
                categories[name] = chain.create_category(owner, name, description, seconds).return_value
            for who, account in (("requester", requester), ("scheduler", scheduler)):
                chain.mint(owner, account.address, FUNDS[who])
            workerpool = chain.create_workerpool(
                scheduler, "pocopool devnet workerpool", price=WORKERPOOL_PRICE
            ).return_value
        else:
            workerpool = previous.workerpool
        worker_entries = []
        for index in range(workers):
            key_path, key = _key(keys_dir, f"worker-{index}")
            wallet = Wallet.from_key(key).address
            if chain.view_account(wallet).balance == 0 and chain.view_account(wallet).frozen == 0:
                chain.mint(owner, wallet, FUNDS["worker"])
            _top_up(chain_url, chain, owner_key, [wallet])
            worker_entries.append(
                WorkerEntry(
                    name=f"worker-{index}",
                    wallet=wallet,
                    key_file=str(key_path),
                    workdir=str(home / "workers" / str(index)),
                )
            )
    finally:
        chain.close()
    return DevnetState(
        home=str(home),
        chain=chain_url,
        chain_id=CHAIN_ID,
        workerpool=workerpool,
        owner=owner.address,
        scheduler_wallet=scheduler.address,
        requester=requester.address,
        keys=Keys(str(owner_path), str(scheduler_path), str(requester_path)),
        categories=categories,
        workers=worker_entries,
    )


def start_evm_chain(home: Path, rpc_url: str | None, workers: int = 0) -> tuple[NodeProcess | None, str]:
    """The node (None for an `rpc_url` of the caller's) and the `evm:` URL of a PocoLedger owned by the
    devnet's owner key.

    The built-in node keeps its chain in HOME/evmnode/chain.jsonl: a start on a home whose previous
    devnet ran the built-in node replays that journal in a node on the same port, so the chain URL, the
    ledger, its blocks and the scheduler's database all still agree (as with HOME/chain.db). Any other
    start deploys a new ledger in a new journal, on a node that charges gas (GAS_PRICE) and funds every
    key of a devnet of `workers` workers at genesis (made here if need be). On an `rpc_url` node the
    ledger of the previous start is reused if it is still there."""
    from ..chain import evm
    from .evm_nodes import rpc_ready, start_builtin_node

    (home / "keys").mkdir(parents=True, exist_ok=True)
    keys = {name: _key(home / "keys", name)[1] for name in _key_names(workers)}
    owner_key = keys["owner"]
    previous = previous_state(home)
    previous_chain = previous.chain if previous is not None else ""
    node = None
    if rpc_url is None:
        (home / "logs").mkdir(parents=True, exist_ok=True)
        journal = home / EVM_JOURNAL
        port = _journal_port(previous, journal)
        if port is None:
            journal.unlink(missing_ok=True)  # another ledger before (or none): start afresh
        elif not port_free(port):
            raise DevnetError(
                f"the EVM node of this devnet listened on 127.0.0.1:{port}, its chain URL names that port, "
                f"and another process holds it now: free it and start again, or remove {journal} "
                "to start on a new chain"
            )
        try:
            new = port is None  # a replayed journal keeps the gas price and funding its chain started with
            node = start_builtin_node(
                port,
                chain_id=CHAIN_ID,
                log=home / "logs" / "evmnode.log",
                journal=journal,
                gas_price=GAS_PRICE if new else None,
                funds=_genesis_funds(keys) if new else None,
            )
        except RuntimeError as error:
            raise DevnetError(f"the built-in EVM node did not start: {error}") from error
        rpc_url = node.url
        if port is not None:
            try:
                connect(previous_chain).close()
                return node, previous_chain
            except Exception as error:  # noqa: BLE001 - a journal without the ledger: say so, keep the file
                node.stop()
                raise DevnetError(
                    f"the built-in EVM node replayed {journal} but the ledger of {previous_chain} "
                    f"is not in it ({error}); remove {journal} to start on a new chain"
                ) from error
    elif not rpc_ready(rpc_url):
        raise DevnetError(f"no EVM node answers at {rpc_url}")
    try:
        if node is None and previous_chain.startswith(f"evm:{rpc_url}#"):
            try:
                connect(previous_chain).close()
                return None, previous_chain
            except Exception:  # noqa: BLE001 - gone (a restarted node): deploy a new one
                pass
        return node, evm.chain_url(rpc_url, evm.deploy(rpc_url, owner_key))
    except BaseException:
        if node is not None:
            node.stop()
        raise


def _genesis_funds(keys: dict[str, str]) -> dict[str, int]:
    """ETHER for each key."""
    return {Wallet.from_key(key).address: ETHER for key in keys.values()}


def _journal_port(previous: DevnetState | None, journal: Path) -> int | None:
    """The port of the built-in node whose journal this home holds, if the previous devnet ran one."""
    if previous is None or previous.evm_journal != str(journal) or not journal.is_file():
        return None
    if not previous.chain.startswith("evm:http://127.0.0.1:"):
        return None
    port = previous.chain[len("evm:http://127.0.0.1:") :].partition("#")[0]
    return int(port) if port.isdigit() else None


# ----- the scheduler's database -----------------------------------------------------------------------
def database_url(home: Path, explicit: str | None) -> str:
    """The scheduler store: --db, else POCOPOOL_DATABASE_URL, else this home's own database on the
    PostgreSQL server of POCOPOOL_POSTGRES_URL, else SQLite in the home."""
    if explicit or os.environ.get("POCOPOOL_DATABASE_URL"):
        return explicit or os.environ["POCOPOOL_DATABASE_URL"]
    server = os.environ.get(postgres.ENV)
    if server:
        try:
            return postgres.database_for(server, home)
        except postgres.PostgresError as error:
            raise DevnetError(str(error)) from error
    return f"sqlite:///{home / 'scheduler.db'}"
