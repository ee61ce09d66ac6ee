"""A task's iexec_out folder on disk, as the standard post-compute (the worker's) and an enclave's
post-compute (tee-sim's) both read it: the result digest (spec/worker.md §6.7), the file-name check
and the deterministic zip (§6.6).

The digest rule is `protocol.digest.result_digest`, shared with the result store; this module only
reads the folder for it. Links are never followed (the app wrote them; no post-compute must be
tricked into hashing — or leaking the hash of — files outside iexec_out): the rule sees a link as a
link, as the result zip holds it (an empty file). The zip is deterministic — entries relative to
iexec_out, sorted, no directory entries, fixed timestamps and modes — so that the same outputs always
give the same zip bytes.

A leaf module at the package root, like `logs`: it imports `protocol` only, so that the worker and an
enclave platform (which must not import each other, decision 102) share one implementation.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

from .protocol.digest import (
    MAX_RESULT_FILE_NAME,
    ComputedFile,
    DigestError,
    EntryKind,
    digest_and_files,
    result_digest,
)

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
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


def compute_digest_and_files(
    iexec_out: Path, computed: ComputedFile, has_callback: bool
) -> tuple[str, dict[str, str] | None]:
    """`compute_digest`, and the sha256 of each file it read (`protocol.digest.digest_and_files`)."""
    return digest_and_files(computed, FolderFiles(iexec_out), callback=has_callback)


def too_long_names(iexec_out: Path) -> list[str]:
    """Relative paths of files whose name is longer than 31 characters."""
    found = []
    for directory, _, filenames in os.walk(iexec_out):
        for filename in filenames:
            if len(filename) > MAX_RESULT_FILE_NAME:
                found.append(os.path.relpath(os.path.join(directory, filename), iexec_out))
    return sorted(found)


def zip_folder(folder: Path, archive: Path) -> None:
    """Zip `folder` into `archive` deterministically; symlinks become empty entries (as the reference)."""
    entries: list[tuple[str, Path]] = []
    for directory, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for dirname in dirnames:
            if (Path(directory) / dirname).is_symlink():  # os.walk lists links to folders as folders
                path = Path(directory) / dirname
                entries.append((path.relative_to(folder).as_posix(), path))
        for filename in filenames:
            path = Path(directory) / filename
            entries.append((path.relative_to(folder).as_posix(), path))
    entries.sort(key=lambda entry: entry[0])
    partial = archive.with_name(archive.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            content = b"" if path.is_symlink() or not path.is_file() else path.read_bytes()
            out.writestr(info, content)
    os.replace(partial, archive)
