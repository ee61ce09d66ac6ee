"""What a worker is told at start: scheduler URL, wallet, work directory, capacity and limits."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..integrity import DamagedFile
from ..protocol.keys import Wallet
from .runtimes.base import LimitKind, Limits

RUNTIMES = ("sandbox", "process")
# Misbehaviours a devnet worker can be told to show (`--fault KIND`), for demos and failure tests.
FAULTS = {
    "wrong-result": "contribute a result digest that differs from the computed one",
    "no-reveal": "ignore PLEASE_REVEAL (the reveal deadline passes)",
    "no-upload": "ignore PLEASE_UPLOAD (the upload times out)",
    "crash-after-contribute": "exit the process at once after CONTRIBUTED is reported (recovery on restart)",
    "slow": "compute until the task's contribution deadline has passed",
}


@dataclass(frozen=True)
class WorkerConfig:
    scheduler_url: str
    workdir: Path
    private_key: str
    name: str = "worker"
    slots: int = 1
    runtime: str = "sandbox"  # "sandbox" (bubblewrap, falls back to "process") or "process"
    # Limits of each app run (runtimes/guard.py). Memory and processes bound the whole run through its
    # cgroup; where the worker has no cgroups they fall back to RLIMIT_AS / RLIMIT_NPROC per process.
    app_memory_mb: int = 1024
    app_max_processes: int = 128
    app_output_mb: int = 1024  # what an app may write into IEXEC_OUT
    app_tmp_mb: int = 256  # what an app may write into /tmp
    app_cpu_seconds: int = 3600  # CPU time of each process of an app (RLIMIT_CPU)
    ping_period: float = 10.0  # s
    ask_period: float | None = None  # s; None: the scheduler's askForReplicatePeriod
    notification_wait: float = 25.0  # s, long-poll of /workers/notifications (≤ 30)
    http_timeout: float = 10.0  # s, every scheduler call but the long poll
    download_timeout: float = 60.0  # s, per bundle/dataset/input-file download
    max_bundle_bytes: int = 256 * 2**20
    max_bundle_extracted_bytes: int = 1024 * 2**20
    max_download_bytes: int = 1024 * 2**20  # dataset and each input file
    sandbox_uid: int = 65534  # apps run as this uid/gid when the worker runs as root
    sandbox_gid: int = 65534
    faults: tuple[str, ...] = ()  # see FAULTS; never set on a real worker
    start_delay: float = 0.0  # s before the first ask for work (devnet: make another worker contribute first)
    status_hold: float = 0.2  # s a quick stage's statuses may wait to go with the next ones (0: send each at once)
    tee: bool = False  # runs TEE tasks on tee-sim (a simulated enclave); registers teeEnabled
    tee_platform: str = "tee-sim"  # the enclave platform's name (or module:attribute), loaded at start
    tee_platform_key_file: Path | None = None  # the simulated platform key handed to the enclaves
    tee_max_heap_mb: int = 1024  # the largest enclave heap an app may ask for

    def __post_init__(self) -> None:
        if self.start_delay < 0:
            raise ValueError("start delay must not be negative")
        if self.slots < 1:
            raise ValueError("slots must be at least 1")
        if self.runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, got {self.runtime!r}")
        if self.tee and self.tee_platform_key_file is None:
            raise ValueError("--tee needs --tee-platform-key-file (the simulated platform key tee-sim attests with)")
        for option, value in (
            ("--app-memory-mb", self.app_memory_mb),
            ("--app-max-processes", self.app_max_processes),
            ("--app-output-mb", self.app_output_mb),
            ("--app-tmp-mb", self.app_tmp_mb),
            ("--app-cpu-seconds", self.app_cpu_seconds),
        ):
            if value < 1:
                raise ValueError(f"{option} must be at least 1, got {value}")
        if self.tee_max_heap_mb < 1:
            raise ValueError("--tee-max-heap-mb must be at least 1")
        unknown = [fault for fault in self.faults if fault not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r}; known faults: {', '.join(FAULTS)}")

    def app_limits(self, time_limit: float) -> Limits:
        """The limits of one app run of this worker, with the category's time limit."""
        return Limits(
            time_limit=time_limit,
            memory_bytes=self.app_memory_mb * 2**20,
            processes=self.app_max_processes,
            cpu_seconds=self.app_cpu_seconds,
            output_bytes=self.app_output_mb * 2**20,
            tmp_bytes=self.app_tmp_mb * 2**20,
        )


# Each limit, the worker option that sets it (named in the cause's diagnosis).
LIMIT_OPTIONS = {
    LimitKind.MEMORY: "--app-memory-mb",
    LimitKind.PROCESSES: "--app-max-processes",
    LimitKind.OUTPUT: "--app-output-mb",
    LimitKind.TMP: "--app-tmp-mb",
    LimitKind.CPU_TIME: "--app-cpu-seconds",
}


def read_key_file(path: Path) -> str:
    """One 0x-hex private key per file (devnet keys, docs/contracts.md)."""
    data = path.read_bytes()  # a missing file is an OSError, said as such
    try:
        key = data.decode().strip()
        Wallet.from_key(key)  # fail early on a malformed key, without echoing it
    except ValueError as error:  # also binascii.Error and UnicodeDecodeError
        problem = "it is empty (0 bytes)" if not data else f"it does not hold a 0x-hex private key ({error})"
        raise DamagedFile(path, problem, "restore the wallet's key file from a backup") from None
    return key


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pocopool.worker", description="Run a pocopool worker.")
    p.add_argument("--scheduler", required=True, help="scheduler base URL, e.g. http://127.0.0.1:13000")
    p.add_argument("--chain", required=True, help="chain URL, e.g. local:/abs/path/chain.db")
    p.add_argument("--key-file", required=True, type=Path, help="file holding the wallet's 0x-hex private key")
    p.add_argument("--workdir", required=True, type=Path, help="directory for task files and worker state")
    p.add_argument("--name", default="worker")
    p.add_argument("--slots", type=int, default=1, help="replicates computed in parallel (cpuNb)")
    p.add_argument("--runtime", choices=RUNTIMES, default="sandbox")
    p.add_argument(
        "--app-memory-mb",
        "--host-memory-limit-mb",
        dest="app_memory_mb",
        type=int,
        default=1024,
        help="memory of each app run, all its processes together (per process where cgroups are missing)",
    )
    p.add_argument(
        "--app-max-processes",
        "--process-limit",
        dest="app_max_processes",
        type=int,
        default=128,
        help="processes of each app run, all together (RLIMIT_NPROC per uid where cgroups are missing)",
    )
    p.add_argument("--app-output-mb", type=int, default=1024, help="what each app run may write into IEXEC_OUT")
    p.add_argument("--app-tmp-mb", type=int, default=256, help="what each app run may write into /tmp")
    p.add_argument("--app-cpu-seconds", type=int, default=3600, help="CPU time of each process of an app run")
    p.add_argument("--ping-period", type=float, default=10.0, help="seconds between pings")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=sorted(FAULTS),
        help="devnet only: misbehave on purpose (repeatable)",
    )
    p.add_argument(
        "--start-delay",
        type=float,
        default=0.0,
        help="seconds to wait before the first ask for work (devnet ordering of contributions)",
    )
    p.add_argument(
        "--status-hold-ms",
        type=int,
        default=200,
        help="how long the statuses of quick stages may wait to be sent together with the next "
        "ones (0: send each status at once)",
    )
    p.add_argument(
        "--tee",
        action="store_true",
        help="run TEE tasks on tee-sim, a SIMULATED enclave (no SGX/TDX hardware): registers teeEnabled",
    )
    p.add_argument(
        "--tee-platform",
        default="tee-sim",
        help="with --tee: the enclave platform, by name (tee-sim, the simulated one) or module:attribute",
    )
    p.add_argument(
        "--tee-platform-key-file",
        type=Path,
        default=None,
        help="the simulated platform key (devnet: <home>/teesim/platform.key); the worker hands it to "
        "its enclaves and never reads it",
    )
    p.add_argument("--tee-max-heap-mb", type=int, default=1024, help="the largest enclave heap an app may ask for")
    p.add_argument("--log-level", default="INFO")
    return p


def from_args(args: argparse.Namespace) -> WorkerConfig:
    return WorkerConfig(
        scheduler_url=args.scheduler.rstrip("/"),
        workdir=args.workdir.resolve(),
        private_key=read_key_file(args.key_file),
        name=args.name,
        slots=args.slots,
        runtime=args.runtime,
        app_memory_mb=args.app_memory_mb,
        app_max_processes=args.app_max_processes,
        app_output_mb=args.app_output_mb,
        app_tmp_mb=args.app_tmp_mb,
        app_cpu_seconds=args.app_cpu_seconds,
        ping_period=args.ping_period,
        faults=tuple(args.fault),
        start_delay=args.start_delay,
        status_hold=max(args.status_hold_ms, 0) / 1000,
        tee=args.tee,
        tee_platform=args.tee_platform,
        tee_platform_key_file=args.tee_platform_key_file.resolve() if args.tee_platform_key_file else None,
        tee_max_heap_mb=args.tee_max_heap_mb,
    )


def parse(argv: Sequence[str] | None = None) -> tuple[WorkerConfig, str, str]:
    """(config, chain URL, log level) from a command line."""
    args = parser().parse_args(argv)
    return from_args(args), args.chain, args.log_level
