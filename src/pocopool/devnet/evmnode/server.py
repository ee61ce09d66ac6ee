"""The built-in EVM node over HTTP: JSON-RPC requests (single or batched) answered by a Node, one
thread per connection; an error is answered, never kills the node."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .node import Node, RpcError


def make_server(node: Node, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # one line per request would drown the devnet logs
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length))
            except ValueError:
                self._answer({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
                return
            if isinstance(request, list):
                self._answer([_dispatch(node, item) for item in request])
            else:
                self._answer(_dispatch(node, request))

        def _answer(self, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def _dispatch(node: Node, request: dict[str, Any]) -> dict[str, Any]:
    request_id = request.get("id")
    try:
        result = node.handle(request.get("method", ""), list(request.get("params") or []))
        return {"jsonrpc": "2.0", "id": request_id, "result": result}
    except RpcError as error:
        body: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.data is not None:
            body["data"] = error.data
        return {"jsonrpc": "2.0", "id": request_id, "error": body}
    except Exception as error:  # noqa: BLE001 - any other failure is answered, never kills the node
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {"code": -32603, "message": f"{type(error).__name__}: {error}"},
        }
