"""An HTTP host for the e2e tests that a tee-sim stage may meet: `GET /missing` is 404, and `GET /silent`
and any PUT are held open, unanswered, until the host stops (a data host or a result store that never
answers); any POST (e.g. a result-store token request) is 404 at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server: _Host

    def _answer(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _hold(self) -> None:
        self.server.released.wait()
        self._answer(503)

    def do_GET(self) -> None:  # noqa: N802 (http.server's spelling)
        self._hold() if self.path == "/silent" else self._answer(404)

    def do_PUT(self) -> None:  # noqa: N802
        self._hold()

    def do_POST(self) -> None:  # noqa: N802
        self._answer(404)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Host(ThreadingHTTPServer):
    daemon_threads = True
    released = threading.Event()


@contextmanager
def silent_host() -> Iterator[str]:
    """The host's base URL (http://127.0.0.1:PORT) while it runs."""
    host = _Host(("127.0.0.1", 0), _Handler)
    host.released = threading.Event()
    thread = threading.Thread(target=host.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{host.server_address[1]}"
    finally:
        host.released.set()
        host.shutdown()
        host.server_close()
        thread.join(timeout=10)
