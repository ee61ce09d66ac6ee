"""The PoCo ledger: the Chain interface and its backends."""

from __future__ import annotations

from pathlib import Path

from ..protocol.time import Clock
from .base import *  # noqa: F401,F403
from .base import Chain
from .local import LocalChain

LOCAL_SCHEME = "local:"


def connect(url: str, clock: Clock | None = None) -> Chain:
    """Opens the ledger a chain URL names: `local:/abs/path/chain.db` (an existing LocalChain file) or
    `evm:http://HOST:PORT#0xLEDGER` (the PocoLedger contract at that address, through that node).

    Raises ValueError for any other URL, FileNotFoundError if the file does not exist.
    """
    if isinstance(url, str) and url.startswith("evm:"):
        from .evm import EvmChain, parse_url  # imported here: web3 and the compiler only for EVM users

        rpc_url, ledger = parse_url(url)
        return EvmChain(rpc_url, ledger, clock)
    if not isinstance(url, str) or not url.startswith(LOCAL_SCHEME):
        raise ValueError(
            f"unsupported chain URL {url!r}: expected local:/absolute/path/to/chain.db or evm:http://HOST:PORT#0xLEDGER"
        )
    path = Path(url[len(LOCAL_SCHEME) :])
    if not path.is_absolute():
        raise ValueError(f"chain URL {url!r} must hold an absolute path, as in local:/absolute/path/to/chain.db")
    return LocalChain(path, clock)
