"""The SMS's settings: each field with its command-line option, once (service/config.py)."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from ..protocol.crypto import InvalidHex, normalize_address
from ..protocol.tee import Stage
from ..service.config import absolute_path, http_url, port_number, setting


def _address(value: str) -> str:
    try:
        return normalize_address(value)
    except InvalidHex:
        raise argparse.ArgumentTypeError(f"{value!r} is not an address (0x followed by 40 hex digits)") from None


def _measurement(value: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a measurement (64 hex digits)")
    return value.lower()


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

    pre_compute_measurement: str = setting(
        "--pre-compute-measurement",
        read=_measurement,
        help="the measurement (64 hex) a pre-compute enclave must report to be provisioned; the devnet pins tee-sim's",
    )
    post_compute_measurement: str = setting(
        "--post-compute-measurement",
        read=_measurement,
        help="the measurement (64 hex) a post-compute enclave must report to be provisioned",
    )

    def __post_init__(self) -> None:
        if not self.trusted_platforms:
            raise ValueError(
                "give at least one --trust-platform ADDRESS (an SMS that trusts no platform serves no one)"
            )

    @property
    def programs(self) -> dict[Stage, str]:
        """The pinned measurement of each enclave program the SMS provisions besides the app."""
        return {Stage.PRE: self.pre_compute_measurement, Stage.POST: self.post_compute_measurement}

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{self.home / 'sms.db'}"

    def url_for(self, port: int) -> str:
        """The public base URL, once the port is bound."""
        return self.public_url or f"http://{self.host}:{port}"
