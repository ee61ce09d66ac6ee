"""`python -m pocopool.results --chain local:PATH --data-dir DIR --port P [--host H] [--public-url URL]`.

Stops cleanly on SIGTERM/SIGINT. A startup problem (an unreadable chain, a damaged secret file, a
port taken) is said in one line on stderr, exit status 2 (service/startup.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from ..chain import connect
from ..chain.base import ChainError
from ..logs import configure, get_logger
from ..protocol.time import SystemClock
from ..service.config import OptionParser, add_options, from_args
from ..service.server import bound_port, listen, make_server, serve_until_signalled
from ..service.startup import run_main, starting
from .config import ResultStoreConfig
from .http import create_app
from .store import ResultStore
from .tokens import SECRET_FILE, load_or_create_secret

log = get_logger("pocopool.results")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OptionParser("results", description="pocopool result store")
    parser.add_argument("--chain", required=True, help="chain URL, e.g. local:/abs/path/chain.db")
    add_options(parser, ResultStoreConfig)
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    config = from_args(ResultStoreConfig, args)
    clock = SystemClock()
    with starting(f"open the chain {args.chain}", ChainError):
        chain = connect(args.chain, clock)
    try:
        sock = listen(config.host, config.port)  # first: a port taken is said before anything is opened
        with starting(f"use the data folder {config.data_dir}"):
            store = ResultStore(config.data_dir)
            token_secret = load_or_create_secret(config.data_dir / SECRET_FILE)
        public_url = config.url_for(bound_port(sock))
        app = create_app(chain, store, public_url, clock=clock, token_secret=token_secret)
        log.info(
            "result-store-started",
            url=f"http://{config.host}:{bound_port(sock)}",
            public_url=public_url,
            data_dir=config.data_dir,
        )
        await serve_until_signalled(make_server(app), sock)
        log.info("result-store-stopped")
    finally:
        chain.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure(args.log_level)
    return run_main("results", lambda: asyncio.run(_run(args)))


if __name__ == "__main__":
    sys.exit(main())
