"""`python -m pocopool.sms --chain URL --home DIR --port N --result-proxy URL --trust-platform ADDRESS …`:
the Secret Management Service of the simulated TEE flow (docs/tee.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ..chain import connect
from ..chain.base import ChainError
from ..logs import configure, get_logger
from ..protocol.tee import SIMULATION_LABEL
from ..protocol.time import SystemClock
from ..service.config import OptionParser, add_options, from_args
from ..service.database import open_database
from ..service.server import bound_port, listen, make_server, serve_until_signalled
from ..service.startup import run_main, starting
from .config import SmsConfig
from .http import create_app
from .provisioning import EnclaveTrust
from .store import SmsStore
from .tables import schema
from .vault import Vault, load_or_create_master_key

log = get_logger("pocopool.sms")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OptionParser(
        "sms",
        description=f"pocopool Secret Management Service — {SIMULATION_LABEL}. Keeps secrets encrypted at "
        "rest, gives each task its enclave challenge, creates TEE sessions and provisions "
        "attested enclaves with their stage's secrets only.",
    )
    parser.add_argument(
        "--chain", required=True, help="chain URL: local:/abs/path/chain.db or evm:http://HOST:PORT#0xLEDGER"
    )
    add_options(parser, SmsConfig)
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    with starting(""):
        config = from_args(SmsConfig, args)
    with starting(f"open the chain {args.chain}", ChainError):
        chain = connect(args.chain, SystemClock())
    try:
        sock = listen(config.host, config.port)  # first: a port taken is said before anything is opened
        with starting("read the master key"):
            vault = Vault(load_or_create_master_key(config.home))
        with starting(""):
            db = open_database(config.database_url, schema)
        # Whatever the driver raises (a damaged file, a server that refuses): one line, not a traceback.
        with starting("open the database", Exception):
            await db.migrate()
        try:
            public_url = config.url_for(bound_port(sock))
            app = create_app(
                chain,
                SmsStore(db, vault),
                public_url=public_url,
                result_proxy=config.result_proxy,
                trust=EnclaveTrust(config.trusted_platforms, config.programs),
            )
            log.info(
                "sms-started",
                url=public_url,
                db=db.location,
                trusted_platforms=",".join(config.trusted_platforms),
                simulation=SIMULATION_LABEL,
            )
            await serve_until_signalled(make_server(app), sock)
        finally:
            await db.dispose()
        log.info("sms-stopped")
    finally:
        chain.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure(args.log_level)
    return run_main("sms", lambda: asyncio.run(_run(args)))


if __name__ == "__main__":
    sys.exit(main())
