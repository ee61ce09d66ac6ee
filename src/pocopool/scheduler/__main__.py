"""`python -m pocopool.scheduler`: the scheduler as a process (docs/contracts.md).

Stops cleanly on SIGTERM/SIGINT. A startup problem (bad key, key not the workerpool owner, unknown
chain or database URL, a damaged ledger or database file, port taken) is reported in one line on
stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from eth_account import Account

from ..chain import connect
from ..chain.base import ChainError
from ..integrity import DamagedFile
from ..protocol.time import SystemClock
from ..service.database import DatabaseUrlError
from .config import SchedulerConfig
from .logs import configure_logging
from .service import Scheduler, SchedulerStartupError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pocopool.scheduler", description=__doc__.splitlines()[0])
    parser.add_argument("--chain", required=True, help="chain URL, e.g. local:/abs/path/chain.db")
    parser.add_argument("--key-file", required=True, type=Path, help="file holding the workerpool owner's 0x-hex key")
    parser.add_argument("--workerpool", required=True, help="the workerpool address")
    parser.add_argument("--db", required=True, help="sqlite:////abs/path.db or postgresql+asyncpg://...")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=13000)
    parser.add_argument("--results-url", default="", help="the result store URL given to workers")
    parser.add_argument("--ask-period-ms", type=int, default=300, help="how often a worker may ask for work")
    parser.add_argument("--poll-interval", type=float, default=0.2, help="seconds between two reads of new deals")
    parser.add_argument("--detector-period", type=float, default=1.0, help="seconds between two detector runs")
    parser.add_argument(
        "--worker-lost-after",
        type=float,
        default=60.0,
        help="seconds without a ping before a worker's replicates are marked WORKER_LOST",
    )
    parser.add_argument(
        "--upload-timeout-periods",
        type=float,
        default=2.0,
        help="category periods a chosen uploader has before the next revealer is asked",
    )
    parser.add_argument(
        "--full-scan-every",
        type=int,
        default=10,
        help="the unnotified-contribution/reveal detectors check every replicate once in this many runs",
    )
    parser.add_argument(
        "--sms",
        default="",
        metavar="URL",
        help="the SMS of TEE tasks (tee-sim, framework GRAMINE); without it TEE tasks fail to initialize",
    )
    parser.add_argument("--jwt-secret-file", type=Path, help="file holding the JWT secret (default: random per run)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as error:
        raise SchedulerStartupError(f"cannot read the {what} {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SchedulerStartupError(
            str(DamagedFile(path, "it is not text", f"restore the {what} from a backup"))
        ) from None


def _read_key(path: Path) -> str:
    key = _read(path, "key file")
    try:
        Account.from_key(key)
    except ValueError as error:  # never echo the file's content: it may be most of a key
        problem = "it is empty" if not key else f"it does not hold a 0x-hex private key ({error})"
        raise SchedulerStartupError(
            str(DamagedFile(path, problem, "restore the workerpool owner's key file from a backup"))
        ) from None
    return key


def _sms_url(url: str) -> str:
    if url and not url.startswith(("http://", "https://")):
        raise SchedulerStartupError(f"--sms must be an http(s) URL, got {url!r}")
    return url.rstrip("/")


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(args.log_level.upper())
    clock = SystemClock()
    try:
        key = _read_key(args.key_file)
        secret = _read(args.jwt_secret_file, "JWT secret file").encode() if args.jwt_secret_file else None
        chain = connect(args.chain, clock)
    except (SchedulerStartupError, ValueError, FileNotFoundError, ChainError) as error:
        print(f"pocopool scheduler: {error}", file=sys.stderr)
        return 2
    try:
        config = SchedulerConfig(
            workerpool=args.workerpool,
            private_key=key,
            db_url=args.db,
            results_url=args.results_url,
            host=args.host,
            port=args.port,
            ask_period_ms=args.ask_period_ms,
            poll_interval=args.poll_interval,
            detector_period=args.detector_period,
            jwt_secret=secret,
            worker_lost_after=args.worker_lost_after,
            upload_timeout_periods=args.upload_timeout_periods,
            full_scan_every=args.full_scan_every,
            sms_url=_sms_url(args.sms),
        )
        scheduler = Scheduler(config, chain, clock)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, scheduler.stop)
        await scheduler.run()
    except (SchedulerStartupError, DatabaseUrlError) as error:
        print(f"pocopool scheduler: {error}", file=sys.stderr)
        return 2
    finally:
        chain.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
