"""Fetching bundles, datasets and input files over HTTP, with size limits and the root cause kept.

Errors read like `404 GET http://host/file: not found` so that the replicate's errorMessage tells
the requester exactly what failed. Transport errors and 5xx are retried twice, 1 s then 2 s apart.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlparse

import httpx

RETRIES = 2


class DownloadError(Exception):
    """The resource could not be fetched; the message carries status, method and URL."""


class Downloader:
    def __init__(self, timeout: float = 60.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0), follow_redirects=True, transport=transport
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The client without scheduler credentials, for other plain HTTP calls (result upload)."""
        return self._http

    async def close(self) -> None:
        await self._http.aclose()

    async def fetch(self, url: str, max_bytes: int) -> bytes:
        """The whole body; raises DownloadError for a bad URL, an error status or a too large body."""
        scheme = urlparse(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise DownloadError(f"unsupported URL {url!r}: only http(s) URLs can be downloaded")
        last: DownloadError | None = None
        for attempt in range(RETRIES + 1):
            if attempt:
                await asyncio.sleep(attempt)
            try:
                return await self._fetch_once(url, max_bytes)
            except _Retryable as error:
                last = DownloadError(str(error))
        assert last is not None
        raise last

    async def _fetch_once(self, url: str, max_bytes: int) -> bytes:
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code >= 500:
                    body = (await response.aread())[:300].decode(errors="replace")
                    raise _Retryable(f"{response.status_code} GET {url}: {body.strip()}")
                if response.status_code != 200:
                    body = (await response.aread())[:300].decode(errors="replace")
                    raise DownloadError(f"{response.status_code} GET {url}: {body.strip()}")
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise DownloadError(f"GET {url}: {declared} bytes is more than the {max_bytes} allowed")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadError(f"GET {url}: body larger than the {max_bytes} bytes allowed")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TransportError as error:
            raise _Retryable(f"GET {url}: {type(error).__name__} {error}") from error


class _Retryable(DownloadError):
    pass


def write_file(path: Path, content: bytes) -> None:
    """A downloaded input: readable by the app whatever uid it runs as."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o755)
    path.write_bytes(content)
    path.chmod(0o644)
