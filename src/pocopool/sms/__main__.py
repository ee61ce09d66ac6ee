"""`python -m pocopool.sms --chain URL --home DIR --port N --result-proxy URL --trust-platform ADDRESS …`:
the Secret Management Service of the simulated TEE flow (docs/tee.md)."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path

from ..chain.base import ChainError
from ..integrity import DamagedFile, one_line
from ..logs import configure, get_logger
from ..protocol.crypto import InvalidHex, normalize_address
from ..protocol.tee import SIMULATION_LABEL
from ..protocol.time import SystemClock
from ..serving import make_server, serve_until_signalled
from .db import Database, DatabaseConfigError
from .http import create_app
from .store import SmsStore
from .vault import Vault, VaultError, load_or_create_master_key

log = get_logger("pocopool.sms")


def _address(value: str) -> str:
    try:
        return normalize_address(value)
    except InvalidHex:
        raise argparse.ArgumentTypeError(f"{value!r} is not an address (0x followed by 40 hex digits)") from None


def _url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pocopool.sms",
        description=f"pocopool Secret Management Service — {SIMULATION_LABEL}. Keeps secrets encrypted at "
        "rest, gives each task its enclave challenge, creates TEE sessions and provisions "
        "attested enclaves with their stage's secrets only.",
    )
    parser.add_argument(
        "--chain", required=True, help="chain URL: local:/abs/path/chain.db or evm:http://HOST:PORT#0xLEDGER"
    )
    parser.add_argument(
        "--home",
        required=True,
        type=Path,
        help="the SMS's directory: master.key (created at first start, 0600) and sms.db",
    )
    parser.add_argument(
        "--db", default=None, help="database URL (default sqlite:///HOME/sms.db; or postgresql://user@host:port/db)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", required=True, type=int, help="port to listen on")
    parser.add_argument(
        "--public-url", type=_url, default=None, help="the URL workers reach this SMS at (default http://HOST:PORT)"
    )
    parser.add_argument(
        "--result-proxy",
        required=True,
        type=_url,
        help="the result store URL given to post-compute when the deal names none",
    )
    parser.add_argument(
        "--trust-platform",
        required=True,
        action="append",
        type=_address,
        metavar="ADDRESS",
        help="address of a tee-sim platform key whose quotes are trusted (repeatable)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port} is not a port (1-65535)")
    return args


async def _run(args: argparse.Namespace) -> None:
    from ..chain import connect

    try:
        chain = connect(args.chain, SystemClock())
    except (ValueError, OSError, ChainError) as error:
        raise SystemExit(f"pocopool.sms: cannot open the chain {args.chain}: {error}") from None
    try:
        try:
            vault = Vault(load_or_create_master_key(args.home.resolve()))
            db = Database(args.db or f"sqlite:///{args.home.resolve() / 'sms.db'}")
        except (VaultError, DatabaseConfigError, OSError) as error:
            raise SystemExit(f"pocopool.sms: {error}") from None
        try:
            await db.migrate()
        except DamagedFile as error:
            raise SystemExit(f"pocopool.sms: cannot open the database: {error}") from None
        except Exception as error:  # noqa: BLE001 - one line, not a traceback, for an unreachable database
            raise SystemExit(
                f"pocopool.sms: cannot open the database: {type(error).__name__}: {one_line(str(error))}"
            ) from None
        public_url = args.public_url or f"http://{args.host}:{args.port}"
        app = create_app(
            chain,
            SmsStore(db, vault),
            public_url=public_url,
            result_proxy=args.result_proxy,
            trusted_platforms=tuple(args.trust_platform),
        )
        server = make_server(app, args.host, args.port)
        log.info(
            "sms-started",
            url=public_url,
            db=db.url.render_as_string(hide_password=True),
            trusted_platforms=",".join(args.trust_platform),
            simulation=SIMULATION_LABEL,
        )
        try:
            await serve_until_signalled(server)
        finally:
            await db.dispose()
        log.info("sms-stopped")
    finally:
        chain.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure(args.log_level)
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
