"""`python -m pocopool.devnet.evmnode --port 8545 [--chain-id 1337] [--genesis-time T] [--journal FILE]`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

from .node import Node
from .server import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pocopool.devnet.evmnode",
        description="The built-in EVM node of the devnet (py-evm over JSON-RPC).",
    )
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--chain-id", type=int, default=1337)
    parser.add_argument("--genesis-time", type=int, default=None, help="timestamp of block 0 (default: now)")
    parser.add_argument(
        "--journal",
        type=Path,
        default=None,
        help="keep the chain in this file: replayed at start if it exists, appended to at each block",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    node = Node(args.chain_id, args.genesis_time, args.journal)
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
    server = make_server(node, args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(
        json.dumps(
            {
                "event": "evmnode-listening",
                "url": f"http://{args.host}:{server.server_address[1]}",
                "chainId": args.chain_id,
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
