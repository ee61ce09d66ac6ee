"""App bundles: a directory (or a .tar.gz of one) holding app.json and the app's files.

`pack` makes a byte-for-byte reproducible .tar.gz, so the same directory always gets the same
sha256 — the checksum registered on chain and checked by every worker.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ..protocol.crypto import sha256_hex
from ..protocol.tee import SIM_FRAMEWORK, EnclaveConfig, bundle_fingerprint
from .errors import BadInput

MAX_BUNDLE_BYTES = 200 * 1024 * 1024
SIM_VERSION = "tee-sim-1"


@dataclass(frozen=True)
class Bundle:
    name: str
    entrypoint: list[str]
    archive: bytes

    @property
    def checksum(self) -> str:
        return sha256_hex(self.archive)

    def files(self) -> list[tuple[str, bytes]]:
        """The bundle's regular files (path relative to its root, bytes), as a worker extracts them."""
        found = []
        with tarfile.open(fileobj=io.BytesIO(self.archive), mode="r:gz") as tar:
            for member in tar.getmembers():
                if member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    found.append((member.name.removeprefix("./"), extracted.read()))
        return found

    def enclave_config(self, heap_bytes: int) -> EnclaveConfig:
        """The app's tee-sim enclave configuration: its on-chain mrenclave (docs/tee.md)."""
        return EnclaveConfig(
            SIM_FRAMEWORK, SIM_VERSION, " ".join(self.entrypoint), heap_bytes, bundle_fingerprint(self.files())
        )


def validate_manifest(raw: bytes, where: str) -> tuple[str, list[str]]:
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadInput(f"{where}: app.json is not valid JSON ({error})") from error
    if not isinstance(manifest, dict):
        raise BadInput(f"{where}: app.json must be a JSON object")
    name = manifest.get("name")
    entrypoint = manifest.get("entrypoint")
    if not isinstance(name, str) or not name.strip():
        raise BadInput(f'{where}: app.json needs a non-empty "name" string')
    if not (isinstance(entrypoint, list) and entrypoint and all(isinstance(a, str) and a for a in entrypoint)):
        raise BadInput(f'{where}: app.json needs an "entrypoint" list of strings, e.g. ["python3", "app.py"]')
    return name.strip(), entrypoint


def pack(directory: Path) -> Bundle:
    """Reproducible .tar.gz of `directory`: sorted entries, zero times and owners, no links out."""
    directory = directory.resolve()
    manifest = directory / "app.json"
    if not manifest.is_file():
        raise BadInput(f"{directory}: not an app bundle (no app.json in it)")
    name, entrypoint = validate_manifest(manifest.read_bytes(), str(directory))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(_walk(directory)):
                relative = path.relative_to(directory).as_posix()
                info = tarfile.TarInfo(relative)
                info.mtime = 0
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if path.is_dir():
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                else:
                    data = path.read_bytes()
                    info.size = len(data)
                    info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                    tar.addfile(info, io.BytesIO(data))
    archive = buffer.getvalue()
    if len(archive) > MAX_BUNDLE_BYTES:
        raise BadInput(f"{directory}: bundle is {len(archive)} bytes, more than the {MAX_BUNDLE_BYTES} allowed")
    return Bundle(name=name, entrypoint=entrypoint, archive=archive)


def _walk(directory: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".git")]
        for entry in dirs + files:
            path = Path(root) / entry
            if path.is_symlink():
                target = path.resolve()
                if directory not in target.parents and target != directory:
                    raise BadInput(f"{path}: symbolic link leaves the bundle directory")
            found.append(path)
    return found


def load(path: Path) -> Bundle:
    """A bundle from a directory, or from a .tar.gz that holds app.json at its top."""
    if path.is_dir():
        return pack(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file or directory")
    archive = path.read_bytes()
    if len(archive) > MAX_BUNDLE_BYTES:
        raise BadInput(f"{path}: bundle is larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            member = next((m for m in tar.getmembers() if m.name.lstrip("./") == "app.json"), None)
            if member is None or not member.isfile():
                raise BadInput(f"{path}: the archive has no app.json at its top")
            extracted = tar.extractfile(member)
            assert extracted is not None
            name, entrypoint = validate_manifest(extracted.read(), str(path))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BadInput(f"{path}: not a readable .tar.gz ({error})") from error
    return Bundle(name=name, entrypoint=entrypoint, archive=archive)
