"""The devnet: every pocopool process on this host, started from one home folder.

`start` creates (or reuses) the ledger, the keys, the funds and the workerpool, then starts the
file server, the result store, the scheduler and N workers in the background and returns once each
answers. `stop` ends them cleanly. `devnet.json` in the home says where everything is.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account

from ..chain import connect
from ..chain.base import Chain
from ..protocol import crypto
from . import postgres

STATE_FILE = "devnet.json"
EVM_JOURNAL = "evmnode/chain.jsonl"  # the built-in EVM node's chain, kept as HOME/chain.db keeps LocalChain's
CHAIN_ID = 65535
NRLC = 1_000_000_000
DEVNET_CATEGORIES = (("DEVNET-5S", "devnet: 5 s per task, for deadline tests", 5),
                     ("DEVNET-30S", "devnet: 30 s per task", 30))
WORKERPOOL_PRICE = NRLC // 10
FUNDS = {"requester": 1_000_000 * NRLC, "scheduler": 1_000_000 * NRLC, "worker": 1_000 * NRLC}
READY_TIMEOUT = 60.0


class DevnetError(Exception):
    """The devnet cannot do what was asked; the message says why and where to look."""


@dataclass
class Options:
    workers: int = 2
    slots: int = 2
    runtime: str = "sandbox"
    database_url: str | None = None
    ask_period_ms: int = 200
    detector_period: float = 1.0
    poll_interval: float = 0.2
    faults: tuple[str, ...] = ()
    start_delays: tuple[str, ...] = ()  # INDEX:SECONDS: worker INDEX asks for work only after SECONDS
    ping_period: float = 1.0  # s between two worker pings (short on a devnet)
    worker_lost_after: float = 5.0  # s without a ping before the scheduler marks a worker's replicates lost
    # --- EVM chain (issue 7) ---
    chain: str = "local"  # "local" (LocalChain file) or "evm" (the PocoLedger contract on an EVM node)
    rpc_url: str | None = None  # with chain "evm": this node instead of the built-in one
    # --- end EVM chain ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_state(home: Path) -> dict[str, Any]:
    path = home / STATE_FILE
    if not path.is_file():
        raise DevnetError(f"no devnet in {home}: start one with `pocopool devnet start --home {home}`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DevnetError(f"{path} is not valid JSON ({error}); remove the folder and start again") from error


def save_state(home: Path, state: dict[str, Any]) -> None:
    path = home / STATE_FILE
    temporary = path.with_suffix(".json.part")
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    temporary.replace(path)


def read_key(path: Path) -> str:
    key = path.read_text().strip()
    crypto.hex_to_bytes(key, 32, f"key in {path}")
    return key


def _new_key(path: Path) -> str:
    key = crypto.new_private_key()
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def _key(keys_dir: Path, name: str) -> tuple[Path, str]:
    path = keys_dir / f"{name}.key"
    return path, (read_key(path) if path.exists() else _new_key(path))


def is_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def running_pids(state: dict[str, Any]) -> list[int]:
    pids = [p.get("pid") for p in state.get("processes", {}).values()]
    pids += [w.get("pid") for w in state.get("workers", [])]
    return [pid for pid in pids if is_alive(pid)]


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as sink:
        return subprocess.Popen(
            argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevnetError(f"the {what} exited with code {process.returncode} at start; its log {log} ends with:\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise DevnetError(f"the {what} did not answer {url} within {READY_TIMEOUT:.0f} s; see {log}:\n{_tail(log)}")


def _prepare_chain(home: Path, workers: int, evm_chain_url: str | None = None) -> dict[str, Any]:
    """Create or reuse the ledger, keys, funds, categories and workerpool. Returns the state skeleton.

    With `evm_chain_url` (an `evm:` URL of a freshly deployed or reused PocoLedger), that ledger is used
    instead of HOME/chain.db; the previous state is reused only if it named the same ledger."""
    keys_dir = home / "keys"
    keys_dir.mkdir(parents=True, exist_ok=True)
    owner_path, owner_key = _key(keys_dir, "owner")
    scheduler_path, scheduler_key = _key(keys_dir, "scheduler")
    requester_path, requester_key = _key(keys_dir, "requester")
    owner = Account.from_key(owner_key)
    scheduler = Account.from_key(scheduler_key)
    requester = Account.from_key(requester_key)
    chain_path = home / "chain.db"
    chain_url = evm_chain_url or f"local:{chain_path}"
    previous = json.loads((home / STATE_FILE).read_text()) if (home / STATE_FILE).exists() else {}
    if previous.get("chain") != chain_url:  # --- EVM chain (issue 7): another ledger, start afresh ---
        previous = {}
    if evm_chain_url is None and not chain_path.exists():
        from ..chain.local import LocalChain

        LocalChain.create(chain_path, owner.address, chain_id=CHAIN_ID).close()
    chain = connect(chain_url)
    try:
        categories = dict(previous.get("categories", {}))
        if not previous.get("workerpool"):
            for name, description, seconds in DEVNET_CATEGORIES:
                categories[name] = chain.create_category(owner, name, description, seconds).return_value
            for who, account in (("requester", requester), ("scheduler", scheduler)):
                chain.mint(owner, account.address, FUNDS[who])
            workerpool = chain.create_workerpool(scheduler, "pocopool devnet workerpool", price=WORKERPOOL_PRICE).return_value
        else:
            workerpool = previous["workerpool"]
        worker_entries = []
        for index in range(workers):
            key_path, key = _key(keys_dir, f"worker-{index}")
            wallet = Account.from_key(key).address
            if chain.view_account(wallet).balance == 0 and chain.view_account(wallet).frozen == 0:
                chain.mint(owner, wallet, FUNDS["worker"])
            worker_entries.append({"name": f"worker-{index}", "wallet": wallet, "keyFile": str(key_path),
                                   "workdir": str(home / "workers" / str(index))})
    finally:
        chain.close()
    return {
        "home": str(home), "chain": chain_url, "chainId": CHAIN_ID, "workerpool": workerpool,
        "owner": owner.address, "schedulerWallet": scheduler.address, "requester": requester.address,
        "keys": {"owner": str(owner_path), "scheduler": str(scheduler_path), "requester": str(requester_path)},
        "categories": categories, "workers": worker_entries,
    }


def start(home: Path, options: Options) -> dict[str, Any]:
    home = home.resolve()
    if options.workers < 0 or options.workers > 64:
        raise DevnetError(f"--workers must be between 0 and 64, got {options.workers}")
    if options.runtime not in ("sandbox", "process"):
        raise DevnetError(f"--runtime must be sandbox or process, got {options.runtime!r}")
    if (home / STATE_FILE).exists():
        alive = running_pids(load_state(home))
        if alive:
            raise DevnetError(f"a devnet is already running in {home} (pids {alive}); stop it with `pocopool devnet stop --home {home}`")
    home.mkdir(parents=True, exist_ok=True)
    # --- EVM chain (issue 7): start the built-in node (or use --rpc-url) and deploy the ledger ---
    evm_node, evm_chain_url = _start_evm_chain(home, options) if options.chain == "evm" else (None, None)
    try:
        state = _prepare_chain(home, options.workers, evm_chain_url)
    except BaseException:
        if evm_node is not None:
            evm_node.stop()
        raise
    if evm_node is not None:
        state.setdefault("processes", {})
        state["evmJournal"] = str(home / EVM_JOURNAL)  # says the next start may replay it (_start_evm_chain)
        state["evmNode"] = {"pid": evm_node.process.pid, "log": str(home / "logs" / "evmnode.log"),
                            "url": evm_node.url}
    # --- end EVM chain ---
    faults = _parse_faults(options.faults, options.workers)
    logs = home / "logs"
    (home / "files").mkdir(exist_ok=True)
    database_url = _database_url(home, options.database_url)
    state.update({"database": database_url, "runtime": options.runtime, "processes": {}, "faults": list(options.faults)})
    started: list[subprocess.Popen[bytes]] = []
    if evm_node is not None:  # --- EVM chain (issue 7): stopped with the devnet, killed on a failed start ---
        state["processes"]["evmnode"] = {**state.pop("evmNode"), "argv": [str(a) for a in evm_node.process.args]}
        started.append(evm_node.process)
    try:
        py = sys.executable
        files_port, results_port, scheduler_port = free_port(), free_port(), free_port()
        files_url = f"http://127.0.0.1:{files_port}"
        results_url = f"http://127.0.0.1:{results_port}"
        scheduler_url = f"http://127.0.0.1:{scheduler_port}"
        state.update({"files": files_url, "results": results_url, "scheduler": scheduler_url})

        def launch(name: str, argv: list[str], health: str) -> None:
            log = logs / f"{name}.log"
            process = _spawn(argv, log)
            started.append(process)
            state["processes"][name] = {"pid": process.pid, "log": str(log), "argv": argv, "health": health}
            _wait_http(health, process, log, name)

        launch("files", [py, "-m", "pocopool.devnet.fileserver", "--dir", str(home / "files"), "--port", str(files_port)],
               f"{files_url}/health")
        launch("results", [py, "-m", "pocopool.results", "--chain", state["chain"], "--data-dir", str(home / "results"),
                           "--port", str(results_port), "--public-url", results_url], f"{results_url}/health")
        launch("scheduler", [py, "-m", "pocopool.scheduler", "--chain", state["chain"], "--key-file", state["keys"]["scheduler"],
                             "--workerpool", state["workerpool"], "--db", database_url, "--port", str(scheduler_port),
                             "--results-url", results_url, "--ask-period-ms", str(options.ask_period_ms),
                             "--poll-interval", str(options.poll_interval), "--detector-period", str(options.detector_period),
                             "--worker-lost-after", str(options.worker_lost_after)],
               f"{scheduler_url}/health")
        delays = _parse_indexed(options.start_delays, options.workers, "--start-delay", "INDEX:SECONDS (e.g. 1:10)")
        workers = []
        for index, entry in enumerate(state["workers"]):
            Path(entry["workdir"]).mkdir(parents=True, exist_ok=True)
            log = logs / f"{entry['name']}.log"
            argv = [py, "-m", "pocopool.worker", "--scheduler", scheduler_url, "--chain", state["chain"],
                    "--key-file", entry["keyFile"], "--workdir", entry["workdir"], "--name", entry["name"],
                    "--slots", str(options.slots), "--runtime", options.runtime,
                    "--ping-period", str(options.ping_period)]
            if index in delays:
                argv += ["--start-delay", str(float(delays[index][-1]))]
            base_argv = list(argv)
            for kind in faults.get(index, []):
                argv += ["--fault", kind]
            process = _spawn(argv, log)
            started.append(process)
            workers.append({**entry, "pid": process.pid, "log": str(log), "faults": faults.get(index, []),
                            "argv": base_argv})
        state["workers"] = workers
        _wait_workers(scheduler_url, workers, started)
        state["startedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        save_state(home, state)
        return state
    except BaseException:
        for process in started:
            _terminate(process.pid)
        state["processes"] = {}
        save_state(home, {**state, "workers": [{k: v for k, v in w.items() if k != "pid"} for w in state["workers"]]})
        raise


# --- EVM chain (issue 7) ---------------------------------------------------------------------------
def _start_evm_chain(home: Path, options: Options) -> tuple[Any, str]:
    """The node (None for --rpc-url) and the `evm:` URL of a PocoLedger owned by the devnet's owner key.

    The built-in node keeps its chain in HOME/evmnode/chain.jsonl: a start on a home whose previous
    devnet ran the built-in node replays that journal in a node on the same port, so the chain URL, the
    ledger, its blocks and the scheduler's database all still agree (as with HOME/chain.db). Any other
    start deploys a new ledger in a new journal. On a --rpc-url node the ledger of the previous start is
    reused if it is still there."""
    from ..chain import evm
    from ..chain.evm_nodes import rpc_ready, start_builtin_node

    (home / "keys").mkdir(parents=True, exist_ok=True)
    owner_key = _key(home / "keys", "owner")[1]
    previous = json.loads((home / STATE_FILE).read_text()) if (home / STATE_FILE).exists() else {}
    node = None
    rpc_url = options.rpc_url
    if rpc_url is None:
        (home / "logs").mkdir(parents=True, exist_ok=True)
        journal = home / EVM_JOURNAL
        port = _journal_port(previous, journal)
        if port is None:
            journal.unlink(missing_ok=True)  # another ledger before (or none): start afresh
        elif not _port_free(port):
            raise DevnetError(f"the EVM node of this devnet listened on 127.0.0.1:{port}, its chain URL names that port, "
                              f"and another process holds it now: free it and start again, or remove {journal} "
                              "to start on a new chain")
        try:
            node = start_builtin_node(port, chain_id=CHAIN_ID, log=home / "logs" / "evmnode.log", journal=journal)
        except RuntimeError as error:
            raise DevnetError(f"the built-in EVM node did not start: {error}") from error
        rpc_url = node.url
        if port is not None:
            try:
                connect(previous["chain"]).close()
                return node, previous["chain"]
            except Exception as error:  # noqa: BLE001 - a journal without the ledger: say so, keep the file
                node.stop()
                raise DevnetError(f"the built-in EVM node replayed {journal} but the ledger of {previous['chain']} "
                                  f"is not in it ({error}); remove {journal} to start on a new chain") from error
    elif not rpc_ready(rpc_url):
        raise DevnetError(f"no EVM node answers at {rpc_url}")
    try:
        if node is None and str(previous.get("chain", "")).startswith(f"evm:{rpc_url}#"):
            try:
                connect(previous["chain"]).close()
                return None, previous["chain"]
            except Exception:  # noqa: BLE001 - gone (a restarted node): deploy a new one
                pass
        return node, evm.chain_url(rpc_url, evm.deploy(rpc_url, owner_key))
    except BaseException:
        if node is not None:
            node.stop()
        raise


def _journal_port(previous: dict[str, Any], journal: Path) -> int | None:
    """The port of the built-in node whose journal this home holds, if the previous devnet ran one."""
    chain = str(previous.get("chain", ""))
    if previous.get("evmJournal") != str(journal) or not journal.is_file() or not chain.startswith("evm:http://127.0.0.1:"):
        return None
    port = chain[len("evm:http://127.0.0.1:"):].partition("#")[0]
    return int(port) if port.isdigit() else None


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the node's HTTP server binds it
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
# --- end EVM chain -----------------------------------------------------------------------------------


def _database_url(home: Path, explicit: str | None) -> str:
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


def _parse_faults(faults: tuple[str, ...], workers: int) -> dict[int, list[str]]:
    parsed: dict[int, list[str]] = {}
    for fault in faults:
        index_text, _, kind = fault.partition(":")
        if not index_text.isdigit() or not kind:
            raise DevnetError(f"--fault takes INDEX:KIND (e.g. 0:wrong-result), got {fault!r}")
        index = int(index_text)
        if index >= workers:
            raise DevnetError(f"--fault {fault}: there are only {workers} workers (indexes 0..{workers - 1})")
        parsed.setdefault(index, []).append(kind)
    return parsed


def _parse_indexed(values: tuple[str, ...], workers: int, option: str, shape: str) -> dict[int, list[str]]:
    parsed: dict[int, list[str]] = {}
    for value in values:
        index_text, _, rest = value.partition(":")
        if not index_text.isdigit() or not rest:
            raise DevnetError(f"{option} takes {shape}, got {value!r}")
        if int(index_text) >= workers:
            raise DevnetError(f"{option} {value}: there are only {workers} workers (indexes 0..{workers - 1})")
        if option == "--start-delay":
            try:
                if float(rest) < 0:
                    raise ValueError
            except ValueError:
                raise DevnetError(f"{option} {value}: SECONDS must be a non-negative number") from None
        parsed.setdefault(int(index_text), []).append(rest)
    return parsed


def kill_worker(home: Path, index: int) -> int:
    """SIGKILL worker INDEX (tests and demos of a crash). Returns the killed pid."""
    state = load_state(home.resolve())
    worker = _worker_entry(state, index)
    pid = worker.get("pid")
    if is_alive(pid):
        os.killpg(pid, signal.SIGKILL)
        _reap(pid)
    return pid


def kill_scheduler(home: Path) -> int:
    """SIGKILL the scheduler (tests of a scheduler crash). Returns the killed pid."""
    state = load_state(home.resolve())
    pid = state.get("processes", {}).get("scheduler", {}).get("pid")
    if is_alive(pid):
        os.killpg(pid, signal.SIGKILL)
        _reap(pid)
    return pid


def _reap(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while is_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)


def _worker_entry(state: dict[str, Any], index: int) -> dict[str, Any]:
    workers = state.get("workers", [])
    if not 0 <= index < len(workers):
        raise DevnetError(f"there is no worker {index} (indexes 0..{len(workers) - 1})")
    return workers[index]


def restart_worker(home: Path, index: int, faults: tuple[str, ...] = (), *,
                   start_delay: float | None = None) -> dict[str, Any]:
    """Stops worker INDEX if it runs, and starts it again on the same wallet and work directory, with
    `faults` (none by default: a crashed worker comes back healthy). It recovers its replicates.
    `start_delay` replaces the delay it was started with (0: it asks for work at once)."""
    home = home.resolve()
    state = load_state(home)
    worker = _worker_entry(state, index)
    _terminate(worker.get("pid"))
    argv = list(worker["argv"])
    if start_delay is not None:
        if "--start-delay" in argv:
            at = argv.index("--start-delay")
            del argv[at:at + 2]
        argv += ["--start-delay", str(float(start_delay))]
        worker["argv"] = list(argv)
    argv += [arg for kind in faults for arg in ("--fault", kind)]
    process = _spawn(argv, Path(worker["log"]))
    worker.update(pid=process.pid, faults=list(faults))
    save_state(home, state)
    return worker


def restart_scheduler(home: Path) -> dict[str, Any]:
    """Stops the scheduler if it runs and starts it again on the same port, chain and database; it
    resumes every unfinished task. Returns once it answers."""
    home = home.resolve()
    state = load_state(home)
    entry = state["processes"]["scheduler"]
    _terminate(entry.get("pid"))
    process = _spawn(entry["argv"], Path(entry["log"]))
    entry["pid"] = process.pid
    save_state(home, state)
    _wait_http(entry["health"], process, Path(entry["log"]), "scheduler")
    return entry


def _wait_workers(scheduler_url: str, workers: list[dict[str, Any]], processes: list[subprocess.Popen[bytes]]) -> None:
    wanted = {w["wallet"].lower(): w for w in workers}
    deadline = time.monotonic() + READY_TIMEOUT
    while wanted and time.monotonic() < deadline:
        for entry in list(wanted.values()):
            process = next(p for p in processes if p.pid == entry["pid"])
            if process.poll() is not None:
                raise DevnetError(f"{entry['name']} exited with code {process.returncode} at start; its log {entry['log']} ends with:\n{_tail(Path(entry['log']))}")
        try:
            listed = httpx.get(f"{scheduler_url}/workers", timeout=2.0).json()
            for worker in listed:
                if worker.get("alive"):
                    wanted.pop(str(worker.get("walletAddress", "")).lower(), None)
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    if wanted:
        names = ", ".join(w["name"] for w in wanted.values())
        raise DevnetError(f"{names} did not register with the scheduler within {READY_TIMEOUT:.0f} s; see their logs in {Path(next(iter(wanted.values()))['log']).parent}")


def _terminate(pid: int | None, timeout: float = 10.0) -> None:
    if not is_alive(pid):
        return
    assert pid is not None
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_alive(pid) and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    if is_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop(home: Path) -> dict[str, Any]:
    home = home.resolve()
    state = load_state(home)
    stopped = []
    for worker in state.get("workers", []):
        if is_alive(worker.get("pid")):
            stopped.append(worker["name"])
        _terminate(worker.get("pid"))
        worker.pop("pid", None)
    for name in ("scheduler", "results", "files", "evmnode"):  # evmnode: issue 7, stopped last
        process = state.get("processes", {}).get(name)
        if process:
            if is_alive(process.get("pid")):
                stopped.append(name)
            _terminate(process.get("pid"))
    state["processes"] = {}
    save_state(home, state)
    return {"home": str(home), "stopped": stopped}


def status(home: Path) -> dict[str, Any]:
    home = home.resolve()
    state = load_state(home)
    workers = []
    alive_wallets: set[str] = set()
    try:
        listed = httpx.get(f"{state['scheduler']}/workers", timeout=2.0).json()
        alive_wallets = {str(w["walletAddress"]).lower() for w in listed if w.get("alive")}
        scheduler_up = True
    except (httpx.HTTPError, KeyError, ValueError):
        scheduler_up = False
    for worker in state.get("workers", []):
        workers.append({
            "name": worker["name"], "wallet": worker["wallet"], "pid": worker.get("pid"),
            "running": is_alive(worker.get("pid")), "alive": worker["wallet"].lower() in alive_wallets,
            "faults": worker.get("faults", []),
        })
    processes = {name: {"pid": p.get("pid"), "running": is_alive(p.get("pid")), "log": p.get("log")}
                 for name, p in state.get("processes", {}).items()}
    return {
        "home": str(home), "scheduler": state.get("scheduler"), "results": state.get("results"),
        "files": state.get("files"), "chain": state.get("chain"), "chainId": state.get("chainId"),
        "workerpool": state.get("workerpool"), "requester": state.get("requester"),
        "database": state.get("database"), "categories": state.get("categories", {}),
        "running": bool(running_pids(state)), "schedulerUp": scheduler_up,
        "processes": processes, "workers": workers,
    }


def open_chain(state: dict[str, Any]) -> Chain:
    return connect(state["chain"])
