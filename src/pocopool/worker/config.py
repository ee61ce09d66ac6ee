"""What a worker is told at start: scheduler URL, wallet, work directory, capacity and limits."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..integrity import DamagedFile
from ..protocol.applogs import KIB, LOG_OPTION, MAX_LOG_BYTES, RESULT_LOG_BYTES
from ..protocol.keys import Wallet
from ..protocol.models import MAX_ASK_HOLD
from ..service.config import OptionParser, absolute_path, add_options, from_args, http_url, setting
from ..service.startup import starting
from .runtimes.base import LimitKind, Limits

RUNTIMES = ("sandbox", "process")
# Misbehaviours a devnet worker can be told to show (`--fault KIND`), for demos and failure tests.
FAULTS = {
    "wrong-result": "contribute a result digest that differs from the computed one",
    "no-reveal": "ignore PLEASE_REVEAL (the reveal deadline passes)",
    "no-upload": "ignore PLEASE_UPLOAD (the upload times out)",
    "crash-after-contribute": "exit the process at once after CONTRIBUTED is reported (recovery on restart)",
    "slow": "compute until the task's contribution deadline has passed",
    "forge-authorization": "TEE: ask the SMS for a session with an authorization the worker signed itself",
    "replay-authorization": "TEE: ask the SMS for a session with the authorization of the previous TEE task",
    "tamper-enclave-signature": "TEE: keep an enclave signature of the result made with another key",
    "reveal-after-deadline": "send the reveal, once checked, only after the reveal deadline (the chain refuses it)",
    "read-only-pre-compute-report": "TEE: bind pre-compute's report folder read-only (it cannot report)",
    "read-only-post-compute-report": "TEE: bind post-compute's report folder read-only (it cannot report)",
    "read-only-pre-compute-input": "TEE: bind the task's input folder read-only into pre-compute",
    "forge-pre-compute-report": "TEE: sign pre-compute's report again with a key that is not the enclave's",
    "unknown-pre-compute-session": "TEE: start pre-compute with a session id the SMS never made",
    "contribute-before-finalize": "TEE: send a plain contribute just before the one-shot contributeAndFinalize",
}


def _milliseconds(text: str) -> float:
    return max(int(text), 0) / 1000


@dataclass(frozen=True, kw_only=True)
class WorkerConfig:
    scheduler_url: str = setting("--scheduler", read=http_url, help="scheduler base URL, e.g. http://127.0.0.1:13000")
    workdir: Path = setting("--workdir", read=absolute_path, help="directory for task files and worker state")
    private_key: str  # the wallet's 0x-hex key, from --key-file
    name: str = setting("--name", default="worker", help="the worker's name, shown to the operator")
    slots: int = setting("--slots", default=1, help="replicates computed in parallel (cpuNb)")
    runtime: str = setting(
        "--runtime", default="sandbox", choices=RUNTIMES, help="sandbox (bubblewrap, falls back to process) or process"
    )
    # Limits of each app run (runtimes/guard.py). Memory and processes bound the whole run through its
    # cgroup; where the worker has no cgroups they fall back to RLIMIT_AS / RLIMIT_NPROC per process.
    app_memory_mb: int = setting(
        "--app-memory-mb",
        "--host-memory-limit-mb",
        default=1024,
        help="memory of each app run, all its processes together (per process where cgroups are missing)",
    )
    app_max_processes: int = setting(
        "--app-max-processes",
        "--process-limit",
        default=128,
        help="processes of each app run, all together (RLIMIT_NPROC per uid where cgroups are missing)",
    )
    app_output_mb: int = setting("--app-output-mb", default=1024, help="what each app run may write into IEXEC_OUT")
    app_tmp_mb: int = setting("--app-tmp-mb", default=256, help="what each app run may write into /tmp")
    app_cpu_seconds: int = setting("--app-cpu-seconds", default=3600, help="CPU time of each process of an app run")
    app_log_kb: int = setting(
        LOG_OPTION,
        default=RESULT_LOG_BYTES // KIB,
        help="KiB of each of the app's stdout and stderr reported to the scheduler, at most "
        f"{MAX_LOG_BYTES // KIB}: the end, from a line start, after a line saying what was cut",
    )
    ping_period: float = setting("--ping-period", default=10.0, help="seconds between pings")
    ask_period: float | None = None  # s; None: the scheduler's askForReplicatePeriod
    ask_hold: float = setting(
        "--ask-hold",
        default=20.0,
        help=f"seconds the scheduler may hold an ask for work until some fits (at most {MAX_ASK_HOLD:g}; "
        "0: ask every ask period, the reference's way)",
    )
    notification_wait: float = 25.0  # s, long-poll of /workers/notifications (≤ 30)
    http_timeout: float = 10.0  # s, every scheduler call but the long poll
    download_timeout: float = 60.0  # s, per bundle/dataset/input-file download
    max_bundle_bytes: int = 256 * 2**20
    max_bundle_extracted_bytes: int = 1024 * 2**20
    max_download_bytes: int = 1024 * 2**20  # dataset and each input file
    sandbox_uid: int = 65534  # apps run as this uid/gid when the worker runs as root
    sandbox_gid: int = 65534
    faults: tuple[str, ...] = setting(
        "--fault", many=True, choices=sorted(FAULTS), help="devnet only: misbehave on purpose (repeatable)"
    )
    start_delay: float = setting(
        "--start-delay",
        default=0.0,
        help="seconds to wait before the first ask for work (devnet ordering of contributions)",
    )
    status_hold: float = setting(
        "--status-hold-ms",
        default=0.2,
        read=_milliseconds,
        help="milliseconds the statuses of quick stages may wait to be sent together with the next ones "
        "(0: send each status at once; default 200)",
    )
    tee: bool = setting(
        "--tee",
        flag=True,
        help="run TEE tasks on tee-sim, a SIMULATED enclave (no SGX/TDX hardware): registers teeEnabled",
    )
    tee_platform: str = setting(
        "--tee-platform",
        default="tee-sim",
        help="with --tee: the enclave platform, by name (tee-sim, the simulated one) or module:attribute",
    )
    tee_platform_key_file: Path | None = setting(
        "--tee-platform-key-file",
        default=None,
        read=absolute_path,
        help="the simulated platform key (devnet: <home>/teesim/platform.key); the worker hands it to "
        "its enclaves and never reads it",
    )
    tee_max_heap_mb: int = setting(
        "--tee-max-heap-mb", default=1024, help="the largest enclave heap an app may ask for"
    )

    def __post_init__(self) -> None:
        if not 0 <= self.ask_hold <= MAX_ASK_HOLD:
            raise ValueError(f"--ask-hold must be from 0 to {MAX_ASK_HOLD:g} seconds, got {self.ask_hold:g}")
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
        if not 1 <= self.app_log_kb <= MAX_LOG_BYTES // KIB:
            raise ValueError(f"{LOG_OPTION} must be from 1 to {MAX_LOG_BYTES // KIB}, got {self.app_log_kb}")
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
            log_bytes=self.app_log_kb * KIB,
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
    p = OptionParser("worker", description="Run a pocopool worker.")
    p.add_argument("--chain", required=True, help="chain URL, e.g. local:/abs/path/chain.db")
    p.add_argument("--key-file", required=True, type=Path, help="file holding the wallet's 0x-hex private key")
    add_options(p, WorkerConfig)
    p.add_argument("--log-level", default="INFO")
    return p


def parse(argv: Sequence[str] | None = None) -> tuple[WorkerConfig, str, str]:
    """(config, chain URL, log level) from a command line; StartupError for an unusable key file or
    setting (argparse itself exits 2 on bad usage)."""
    args = parser().parse_args(argv)
    with starting(f"read the key file {args.key_file}"):
        key = read_key_file(args.key_file)
    with starting(""):
        config = from_args(WorkerConfig, args, private_key=key)
    return config, args.chain, args.log_level
