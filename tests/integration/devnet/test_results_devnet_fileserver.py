"""The devnet file server over real HTTP: files under its folder, nothing outside it."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pocopool.devnet.fileserver import create_app
from pocopool.service.server import running as serving


def raw_get(base_url: str, path: str) -> int:
    """GET with the path sent byte for byte (httpx would normalize the dot segments)."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "files"
    (root / "bundles").mkdir(parents=True)
    (root / "bundles" / "abc.tar.gz").write_bytes(b"\x1f\x8b bundle bytes")
    (root / "datasets" / "0x12").mkdir(parents=True)
    (root / "datasets" / "0x12" / "text.txt").write_text("one two three\n")
    (tmp_path / "secret.txt").write_text("keys")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    return root


async def test_files_are_served_at_their_relative_path(files: Path) -> None:
    async with serving(create_app(files)) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        bundle = await client.get("/bundles/abc.tar.gz")
        assert bundle.status_code == 200 and bundle.content == b"\x1f\x8b bundle bytes"
        head = await client.head("/datasets/0x12/text.txt")
        assert head.status_code == 200 and head.headers["content-length"] == "14"
        assert (await client.get("/datasets/0x12/text.txt")).text == "one two three\n"


async def test_missing_files_and_folders_are_404(files: Path) -> None:
    async with serving(create_app(files)) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/bundles/missing.tar.gz")).status_code == 404
        assert (await client.get("/bundles/")).status_code == 404
        assert (await client.get("/datasets")).status_code == 404


async def test_paths_leaving_the_folder_are_refused(files: Path) -> None:
    async with serving(create_app(files)) as url:
        for path in [
            "/../secret.txt",
            "/bundles/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/..%2fsecret.txt",
            "/bundles/%2e%2e%2f%2e%2e%2fsecret.txt",
            "/escape.txt",
            "//etc/passwd",
            "/%2fetc/passwd",
        ]:
            status = await asyncio.to_thread(raw_get, url, path)
            assert status in (400, 404), path


async def test_only_get_and_head_are_allowed(files: Path) -> None:
    async with serving(create_app(files)) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.put("/bundles/abc.tar.gz", content=b"x")).status_code == 405
    assert (files / "bundles" / "abc.tar.gz").read_bytes() == b"\x1f\x8b bundle bytes"


def test_the_command_serves_and_stops_cleanly_on_sigterm(files: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "pocopool.devnet.fileserver", "--dir", str(files), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/bundles/abc.tar.gz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()
                time.sleep(0.05)
        assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
