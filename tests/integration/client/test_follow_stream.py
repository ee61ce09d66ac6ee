"""`follow` reads the view again as soon as an event arrives (client/follow.py), not at the next line
of the stream: `task show --watch` reported COMPLETED one heartbeat late (issue 17.6).

A real HTTP server streams one event right after the connection, then nothing until the follower
has read the final view (or 10 s): a follower that waits for another line before reading the view
makes the server give up and send a heartbeat, which the test sees."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pocopool.client.follow import follow

GIVE_UP = 10.0


class Stream:
    def __init__(self) -> None:
        self.final_read = threading.Event()
        self.heartbeats_needed = 0


@pytest.fixture
def server() -> Iterator[tuple[str, Stream]]:
    stream = Stream()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b'id: 1-1\nevent: task\ndata: {"status": "COMPLETED"}\n\n')
            self.wfile.flush()
            while not stream.final_read.wait(GIVE_UP):
                stream.heartbeats_needed += 1
                self.wfile.write(b": heartbeat\n\n")
                self.wfile.flush()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", stream
    finally:
        stream.final_read.set()
        httpd.shutdown()
        httpd.server_close()


def test_the_view_is_read_again_when_the_event_arrives_not_at_the_next_heartbeat(server: tuple[str, Stream]) -> None:
    url, stream = server
    reads: list[str] = []

    def fetch() -> str:
        # Non-final until the stream's connection was made (the first two reads), final after.
        status = "RUNNING" if len(reads) < 2 else "COMPLETED"
        reads.append(status)
        if status == "COMPLETED":
            stream.final_read.set()
        return status

    seen: list[str] = []
    final = follow(url, {"task": "0x" + "11" * 32}, fetch, lambda s: s == "COMPLETED", seen.append, timeout=60)
    assert final == "COMPLETED" and seen == ["RUNNING", "RUNNING", "COMPLETED"]
    assert stream.heartbeats_needed == 0
