"""The devnet: every pocopool process on this host, started from one home folder.

`start` creates (or reuses) the ledger, the keys, the funds and the workerpool (homes.py), then starts
the file server, the result store, the scheduler and N workers in the background (processes.py) and
returns once each answers. `stop` ends them cleanly. `devnet.json` in the home says where everything
is (state.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ..chain import connect
from ..chain.base import Chain
from . import tee
from .homes import CHAIN_ID, EVM_JOURNAL, database_url, prepare_chain, read_key, start_evm_chain
from .processes import free_port, is_alive, spawn, terminate, wait_http
from .restart import (
    check_fault,
    kill_scheduler,
    kill_worker,
    partly_running,
    restart,
    restart_dead,
    restart_scheduler,
    restart_worker,
    running_pids,
    wait_workers,
)
from .state import STATE_FILE, DevnetError, DevnetOptionError, DevnetState, ProcessEntry, load_state, save_state

__all__ = [
    "CHAIN_ID",
    "STATE_FILE",
    "DevnetError",
    "DevnetOptionError",
    "DevnetState",
    "Options",
    "free_port",
    "is_alive",
    "kill_scheduler",
    "kill_worker",
    "load_state",
    "open_chain",
    "partly_running",
    "read_key",
    "restart",
    "restart_dead",
    "restart_scheduler",
    "restart_worker",
    "running_pids",
    "save_state",
    "start",
    "status",
    "stop",
]


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
    tee_workers: int = 0  # the last N workers also run TEE tasks (tee-sim, a simulated enclave)
    app_limits: tuple[str, ...] = ()  # NAME=VALUE: every worker gets --app-NAME VALUE (e.g. memory-mb=256)


# The limits of an app run a devnet can set on its workers (worker options --app-NAME).
APP_LIMITS = ("memory-mb", "max-processes", "output-mb", "tmp-mb", "cpu-seconds", "log-kb")


def _app_limit_args(limits: tuple[str, ...]) -> list[str]:
    argv: list[str] = []
    for limit in limits:
        name, _, value = limit.partition("=")
        if name not in APP_LIMITS or not value.isdigit() or int(value) < 1:
            raise DevnetOptionError(
                f"--app-limit {limit}: expected NAME=N with N ≥ 1 and NAME one of {', '.join(APP_LIMITS)}"
            )
        argv += [f"--app-{name}", value]
    return argv


@dataclass(frozen=True)
class _Plan:
    """What the options say each worker gets, once they are all known to work."""

    faults: dict[int, list[str]]
    delays: dict[int, list[str]]
    limit_args: list[str]


def _check_options(options: Options) -> _Plan:
    """Every option a process would refuse at its own start, refused before anything is created:
    a worker that cannot start would otherwise leave a half-started devnet and its usage text."""
    from ..worker.config import RUNTIMES  # the worker's own lists (imported here: `pocopool` starts fast)

    if options.workers < 0 or options.workers > 64:
        raise DevnetOptionError(f"--workers must be between 0 and 64, got {options.workers}")
    if options.slots < 1:
        raise DevnetOptionError(f"--slots must be at least 1, got {options.slots}")
    if options.runtime not in RUNTIMES:
        raise DevnetOptionError(f"--runtime must be {' or '.join(RUNTIMES)}, got {options.runtime!r}")
    if not 0 <= options.tee_workers <= options.workers:
        raise DevnetOptionError(
            f"--tee-workers must be between 0 and --workers ({options.workers}), got {options.tee_workers}"
        )
    return _Plan(
        faults=_parse_faults(options.faults, options.workers),
        delays=_parse_indexed(options.start_delays, options.workers, "--start-delay", "INDEX:SECONDS (e.g. 1:10)"),
        limit_args=_app_limit_args(options.app_limits),
    )


def start(home: Path, options: Options) -> DevnetState:
    home = home.resolve()
    plan = _check_options(options)
    if (home / STATE_FILE).exists():
        alive = running_pids(load_state(home))
        if alive:
            raise DevnetError(
                f"a devnet is already running in {home} (pids {alive}); stop it with `pocopool devnet stop --home {home}`"
            )
    home.mkdir(parents=True, exist_ok=True)
    # --- EVM chain (issue 7): start the built-in node (or use --rpc-url) and deploy the ledger ---
    evm_node, evm_chain_url = (
        start_evm_chain(home, options.rpc_url, options.workers) if options.chain == "evm" else (None, None)
    )
    try:
        state = prepare_chain(home, options.workers, evm_chain_url)
    except BaseException:
        if evm_node is not None:
            evm_node.stop()
        raise
    if evm_node is not None:
        state.evm_journal = str(home / EVM_JOURNAL)  # says the next start may replay it (homes.start_evm_chain)
    # --- end EVM chain ---
    faults, limit_args = plan.faults, plan.limit_args
    logs = home / "logs"
    (home / "files").mkdir(exist_ok=True)
    state.database = database_url(home, options.database_url)
    state.runtime, state.processes, state.faults = options.runtime, {}, list(options.faults)
    started: list[subprocess.Popen[bytes]] = []
    if evm_node is not None:  # --- EVM chain (issue 7): stopped with the devnet, killed on a failed start ---
        state.processes["evmnode"] = ProcessEntry(
            pid=evm_node.process.pid, log=str(logs / "evmnode.log"), url=evm_node.url, argv=_argv_of(evm_node.process)
        )
        started.append(evm_node.process)
    try:
        py = sys.executable

        def launch(name: str, argv: list[str], health: str) -> None:
            log = logs / f"{name}.log"
            process = spawn(argv, log)
            started.append(process)
            state.processes[name] = ProcessEntry(pid=process.pid, log=str(log), argv=argv, health=health)
            wait_http(health, process, log, name)

        # Each port is chosen just before its server starts: chosen all at once, a port waited seconds
        # for its server while the devnets of other processes started theirs, and one could take it.
        files_port = free_port()
        state.files = files_url = f"http://127.0.0.1:{files_port}"
        launch(
            "files",
            [py, "-m", "pocopool.devnet.fileserver", "--dir", str(home / "files"), "--port", str(files_port)],
            f"{files_url}/health",
        )
        results_port = free_port()
        state.results = results_url = f"http://127.0.0.1:{results_port}"
        launch(
            "results",
            [
                py,
                "-m",
                "pocopool.results",
                "--chain",
                state.chain,
                "--data-dir",
                str(home / "results"),
                "--port",
                str(results_port),
                "--public-url",
                results_url,
            ],
            f"{results_url}/health",
        )
        platform_key_file, platform = tee.platform_key(home)
        sms_port = free_port()
        state.sms = sms_url = f"http://127.0.0.1:{sms_port}"
        launch("sms", tee.sms_argv(py, state.chain, home, sms_port, results_url, platform), f"{sms_url}/health")
        scheduler_port = free_port()
        state.scheduler = scheduler_url = f"http://127.0.0.1:{scheduler_port}"
        launch(
            "scheduler",
            [
                py,
                "-m",
                "pocopool.scheduler",
                "--chain",
                state.chain,
                "--key-file",
                state.keys.scheduler,
                "--workerpool",
                state.workerpool,
                "--db",
                state.database,
                "--port",
                str(scheduler_port),
                "--results-url",
                results_url,
                "--ask-period-ms",
                str(options.ask_period_ms),
                "--poll-interval",
                str(options.poll_interval),
                "--detector-period",
                str(options.detector_period),
                "--worker-lost-after",
                str(options.worker_lost_after),
                "--sms",
                sms_url,
            ],
            f"{scheduler_url}/health",
        )
        delays = plan.delays
        for index, worker in enumerate(state.workers):
            Path(worker.workdir).mkdir(parents=True, exist_ok=True)
            log = logs / f"{worker.name}.log"
            argv = [
                py,
                "-m",
                "pocopool.worker",
                "--scheduler",
                scheduler_url,
                "--chain",
                state.chain,
                "--key-file",
                worker.key_file,
                "--workdir",
                worker.workdir,
                "--name",
                worker.name,
                "--slots",
                str(options.slots),
                "--runtime",
                options.runtime,
                "--ping-period",
                str(options.ping_period),
                *limit_args,
            ]
            if index >= options.workers - options.tee_workers:
                argv += ["--tee", "--tee-platform", "tee-sim", "--tee-platform-key-file", str(platform_key_file)]
            if index in delays:
                argv += ["--start-delay", str(float(delays[index][-1]))]
            base_argv = list(argv)
            for kind in faults.get(index, []):
                argv += ["--fault", kind]
            process = spawn(argv, log)
            started.append(process)
            worker.pid, worker.log, worker.faults, worker.argv = process.pid, str(log), faults.get(index, []), base_argv
        wait_workers(scheduler_url, state.workers, started)
        state.started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        save_state(home, state)
        return state
    except BaseException:
        for process in started:
            terminate(process.pid)
        state.processes = {}
        for worker in state.workers:
            worker.pid = None
        save_state(home, state)
        raise


def _parse_faults(faults: tuple[str, ...], workers: int) -> dict[int, list[str]]:
    parsed: dict[int, list[str]] = {}
    for fault in faults:
        index_text, _, kind = fault.partition(":")
        if not index_text.isdigit() or not kind:
            raise DevnetOptionError(f"--fault takes INDEX:KIND (e.g. 0:wrong-result), got {fault!r}")
        index = int(index_text)
        if index >= workers:
            raise DevnetOptionError(f"--fault {fault}: there are only {workers} workers (indexes 0..{workers - 1})")
        check_fault(kind, f"--fault {fault}")
        parsed.setdefault(index, []).append(kind)
    return parsed


def _parse_indexed(values: tuple[str, ...], workers: int, option: str, shape: str) -> dict[int, list[str]]:
    parsed: dict[int, list[str]] = {}
    for value in values:
        index_text, _, rest = value.partition(":")
        if not index_text.isdigit() or not rest:
            raise DevnetOptionError(f"{option} takes {shape}, got {value!r}")
        if int(index_text) >= workers:
            raise DevnetOptionError(f"{option} {value}: there are only {workers} workers (indexes 0..{workers - 1})")
        if option == "--start-delay":
            try:
                if float(rest) < 0:
                    raise ValueError
            except ValueError:
                raise DevnetOptionError(f"{option} {value}: SECONDS must be a non-negative number") from None
        parsed.setdefault(int(index_text), []).append(rest)
    return parsed


def stop(home: Path) -> dict[str, Any]:
    """Stops every process of the devnet in `home`: `{"home", "stopped": [names that were running]}`."""
    home = home.resolve()
    state = load_state(home)
    stopped = []
    for worker in state.workers:
        if is_alive(worker.pid):
            stopped.append(worker.name)
        terminate(worker.pid)
        worker.pid = None
    followers = [name for name in state.processes if name.startswith("evmnode-")]  # workers' nodes (followers.py)
    for name in ("scheduler", "sms", "results", "files", *followers, "evmnode"):  # evmnode: issue 7, stopped last
        process = state.processes.get(name)
        if process:
            if is_alive(process.pid):
                stopped.append(name)
            terminate(process.pid)
    state.processes = {}
    save_state(home, state)
    return {"home": str(home), "stopped": stopped}


def status(home: Path) -> dict[str, Any]:
    """The view `pocopool devnet status --json` prints (stable keys): services, ledger, processes, workers."""
    home = home.resolve()
    state = load_state(home)
    workers = []
    alive_wallets: set[str] = set()
    try:
        listed = httpx.get(f"{state.scheduler}/workers", timeout=2.0).json()
        alive_wallets = {str(w["walletAddress"]).lower() for w in listed if w.get("alive")}
        scheduler_up = True
    except (httpx.HTTPError, KeyError, ValueError):
        scheduler_up = False
    for worker in state.workers:
        workers.append(
            {
                "name": worker.name,
                "wallet": worker.wallet,
                "pid": worker.pid,
                "running": is_alive(worker.pid),
                "alive": worker.wallet.lower() in alive_wallets,
                "faults": worker.faults or [],
                "tee": "--tee" in (worker.argv or []),
            }
        )
    processes = {name: {"pid": p.pid, "running": is_alive(p.pid), "log": p.log} for name, p in state.processes.items()}
    return {
        "home": str(home),
        "scheduler": state.scheduler,
        "results": state.results,
        "sms": state.sms,
        "files": state.files,
        "chain": state.chain,
        "chainId": state.chain_id,
        "workerpool": state.workerpool,
        "requester": state.requester,
        "database": state.database,
        "categories": state.categories,
        "running": bool(running_pids(state)),
        "schedulerUp": scheduler_up,
        "processes": processes,
        "workers": workers,
    }


def open_chain(state: DevnetState) -> Chain:
    """The devnet's ledger (the caller closes it)."""
    return connect(state.chain)


def _argv_of(process: subprocess.Popen[bytes]) -> list[str]:
    """The command line a process was started with (always a list here: no shell)."""
    args = process.args
    return [str(a) for a in args] if isinstance(args, (list, tuple)) else [str(args)]
