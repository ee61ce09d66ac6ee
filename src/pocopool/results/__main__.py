"""`python -m pocopool.results --chain local:PATH --data-dir DIR --port P [--host H] [--public-url URL]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..logs import configure, get_logger
from ..protocol.time import SystemClock
from ..serving import make_server, serve_until_signalled
from .http import create_app
from .store import ResultStore
from .tokens import SECRET_FILE, load_or_create_secret

log = get_logger("pocopool.results")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pocopool.results", description="pocopool result store")
    parser.add_argument("--chain", required=True, help="chain URL, e.g. local:/abs/path/chain.db")
    parser.add_argument("--data-dir", required=True, type=Path, help="where result zips are kept")
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--public-url", default=None, help="base URL put in result links (default http://HOST:PORT)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    from ..chain import connect
    from ..chain.base import ChainError

    clock = SystemClock()
    try:
        chain = connect(args.chain, clock)
    except (ValueError, OSError, ChainError) as error:
        raise SystemExit(f"pocopool.results: cannot open the chain {args.chain}: {error}") from None
    try:
        store = ResultStore(args.data_dir)
        try:
            token_secret = load_or_create_secret(args.data_dir / SECRET_FILE)
        except (ValueError, OSError) as error:
            raise SystemExit(f"pocopool.results: cannot read the TEE token secret: {error}") from None
        public_url = args.public_url or f"http://{args.host}:{args.port}"
        app = create_app(chain, store, public_url, clock=clock, token_secret=token_secret)
        server = make_server(app, args.host, args.port)
        log.info(
            "result-store-started", url=f"http://{args.host}:{args.port}", public_url=public_url, data_dir=args.data_dir
        )
        await serve_until_signalled(server)
        log.info("result-store-stopped")
    finally:
        chain.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure(args.log_level)
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
