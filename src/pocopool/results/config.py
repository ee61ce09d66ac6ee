"""The result store's settings: each field with its command-line option, once (service/config.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..service.config import absolute_path, http_url, port_number, setting


@dataclass(frozen=True, kw_only=True)
class ResultStoreConfig:
    data_dir: Path = setting(
        "--data-dir", read=absolute_path, help="where result zips (and the TEE token secret) are kept"
    )
    port: int = setting("--port", read=port_number, help="port to listen on (0: any free port)")
    host: str = setting("--host", default="127.0.0.1", help="address to listen on")
    public_url: str | None = setting(
        "--public-url", default=None, read=http_url, help="base URL put in result links (default http://HOST:PORT)"
    )

    def url_for(self, port: int) -> str:
        """The public base URL, once the port is bound."""
        return self.public_url or f"http://{self.host}:{port}"
