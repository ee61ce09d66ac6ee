"""Run an ASGI app on uvicorn until SIGTERM or SIGINT, then shut down cleanly and return.

uvicorn's own signal capture re-raises the signal after shutdown, so the process would die by it;
here the signal only asks the server to stop, in-flight requests get `graceful_timeout` seconds,
and the program ends with exit status 0. A leaf module: the result store, the SMS and the devnet
file server all serve through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Generator

import uvicorn


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def make_server(app: object, host: str, port: int, *, graceful_timeout: int = 10) -> QuietServer:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=graceful_timeout,
    )
    return QuietServer(config)


async def serve_until_signalled(server: QuietServer, sockets: list[socket.socket] | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or `server.should_exit`); returns after a clean shutdown."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.should_exit:
            server.force_exit = True  # a second signal stops waiting for in-flight requests
        server.should_exit = True

    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop)
    try:
        await server.serve(sockets=sockets)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
