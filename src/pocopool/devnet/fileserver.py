"""The devnet file server: `python -m pocopool.devnet.fileserver --dir DIR --port P [--host H]`.

Serves the files under DIR read-only at `/<relative path>` (GET and HEAD), e.g. app bundles at
`/bundles/<sha>.tar.gz` and datasets at `/datasets/...`. Missing files and folders answer 404;
paths that leave DIR (`..`, encoded slashes, symbolic links pointing outside) answer 404 too.
`GET /health` answers `{"status": "ok"}`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..service.config import OptionParser
from ..service.server import bound_port, listen, make_server, serve_until_signalled
from ..service.startup import run_main

log = logging.getLogger("pocopool.devnet.fileserver")


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(directory: Path) -> Starlette:
    """An app serving the files under `directory` (which must exist)."""
    # StaticFiles resolves each path and refuses any that ends outside `directory` (symlinks
    # included, follow_symlink=False); folders are not listed (html=False).
    files = StaticFiles(directory=Path(directory).resolve(), html=False, check_dir=True)
    return Starlette(routes=[Route("/health", _health, methods=["GET"]), Mount("/", app=files)])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OptionParser("devnet.fileserver", description="devnet file server")
    parser.add_argument("--dir", required=True, type=Path, help="the folder to serve")
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--host", default="127.0.0.1")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    sock = listen(args.host, args.port)
    log.info("event=fileserver-started url=http://%s:%d dir=%s", args.host, bound_port(sock), args.dir)
    await serve_until_signalled(make_server(create_app(args.dir), graceful_timeout=5), sock)
    log.info("event=fileserver-stopped")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args.dir.mkdir(parents=True, exist_ok=True)
    return run_main("fileserver", lambda: asyncio.run(_run(args)))


if __name__ == "__main__":
    sys.exit(main())
