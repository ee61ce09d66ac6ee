"""Restarting what died in a devnet, or what the user names, on the same ports, ledger, database and
work folders (`pocopool devnet restart`), and killing a process on purpose (tests and demos of a crash).

Each process is started again with the command line it was started with (devnet.json keeps it), so a
restarted service answers at the same URL and a restarted worker resumes its replicates. Services go
first, in the order `start` launches them, then the workers; each is waited for as `start` waits.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from .processes import READY_TIMEOUT, is_alive, kill, spawn, tail, terminate, wait_http
from .state import (
    STATE_FILE,
    DevnetError,
    DevnetOptionError,
    DevnetState,
    ProcessEntry,
    WorkerEntry,
    load_state,
    save_state,
)

SERVICES = ("evmnode", "files", "results", "sms", "scheduler")  # the order `start` launches them


def _services(state: DevnetState) -> list[str]:
    """The services of the devnet, in start order; the workers' own nodes (followers.py) follow the
    devnet's node."""
    followers = sorted(name for name in state.processes if name not in SERVICES)
    ordered = [name for name in SERVICES if name in state.processes]
    at = ordered.index("evmnode") + 1 if "evmnode" in ordered else 0
    return ordered[:at] + followers + ordered[at:]


def process_names(state: DevnetState) -> list[str]:
    """Every process a devnet of this home runs: its services, then its workers."""
    return _services(state) + [w.name for w in state.workers]


def _dead(state: DevnetState) -> list[str]:
    services = [name for name in _services(state) if not is_alive(state.processes[name].pid)]
    workers = [w.name for w in state.workers if w.argv is not None and not is_alive(w.pid)]
    return services + workers


def partly_running(home: Path) -> bool:
    """Whether some process of the devnet in `home` runs (and so `start` resumes it rather than start anew)."""
    return (home / STATE_FILE).exists() and bool(running_pids(load_state(home.resolve())))


def running_pids(state: DevnetState) -> list[int]:
    """The pids of the devnet's processes and workers that still run."""
    pids = [p.pid for p in state.processes.values()] + [w.pid for w in state.workers]
    return [pid for pid in pids if pid is not None and is_alive(pid)]


def restart_dead(home: Path) -> list[str]:
    """Starts again every process of the devnet in `home` that died; the running ones are left alone."""
    home = home.resolve()
    return restart(home, _dead(load_state(home)))


def restart(home: Path, names: list[str]) -> list[str]:
    """Stops each named process if it runs and starts it again; returns the names, in start order."""
    home = home.resolve()
    state = load_state(home)
    known = process_names(state)
    if not state.processes:
        raise DevnetError(f"the devnet in {home} is stopped: start it with `pocopool devnet start --home {home}`")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DevnetError(f"no process {unknown[0]!r} in the devnet of {home}; its processes: {', '.join(known)}")
    ordered = [name for name in known if name in names]
    for name in ordered:
        if name in state.processes:
            entry = state.processes[name]
            terminate(entry.pid)
            _start_service(home, state, name, entry)
        else:
            worker = next(w for w in state.workers if w.name == name)
            terminate(worker.pid)
            _start_worker(home, worker)
            save_state(home, state)
    started = [w for w in state.workers if w.name in ordered]
    if started and state.scheduler:
        wait_workers(state.scheduler, started, [])
    return ordered


def _start_service(home: Path, state: DevnetState, name: str, entry: ProcessEntry) -> None:
    """Starts a service again with its own command line, records its pid, and waits until it answers."""
    process = spawn(entry.argv, Path(entry.log))
    entry.pid = process.pid
    save_state(home, state)
    if entry.health is not None:
        wait_http(entry.health, process, Path(entry.log), name)


def _start_worker(home: Path, worker: WorkerEntry, faults: tuple[str, ...] = ()) -> None:
    if worker.argv is None or worker.log is None:
        raise DevnetError(
            f"{worker.name} was never started: start the devnet with `pocopool devnet start --home {home}`"
        )
    argv = list(worker.argv) + [arg for kind in faults for arg in ("--fault", kind)]
    process = spawn(argv, Path(worker.log))
    worker.pid, worker.faults = process.pid, list(faults)


def kill_worker(home: Path, index: int) -> int | None:
    """SIGKILL worker INDEX (tests and demos of a crash). Returns the killed pid."""
    worker = _worker_entry(load_state(home.resolve()), index)
    kill(worker.pid)
    return worker.pid


def kill_scheduler(home: Path) -> int | None:
    """SIGKILL the scheduler (tests of a scheduler crash). Returns the killed pid."""
    entry = load_state(home.resolve()).processes.get("scheduler")
    pid = entry.pid if entry is not None else None
    kill(pid)
    return pid


def _worker_entry(state: DevnetState, index: int) -> WorkerEntry:
    if not 0 <= index < len(state.workers):
        raise DevnetError(f"there is no worker {index} (indexes 0..{len(state.workers) - 1})")
    return state.workers[index]


def check_fault(kind: str, option: str) -> None:
    """A fault the worker knows (worker/config.py FAULTS), else the worker would refuse to start."""
    from ..worker.config import FAULTS

    if kind not in FAULTS:
        raise DevnetOptionError(f"{option}: unknown fault {kind!r}; known faults: {', '.join(FAULTS)}")


def restart_worker(
    home: Path, index: int, faults: tuple[str, ...] = (), *, start_delay: float | None = None
) -> WorkerEntry:
    """Stops worker INDEX if it runs, and starts it again on the same wallet and work directory, with
    `faults` (none by default: a crashed worker comes back healthy). It recovers its replicates.
    `start_delay` replaces the delay it was started with (0: it asks for work at once)."""
    for kind in faults:
        check_fault(kind, "fault")
    home = home.resolve()
    state = load_state(home)
    worker = _worker_entry(state, index)
    terminate(worker.pid)
    if start_delay is not None and worker.argv is not None:
        argv = list(worker.argv)
        if "--start-delay" in argv:
            at = argv.index("--start-delay")
            del argv[at : at + 2]
        worker.argv = [*argv, "--start-delay", str(float(start_delay))]
    _start_worker(home, worker, faults)
    save_state(home, state)
    return worker


def restart_scheduler(home: Path) -> ProcessEntry:
    """Stops the scheduler if it runs and starts it again on the same port, chain and database; it
    resumes every unfinished task. Returns once it answers."""
    home = home.resolve()
    state = load_state(home)
    entry = state.processes["scheduler"]
    terminate(entry.pid)
    _start_service(home, state, "scheduler", entry)
    return entry


def wait_workers(scheduler_url: str, workers: list[WorkerEntry], processes: list[subprocess.Popen[bytes]]) -> None:
    """Returns once every worker is alive at the scheduler; DevnetError when one exits or is late.
    `processes`: the ones this process started (their exit code is known), if any."""
    wanted = {w.wallet.lower(): w for w in workers}
    deadline = time.monotonic() + READY_TIMEOUT
    while wanted and time.monotonic() < deadline:
        for entry in list(wanted.values()):
            process = next((p for p in processes if p.pid == entry.pid), None)
            code = process.poll() if process is not None else (None if is_alive(entry.pid) else "?")
            if code is not None:
                raise DevnetError(
                    f"{entry.name} exited with code {code} at start; its log {entry.log} ends with:\n{tail(Path(str(entry.log)))}"
                )
        try:
            listed = httpx.get(f"{scheduler_url}/workers", timeout=2.0).json()
            for worker in listed:
                if worker.get("alive"):
                    wanted.pop(str(worker.get("walletAddress", "")).lower(), None)
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    if wanted:
        names = ", ".join(w.name for w in wanted.values())
        raise DevnetError(
            f"{names} did not register with the scheduler within {READY_TIMEOUT:.0f} s; see their logs in {Path(str(next(iter(wanted.values())).log)).parent}"
        )
