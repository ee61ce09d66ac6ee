"""The result digest of a task's output folder on disk (spec/worker.md §6.7).

The rule is `protocol.digest.result_digest`, shared with the result store; this module only reads
`<task>/output/iexec_out` for it. Links are never followed (the app wrote them; the worker must not
be tricked into hashing — or leaking the hash of — its own files): the rule sees a link as a link,
as the result zip holds it (an empty file).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ..protocol.digest import ComputedFile, DigestError, EntryKind, result_digest

_CHUNK = 1024 * 1024


class FolderFiles:
    """A `protocol.digest.ResultFiles` over an iexec_out folder on disk."""

    def __init__(self, iexec_out: Path) -> None:
        self.root = iexec_out

    def _host(self, path: str) -> Path:
        return self.root / path if path else self.root

    def kind(self, path: str) -> EntryKind | None:
        try:
            mode = os.lstat(self._host(path)).st_mode
        except FileNotFoundError:
            return None
        except OSError as error:
            raise DigestError(f"cannot read /iexec_out/{path}: {error}") from error
        if stat.S_ISLNK(mode):
            return "link"
        return "folder" if stat.S_ISDIR(mode) else "file"

    def children(self, folder: str) -> Iterator[str]:
        prefix = f"{folder}/" if folder else ""
        try:
            names = [entry.name for entry in os.scandir(self._host(folder))]
        except OSError as error:
            raise DigestError(f"cannot list /iexec_out/{folder}: {error}") from error
        return (prefix + name for name in names)

    def file_sha256(self, path: str) -> bytes:
        digest = hashlib.sha256()
        host = self._host(path)
        try:
            if not stat.S_ISREG(os.lstat(host).st_mode):  # a fifo or device: an empty entry in the zip
                return digest.digest()
            with open(host, "rb") as source:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
        except OSError as error:
            raise DigestError(f"cannot read /iexec_out/{path}: {error}") from error
        return digest.digest()


def compute_digest(iexec_out: Path, computed: ComputedFile, has_callback: bool) -> str:
    """keccak(callback-data) for a callback deal, else the digest of the deterministic output."""
    return result_digest(computed, FolderFiles(iexec_out), callback=has_callback)
