"""App bundles: download, verify, extract safely, cache by checksum (docs/contracts.md "App bundles").

A bundle is a `.tar.gz` of a directory holding `app.json` (`{"name": …, "entrypoint": [argv…]}`)
and the app's files. Extraction refuses anything that could write or point outside the bundle:
absolute names, `..`, links leaving the bundle, device files and FIFOs, and archives larger than the
configured limits. The tarfile "data" filter runs as well, as a second line of defence.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..protocol.crypto import sha256_hex
from .downloads import Downloader, DownloadError

MAX_MEMBERS = 20_000
APP_JSON = "app.json"


class BundleError(Exception):
    """The bundle cannot be used; the message says why (checksum, unsafe member, app.json …)."""


@dataclass(frozen=True)
class AppBundle:
    root: Path  # the directory holding app.json; the app's working directory (/app in the sandbox)
    name: str
    entrypoint: tuple[str, ...]


def _clean_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def _inside(path: str) -> bool:
    """A relative archive path that stays inside the bundle once normalized."""
    if path.startswith("/"):
        return False
    normalized = posixpath.normpath(path)
    return normalized != ".." and not normalized.startswith("../")


def check_member(member: tarfile.TarInfo, regular_files: set[str]) -> None:
    """Raise BundleError if extracting `member` could escape the bundle or create a special file."""
    raw = member.name
    name = _clean_name(raw)
    if raw.startswith("/") or (name and posixpath.isabs(name)):
        raise BundleError(f"unsafe bundle member {raw!r}: absolute path")
    if ".." in name.split("/"):
        raise BundleError(f"unsafe bundle member {raw!r}: '..' in path")
    if member.isdir() or member.isreg():
        return
    if member.issym():
        target = member.linkname
        if target.startswith("/"):
            raise BundleError(f"unsafe bundle member {raw!r}: symlink to absolute path {target!r}")
        if not _inside(posixpath.join(posixpath.dirname(name), target)):
            raise BundleError(f"unsafe bundle member {raw!r}: symlink {target!r} points outside the bundle")
        return
    if member.islnk():
        target = _clean_name(member.linkname)
        if member.linkname.startswith("/") or not _inside(target):
            raise BundleError(f"unsafe bundle member {raw!r}: hard link {member.linkname!r} points outside the bundle")
        if target not in regular_files:
            raise BundleError(
                f"unsafe bundle member {raw!r}: hard link to {member.linkname!r}, not a file of the bundle"
            )
        return
    kind = "device file" if (member.ischr() or member.isblk()) else "FIFO" if member.isfifo() else "special member"
    raise BundleError(f"unsafe bundle member {raw!r}: {kind}")


def safe_extract(archive: bytes, destination: Path, max_extracted_bytes: int) -> None:
    """Extract a (gzipped) tar into `destination`, refusing unsafe members and oversize content."""
    try:
        tar = tarfile.open(fileobj=io.BytesIO(archive), mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BundleError(f"not a tar archive: {error}") from error
    with tar:
        members: list[tarfile.TarInfo] = []
        regular_files: set[str] = set()
        total = 0
        try:
            # Check while iterating: a member that declares a huge size is refused before the
            # decompressor has to skip over its content.
            for member in tar:
                check_member(member, regular_files)
                if member.isreg():
                    total += member.size
                    regular_files.add(_clean_name(member.name))
                if total > max_extracted_bytes:
                    raise BundleError(f"bundle content exceeds {max_extracted_bytes} bytes")
                members.append(member)
                if len(members) > MAX_MEMBERS:
                    raise BundleError(f"bundle has more than {MAX_MEMBERS} members")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise BundleError(f"corrupt tar archive: {error}") from error
        destination.mkdir(parents=True, exist_ok=True)
        try:
            tar.extractall(destination, members=members, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise BundleError(f"cannot extract the bundle: {error}") from error
    _normalize_modes(destination)


def _normalize_modes(root: Path) -> None:
    """Readable (and traversable) by any uid, writable by none but the owner: apps may run as nobody."""
    for directory, _, filenames in os.walk(root):
        os.chmod(directory, 0o755)
        for filename in filenames:
            path = os.path.join(directory, filename)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode):
                os.chmod(path, 0o755 if mode & 0o111 else 0o644)


def load_app(extracted: Path) -> AppBundle:
    """The bundle's app.json, at the top or inside a single top-level directory."""
    root = extracted
    if not (root / APP_JSON).exists():
        entries = [entry for entry in extracted.iterdir()]
        if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
            root = entries[0]
    app_json = root / APP_JSON
    if app_json.is_symlink() or not app_json.is_file():
        raise BundleError("the bundle has no app.json file at its top")
    try:
        spec = json.loads(app_json.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"app.json is not valid JSON: {error}") from error
    if not isinstance(spec, dict):
        raise BundleError("app.json must be a JSON object")
    entrypoint = spec.get("entrypoint")
    if (
        not isinstance(entrypoint, list)
        or not entrypoint
        or not all(isinstance(arg, str) for arg in entrypoint)
        or not entrypoint[0]
    ):
        raise BundleError('app.json needs a non-empty "entrypoint" list of strings')
    return AppBundle(root=root, name=str(spec.get("name") or ""), entrypoint=tuple(entrypoint))


def _cache_key(checksum: str) -> str:
    key = checksum.lower()
    key = key[2:] if key.startswith("0x") else key
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise BundleError(f"invalid app checksum {checksum!r}")
    return key


class BundleCache:
    """Verified, extracted bundles under `<workdir>/bundles/<sha256>/`, shared by tasks."""

    def __init__(self, root: Path, downloader: Downloader, max_bytes: int, max_extracted_bytes: int) -> None:
        self.root = root
        self.downloader = downloader
        self.max_bytes = max_bytes
        self.max_extracted_bytes = max_extracted_bytes
        self._locks: dict[str, asyncio.Lock] = {}

    def cached(self, checksum: str) -> AppBundle | None:
        try:
            directory = self.root / _cache_key(checksum)
        except BundleError:
            return None
        if not directory.is_dir():
            return None
        try:
            return load_app(directory)
        except BundleError:
            return None

    async def get(self, url: str, checksum: str) -> tuple[AppBundle, bool]:
        """(bundle, served from cache). Raises BundleError with the root cause."""
        key = _cache_key(checksum)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self.cached(checksum)
            if cached is not None:
                return cached, True
            try:
                archive = await self.downloader.fetch(url, self.max_bytes)
            except DownloadError as error:
                raise BundleError(str(error)) from error
            found = sha256_hex(archive)
            if found != "0x" + key:
                raise BundleError(f"bundle checksum mismatch for {url}: expected 0x{key}, found {found}")
            await asyncio.to_thread(self._install, archive, key)
            bundle = self.cached(checksum)
            if bundle is None:  # _install checked app.json; only a concurrent deletion gets here
                raise BundleError("the bundle vanished from the cache")
            return bundle, False

    def _install(self, archive: bytes, key: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=self.root))
        try:
            safe_extract(archive, staging, self.max_extracted_bytes)
            load_app(staging)
            os.chmod(staging, 0o755)
            try:
                os.rename(staging, self.root / key)
            except OSError:
                if not (self.root / key).is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
