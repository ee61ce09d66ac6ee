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

from ..chain import connect
from ..chain.base import ChainError
from ..integrity import DamagedFile
from ..protocol.keys import Wallet
from ..protocol.time import SystemClock
from ..service.config import OptionParser, add_options, from_args
from ..service.startup import StartupError, run_main, starting
from .config import SchedulerConfig
from .logs import configure_logging
from .service import Scheduler


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OptionParser("scheduler", description=__doc__.splitlines()[0])
    parser.add_argument("--chain", required=True, help="chain URL, e.g. local:/abs/path/chain.db")
    parser.add_argument("--key-file", required=True, type=Path, help="file holding the workerpool owner's 0x-hex key")
    add_options(parser, SchedulerConfig)
    parser.add_argument("--jwt-secret-file", type=Path, help="file holding the JWT secret (default: random per run)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as error:
        raise StartupError(f"cannot read the {what} {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise StartupError(str(DamagedFile(path, "it is not text", f"restore the {what} from a backup"))) from None


def _read_key(path: Path) -> str:
    key = _read(path, "key file")
    try:
        Wallet.from_key(key)
    except ValueError as error:  # never echo the file's content: it may be most of a key
        problem = "it is empty" if not key else f"it does not hold a 0x-hex private key ({error})"
        raise StartupError(
            str(DamagedFile(path, problem, "restore the workerpool owner's key file from a backup"))
        ) from None
    return key


async def _main(argv: list[str] | None) -> None:
    args = parse_args(argv)
    configure_logging(args.log_level.upper())
    clock = SystemClock()
    key = _read_key(args.key_file)
    secret = _read(args.jwt_secret_file, "JWT secret file").encode() if args.jwt_secret_file else None
    with starting(f"open the chain {args.chain}", ChainError):
        chain = connect(args.chain, clock)
    try:
        config = from_args(SchedulerConfig, args, private_key=key, jwt_secret=secret)
        with starting(""):
            scheduler = Scheduler(config, chain, clock)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, scheduler.stop)
        await scheduler.run()
    finally:
        chain.close()


def main(argv: list[str] | None = None) -> int:
    return run_main("scheduler", lambda: asyncio.run(_main(argv)))


if __name__ == "__main__":
    sys.exit(main())
