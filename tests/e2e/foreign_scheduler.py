"""A scheduler of another make, for the e2e tests of what a worker does when the scheduler leaves out
what the worker API promises (spec/worker.md): an HTTP proxy in front of a devnet's real scheduler
that forwards every request and passes every answer back, except the JSON answers of one path,
which `rewrite` changes first. A worker started with `--scheduler <proxy URL>` logs in, asks, reports
and polls through it. Like the reference, this scheduler does not hold asks for work (the proxy asks
with `timeout=0`): a held ask left open by the proxy after its worker stopped would be given the next
task, which no one would then receive."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

Rewrite = Callable[[Any], Any]
HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive", "content-encoding"}


class _Handler(BaseHTTPRequestHandler):
    server: _Proxy
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        if url.path == "/replicates/available":
            query["timeout"] = "0"
        try:
            answer = self.server.client.request(self.command, url.path, params=query, content=body, headers=headers)
        except httpx.HTTPError as error:  # the scheduler stopped, or the proxy is stopping
            self.send_error(502, f"the scheduler did not answer: {error}")
            return
        content = answer.content
        if url.path == self.server.path and answer.status_code == 200 and content:
            content = json.dumps(self.server.rewrite(answer.json())).encode()
            self.server.rewritten += 1
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815 (http.server's spelling)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str, path: str, rewrite: Rewrite) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.client = httpx.Client(base_url=target.rstrip("/"), timeout=120)
        self.path, self.rewrite, self.rewritten = path, rewrite, 0


@contextmanager
def foreign_scheduler(target: str, path: str, rewrite: Rewrite) -> Iterator[_Proxy]:
    """The proxy, serving until the block ends; its URL is `http://127.0.0.1:{proxy.server_port}`."""
    proxy = _Proxy(target, path, rewrite)
    thread = threading.Thread(target=proxy.serve_forever, name="foreign-scheduler", daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        proxy.client.close()
        thread.join(timeout=10)


def reveal_without_block(batch: dict[str, Any]) -> dict[str, Any]:
    """GET /workers/notifications: every PLEASE_REVEAL without the consensus block number."""
    for notification in batch["notifications"]:
        if notification["taskNotificationType"] == "PLEASE_REVEAL":
            notification["taskNotificationExtra"].pop("blockNumber", None)
    return batch


def recovery_without_authorization(notifications: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GET /replicates/interrupted: every request to resume without its workerpool authorization."""
    for notification in notifications:
        (notification.get("taskNotificationExtra") or {}).pop("workerpoolAuthorization", None)
    return notifications
