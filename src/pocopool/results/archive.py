"""Reading an uploaded result zip safely and recomputing its result digest (spec/worker.md §6.6–6.7).

The zip holds the task's iexec_out folder: entries are paths relative to it, with no top folder.
The store never extracts it; it reads every entry once (so a corrupt or truncated zip is refused),
within limits on the entry count and the uncompressed size (so a zip bomb costs nothing), and
recomputes the digest the workers voted on with the workers' own rule, `protocol.digest.result_digest`.
"""

from __future__ import annotations

import hashlib
import io
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ..protocol.digest import COMPUTED_FILE, ComputedFile, DigestError, EntryKind, output_relative_path, result_digest

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_UNCOMPRESSED = 1024 * 1024 * 1024  # 1 GiB
MAX_COMPUTED_FILE = 1024 * 1024  # computed.json is a few hundred bytes; 1 MiB is generous
_CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


class InvalidArchive(ValueError):
    """The upload is not a zip the store accepts; the message says why, in one sentence."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_uncompressed: int = DEFAULT_MAX_UNCOMPRESSED


DigestSource = Literal["callback", "file", "folder", "absent"]


@dataclass(frozen=True)
class ArchiveDigest:
    """The digest recomputed from a zip and what it was computed from.

    `source` "absent" means the deterministic path names nothing in the zip: it can only be an
    empty folder (the worker's zip has no folder entries), whose digest is keccak of nothing.
    """

    digest: str
    source: DigestSource
    deterministic_path: str | None


@dataclass(frozen=True)
class _Entries:
    files: dict[str, bytes]  # path -> sha256 (raw 32 bytes)
    folders: set[str]  # folder paths named by entries (explicit or implied), without trailing "/"
    computed: bytes | None


def _check_name(name: str) -> tuple[str, bool]:
    """The entry's normalized path and whether it is a folder entry; refuses path tricks."""
    is_folder = name.endswith("/")
    path = name.rstrip("/") if is_folder else name
    if not path or path.startswith("/") or "\\" in path or "\x00" in path or _DRIVE.match(path):
        raise InvalidArchive(f"the zip entry {name!r} is not a plain relative path")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise InvalidArchive(f"the zip entry {name!r} has an empty, '.' or '..' path segment")
    return path, is_folder


def _read_entries(data: bytes, limits: ArchiveLimits) -> _Entries:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as error:
        raise InvalidArchive(f"the body is not a readable zip archive ({error})") from error
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise InvalidArchive(f"the zip has {len(infos)} entries, more than the {limits.max_entries} allowed")
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_uncompressed:
            raise InvalidArchive(
                f"the zip would expand to {declared} bytes, more than the {limits.max_uncompressed} allowed"
            )
        files: dict[str, bytes] = {}
        folders: set[str] = set()
        computed: bytes | None = None
        seen: set[str] = set()
        total = 0
        for info in infos:
            path, is_folder = _check_name(info.filename)
            if path in seen:
                raise InvalidArchive(f"the zip holds {path!r} twice")
            seen.add(path)
            parts = path.split("/")
            folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
            if is_folder:
                folders.add(path)
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InvalidArchive(f"the zip entry {path!r} is a symbolic link")
            if info.flag_bits & 0x1:
                raise InvalidArchive(f"the zip entry {path!r} is encrypted")
            digest = hashlib.sha256()
            keep = path == COMPUTED_FILE
            kept = bytearray()
            try:
                # zipfile stops at the declared size and checks the CRC at the end of each entry.
                with archive.open(info) as entry:
                    while chunk := entry.read(_CHUNK):
                        total += len(chunk)
                        if total > limits.max_uncompressed:
                            raise InvalidArchive(
                                f"the zip expands to more than the {limits.max_uncompressed} bytes allowed"
                            )
                        digest.update(chunk)
                        if keep:
                            kept += chunk
                            if len(kept) > MAX_COMPUTED_FILE:
                                raise InvalidArchive(f"{COMPUTED_FILE} is larger than {MAX_COMPUTED_FILE} bytes")
            except InvalidArchive:
                raise
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, ValueError, EOFError, OSError) as error:
                raise InvalidArchive(f"the zip entry {path!r} cannot be read ({error})") from error
            files[path] = digest.digest()
            if keep:
                computed = bytes(kept)
        clash = folders & files.keys()
        if clash:
            raise InvalidArchive(f"the zip holds {sorted(clash)[0]!r} both as a file and as a folder")
        return _Entries(files=files, folders=folders, computed=computed)


class _ZipFiles:
    """A `protocol.digest.ResultFiles` over the entries of a zip.

    The worker's zip has no folder entries (§6.6), so an empty folder leaves no trace: any path
    that is not a file may be one, and reads as a folder (decision 100).
    """

    def __init__(self, entries: _Entries) -> None:
        self.entries = entries

    def kind(self, path: str) -> EntryKind | None:
        return "file" if path in self.entries.files else "folder"

    def children(self, folder: str) -> Iterator[str]:
        prefix = f"{folder}/" if folder else ""
        named = self.entries.files.keys() | self.entries.folders
        return (path for path in named if path.startswith(prefix) and "/" not in path[len(prefix) :])

    def file_sha256(self, path: str) -> bytes:
        return self.entries.files[path]


def archive_digest(data: bytes, *, callback: bool, limits: ArchiveLimits | None = None) -> ArchiveDigest:
    """Check the zip `data` and recompute the result digest its computed.json designates.

    `callback` says whether the task's deal has a callback. Raises InvalidArchive.
    """
    entries = _read_entries(data, limits or ArchiveLimits())
    if entries.computed is None:
        raise InvalidArchive(f"the zip has no {COMPUTED_FILE} at its root")
    try:
        computed = ComputedFile.parse(entries.computed)
        digest = result_digest(computed, _ZipFiles(entries), callback=callback)
    except DigestError as error:
        raise InvalidArchive(str(error)) from error
    if callback:
        return ArchiveDigest(digest, "callback", None)
    relative = output_relative_path(computed.deterministic_output_path)
    source: DigestSource = (
        "file" if relative in entries.files else "folder" if relative == "" or relative in entries.folders else "absent"
    )
    return ArchiveDigest(digest, source, computed.deterministic_output_path)
