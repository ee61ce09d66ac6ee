"""The result store: keeps each task's result zip and serves it to the deal's beneficiary.

The HTTP contract is docs/contracts.md "Result store HTTP API". `auth` holds the signature scheme
(both sides of it, so clients mirror it exactly), `archive` the zip checks and the digest
recomputation, `store` the files on disk, `http` the FastAPI application (one router per concept),
`context` what its routes share, `uploads` a worker's upload, `inputs` the request readers; `tee` and
`tokens` the TEE path (bearer tokens for enclave uploads, docs/tee.md). Importing
`pocopool.results.auth` alone does not load the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .http import create_app
    from .store import AlreadyStored, ResultStore

__all__ = ["AlreadyStored", "ResultStore", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .http import create_app

        return create_app
    if name in ("AlreadyStored", "ResultStore"):
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
