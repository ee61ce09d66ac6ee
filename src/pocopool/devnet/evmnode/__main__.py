"""`python -m pocopool.devnet.evmnode --port 8545 [--chain-id 1337] [--genesis-time T] [--journal FILE]
[--gas-price WEI] [--fund ADDRESS=WEI ...]`, or `... --follow LEADER_URL [--lag N]` (follow.py)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

from .fees import parse_fund
from .follow import Follower, LeaderError
from .node import Node
from .server import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pocopool.devnet.evmnode",
        description="The built-in EVM node of the devnet (py-evm over JSON-RPC).",
    )
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--chain-id", type=int, default=None, help="default 1337, or the leader's")
    parser.add_argument("--genesis-time", type=int, default=None, help="timestamp of block 0 (default: now)")
    parser.add_argument(
        "--journal",
        type=Path,
        default=None,
        help="keep the chain in this file: replayed at start if it exists, appended to at each block",
    )
    parser.add_argument(
        "--gas-price",
        type=int,
        default=None,
        metavar="WEI",
        help="charge gas at this price (every block's base fee); default 0, free gas, or the journal's",
    )
    parser.add_argument(
        "--fund",
        action="append",
        default=None,
        metavar="ADDRESS=WEI",
        help="give this account WEI at genesis (repeatable); default none, or the journal's",
    )
    parser.add_argument(
        "--follow",
        default=None,
        metavar="LEADER_URL",
        help="keep a copy of this pocopool node's chain: replay its blocks, hand it the transactions",
    )
    parser.add_argument("--lag", type=int, default=0, metavar="N", help="with --follow: stay N blocks behind")
    args = parser.parse_args(argv)
    if args.follow is not None:
        return _follow(parser, args)
    if args.chain_id is None:
        args.chain_id = 1337
    if args.gas_price is not None and args.gas_price < 0:
        parser.error(f"--gas-price {args.gas_price}: a price cannot be negative")
    try:
        funds = dict(parse_fund(text) for text in args.fund) if args.fund is not None else None
    except ValueError as error:
        parser.error(str(error))
    started = time.monotonic()
    try:
        node = Node(args.chain_id, args.genesis_time, args.journal, gas_price=args.gas_price, funds=funds)
    except ValueError as error:  # a journal of another chain, or a damaged one: one line, no traceback
        print(f"pocopool evmnode: {error}", file=sys.stderr)
        return 2
    if args.journal is not None:
        print(
            json.dumps(
                {
                    "event": "evmnode-journal",
                    "journal": str(args.journal),
                    "blocks": len(node.journal_entries),
                    "replaySeconds": round(time.monotonic() - started, 2),
                }
            ),
            file=sys.stderr,
            flush=True,
        )
    return _serve(node, args.host, args.port)


def _follow(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """A follower: its chain is the leader's, so the options that make a chain are refused."""
    given = [
        option
        for option, value in (
            ("--chain-id", args.chain_id),
            ("--genesis-time", args.genesis_time),
            ("--journal", args.journal),
            ("--gas-price", args.gas_price),
            ("--fund", args.fund),
        )
        if value is not None
    ]
    if given:
        parser.error(f"--follow takes the leader's chain: {', '.join(given)} cannot be given with it")
    if args.lag < 0:
        parser.error(f"--lag {args.lag}: a lag cannot be negative")
    try:
        node = Follower(args.follow, lag=args.lag)
    except LeaderError as error:
        print(f"pocopool evmnode: cannot follow: {error}", file=sys.stderr)
        return 2
    syncing = threading.Thread(target=node.run, name="follow", daemon=True)
    syncing.start()
    try:
        return _serve(node, args.host, args.port, following=args.follow)
    finally:
        node.stop()


def _serve(node: Node, host: str, port: int, *, following: str | None = None) -> int:
    server = make_server(node, host, port)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(
        json.dumps(
            {
                "event": "evmnode-listening",
                "url": f"http://{host}:{server.server_address[1]}",
                "chainId": node.chain_id,
                "gasPrice": node.gas_price,
                "funded": len(node.funds),
                **({"follows": following, "head": len(node.blocks) - 1} if following else {}),
            }
        ),
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
