"""The SMS's settings: each field with its command-line option, once (service/config.py)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ..protocol.crypto import InvalidHex, normalize_address
from ..service.config import absolute_path, http_url, port_number, setting


def _address(value: str) -> str:
    try:
        return normalize_address(value)
    except InvalidHex:
        raise argparse.ArgumentTypeError(f"{value!r} is not an address (0x followed by 40 hex digits)") from None


@dataclass(frozen=True, kw_only=True)
class SmsConfig:
    home: Path = setting(
        "--home", read=absolute_path, help="the SMS's directory: master.key (created at first start, 0600) and sms.db"
    )
    db: str | None = setting(
        "--db", default=None, help="database URL (default sqlite:///HOME/sms.db; or postgresql://user@host:port/db)"
    )
    host: str = setting("--host", default="127.0.0.1", help="address to listen on")
    port: int = setting("--port", read=port_number, help="port to listen on (0: any free port)")
    public_url: str | None = setting(
        "--public-url", default=None, read=http_url, help="the URL workers reach this SMS at (default http://HOST:PORT)"
    )
    result_proxy: str = setting(
        "--result-proxy", read=http_url, help="the result store URL given to post-compute when the deal names none"
    )
    trusted_platforms: tuple[str, ...] = setting(
        "--trust-platform",
        read=_address,
        many=True,
        metavar="ADDRESS",
        help="address of a tee-sim platform key whose quotes are trusted (repeatable, at least one)",
    )

    def __post_init__(self) -> None:
        if not self.trusted_platforms:
            raise ValueError(
                "give at least one --trust-platform ADDRESS (an SMS that trusts no platform serves no one)"
            )

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{self.home / 'sms.db'}"

    def url_for(self, port: int) -> str:
        """The public base URL, once the port is bound."""
        return self.public_url or f"http://{self.host}:{port}"
