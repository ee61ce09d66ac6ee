"""Serve an ASGI app on uvicorn until told to stop, then shut down cleanly and return.

Every service binds its port with `listen` before it says it started (a port taken is a one-line
StartupError, not a uvicorn log), then serves on that socket. uvicorn's own signal capture would
re-raise the signal after shutdown, so the process would die by it: here the owner decides when to
stop (`serve_until_signalled` turns SIGTERM/SIGINT into `should_exit`), in-flight requests get
`graceful_timeout` seconds, and the program ends with exit status 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Generator

import uvicorn

from .startup import StartupError

GRACEFUL_TIMEOUT_S = 10


class Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def make_server(app: object, *, graceful_timeout: float = GRACEFUL_TIMEOUT_S) -> Server:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=graceful_timeout,  # type: ignore[arg-type]
    )
    return Server(config)


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (0: any free port); StartupError when it cannot be bound."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say they are TCP.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except OSError as error:
        raise StartupError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except (OSError, OverflowError) as error:
        sock.close()
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def bound_port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


async def serve_until_signalled(server: Server, sock: socket.socket) -> None:
    """Serve on `sock` until SIGTERM/SIGINT (or `server.should_exit`); returns after a clean shutdown."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.should_exit:
            server.force_exit = True  # a second signal stops waiting for in-flight requests
        server.should_exit = True

    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop)
    try:
        await server.serve(sockets=[sock])
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        sock.close()


@contextlib.asynccontextmanager
async def running(app: object, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serves `app` in this event loop while the block runs (tests, in-process tools); yields its URL."""
    sock = listen(host, port)
    server = make_server(app, graceful_timeout=1)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if task.done():
            task.result()  # the server's own error
            raise RuntimeError("the server stopped before it started")
        yield f"http://{host}:{bound_port(sock)}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()
