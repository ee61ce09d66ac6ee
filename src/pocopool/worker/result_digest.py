"""The result digest of a task's output folder (spec/worker.md §6.7), read from the files.

`deterministic-output-path` in computed.json is a path inside the app's view (`/iexec_out/...`);
it is mapped to `<task>/output/iexec_out/...`. Nothing outside iexec_out is ever read: a path with
`..`, or a symlink leading out of the folder, is refused (the app wrote those files, the worker must
not be tricked into hashing — or leaking the hash of — its own files).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..protocol.crypto import InvalidHex
from ..protocol.digest import callback_digest, file_digest, folder_digest

CONTAINER_OUT = "/iexec_out"


class DigestError(Exception):
    """No digest can be computed; the message says why."""


@dataclass(frozen=True)
class ComputedFile:
    deterministic_output_path: str | None
    callback_data: str | None
    error_message: str | None

    @classmethod
    def parse(cls, raw: bytes) -> ComputedFile:
        try:
            data: Any = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DigestError(f"computed.json is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise DigestError("computed.json must be a JSON object")

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return cls(text("deterministic-output-path"), text("callback-data"), text("error-message"))


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_output_path(iexec_out: Path, deterministic_path: str | None) -> Path:
    """The host path of `/iexec_out/...`, guaranteed to be inside iexec_out."""
    if not deterministic_path:
        raise DigestError("computed.json has no deterministic-output-path")
    if deterministic_path != CONTAINER_OUT and not deterministic_path.startswith(CONTAINER_OUT + "/"):
        raise DigestError(f"deterministic-output-path {deterministic_path!r} is not under {CONTAINER_OUT}")
    relative = deterministic_path[len(CONTAINER_OUT):].strip("/")
    if ".." in relative.split("/"):
        raise DigestError(f"deterministic-output-path {deterministic_path!r} contains '..'")
    root = iexec_out.resolve()
    target = (iexec_out / relative) if relative else iexec_out
    real = target.resolve()
    if not _within(real, root):
        raise DigestError(f"deterministic-output-path {deterministic_path!r} leads outside {CONTAINER_OUT}")
    if not real.exists():
        raise DigestError(f"deterministic-output-path {deterministic_path!r} does not exist")
    return real


def _child_bytes(child: Path, root: Path) -> bytes | None:
    """A direct child's bytes; a folder (or a link leading out of iexec_out) adds nothing."""
    real = child.resolve()
    if not _within(real, root) or not real.is_file():
        return None
    return real.read_bytes()


def web2_digest(iexec_out: Path, deterministic_path: str | None) -> str:
    target = resolve_output_path(iexec_out, deterministic_path)
    root = iexec_out.resolve()
    try:
        if target.is_file():
            return file_digest(target.read_bytes())
        children = [(os.fspath(child), _child_bytes(child, root)) for child in target.iterdir()]
    except OSError as error:
        raise DigestError(f"cannot read {deterministic_path}: {error}") from error
    return folder_digest(children)


def compute_digest(iexec_out: Path, computed: ComputedFile, has_callback: bool) -> str:
    """keccak(callback-data) for a callback deal, else the web2 digest of the deterministic output."""
    if has_callback:
        if not computed.callback_data:
            raise DigestError("the deal has a callback but computed.json has no callback-data")
        try:
            return callback_digest(computed.callback_data)
        except InvalidHex as error:
            raise DigestError(f"callback-data is not hex: {error}") from error
    return web2_digest(iexec_out, computed.deterministic_output_path)
