"""A devnet worker that reads the chain through a node of its own, as a worker of a real pool does: a
built-in node following the devnet's (`evmnode --follow`, evmnode/follow.py), so the worker sees the
chain only as far as its node has synced, and its node can be held back (BLOCK_NOT_REACHED).

The follower is a devnet process named `evmnode-<worker>` (devnet.json, `devnet status`), stopped with
the devnet and restarted by `devnet restart` like the other services; the worker is restarted on it,
its `--chain` naming the follower's URL and the same ledger. `unfollow` puts the worker back on the
devnet's node and stops its follower.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from .processes import terminate
from .restart import restart_worker, wait_workers
from .state import DevnetError, DevnetState, ProcessEntry, WorkerEntry, load_state, save_state

PREFIX = "evmnode-"  # a follower's process name: PREFIX + the worker's name


def follower_name(worker: WorkerEntry) -> str:
    return PREFIX + worker.name


def follow(home: Path, index: int, *, lag: int = 0, start_delay: float | None = None) -> str:
    """Starts a node following the devnet's for worker INDEX (`lag` blocks behind it), restarts the
    worker on it (with `start_delay`, as `restart_worker`), and returns the follower's URL. The devnet
    must run on the built-in EVM node."""
    from .evm_nodes import start_follower_node

    home = home.resolve()
    state = load_state(home)
    worker = _worker(state, index)
    leader, ledger = _leader(state)
    name = follower_name(worker)
    if name in state.processes:
        terminate(state.processes[name].pid)
    log = home / "logs" / f"{name}.log"
    try:
        node = start_follower_node(leader, lag=lag, log=log)
    except RuntimeError as error:
        raise DevnetError(f"the node of {worker.name} did not start: {error}") from error
    argv = [str(arg) for arg in node.process.args]  # type: ignore[union-attr]  # a list: no shell
    state.processes[name] = ProcessEntry(pid=node.process.pid, log=str(log), url=node.url, argv=argv)
    _set_chain(worker, f"evm:{node.url}#{ledger}")
    save_state(home, state)
    _restart(home, state, index, start_delay)
    return node.url


def unfollow(home: Path, index: int, *, start_delay: float | None = None) -> None:
    """Restarts worker INDEX on the devnet's own node (with `start_delay`, as `restart_worker`) and
    stops its follower, if it has one."""
    home = home.resolve()
    state = load_state(home)
    worker = _worker(state, index)
    _set_chain(worker, state.chain)
    entry = state.processes.pop(follower_name(worker), None)
    save_state(home, state)
    _restart(home, state, index, start_delay)
    if entry is not None:
        terminate(entry.pid)


def hold_sync(home: Path, index: int, held: bool) -> dict[str, Any]:
    """Stops (`held`) or resumes the sync of worker INDEX's node; returns its sync status."""
    state = load_state(home.resolve())
    worker = _worker(state, index)
    entry = state.processes.get(follower_name(worker))
    if entry is None or entry.url is None:
        raise DevnetError(f"{worker.name} reads the devnet's own node: give it one with `follow` first")
    _rpc(entry.url, "pocopool_holdSync", [held])
    return dict(_rpc(entry.url, "pocopool_syncStatus", []))


def _restart(home: Path, state: DevnetState, index: int, start_delay: float | None = None) -> None:
    worker = restart_worker(home, index, start_delay=start_delay)
    if state.scheduler:
        wait_workers(state.scheduler, [worker], [])


def _worker(state: DevnetState, index: int) -> WorkerEntry:
    if not 0 <= index < len(state.workers):
        raise DevnetError(f"there is no worker {index} (indexes 0..{len(state.workers) - 1})")
    return state.workers[index]


def _leader(state: DevnetState) -> tuple[str, str]:
    """The devnet's node URL and ledger address, from its `evm:URL#LEDGER` chain."""
    if "evmnode" not in state.processes or not state.chain.startswith("evm:") or "#" not in state.chain:
        raise DevnetError(
            "a worker's own node follows the devnet's built-in EVM node: start the devnet with `--chain evm`"
        )
    url, _, ledger = state.chain.removeprefix("evm:").partition("#")
    return url, ledger


def _set_chain(worker: WorkerEntry, chain: str) -> None:
    if worker.argv is None or "--chain" not in worker.argv:
        raise DevnetError(f"{worker.name} was never started")
    argv = list(worker.argv)
    argv[argv.index("--chain") + 1] = chain
    worker.argv = argv


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            decoded = json.loads(answer.read())
    except (OSError, ValueError) as error:
        raise DevnetError(f"the node at {url} did not answer {method}: {error}") from None
    if "error" in decoded:
        raise DevnetError(f"the node at {url} refused {method}: {decoded['error'].get('message')}")
    return decoded["result"]
