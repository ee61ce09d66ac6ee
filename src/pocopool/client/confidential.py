"""The requester's files for confidential tasks: an encrypted dataset with its key file, and the
opening of an encrypted result with the beneficiary's private key (spec/worker.md §10).

Files only, no network: pushing a key to the SMS is the SDK's job.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..protocol import encryption
from .errors import BadInput, ClientError
from .files import existing_file, folder_to_fill

MAX_DATASET_BYTES = 1024 * 2**20


@dataclass(frozen=True)
class EncryptedDataset:
    encrypted_file: Path
    key_file: Path
    checksum: str  # 0x sha256 of the encrypted bytes: the on-chain checksum

    def to_json(self) -> dict[str, str]:
        return {"encryptedFile": str(self.encrypted_file), "keyFile": str(self.key_file), "checksum": self.checksum}


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with `mode`; never overwrite (an existing key may be the only copy)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise BadInput(f"{path} already exists: remove it or choose another --out folder") from None
    except OSError as error:
        raise BadInput(f"cannot write {path}: {error.strerror}") from None
    with os.fdopen(fd, "wb") as sink:
        sink.write(data)


def encrypt_dataset_file(path: Path, out_dir: Path | None = None) -> EncryptedDataset:
    """FILE → FILE.enc (IV ‖ AES-256-CBC) and FILE.key (base64 key, mode 0600), in `out_dir` or beside FILE."""
    existing_file(path, "a dataset")
    if path.stat().st_size > MAX_DATASET_BYTES:
        raise BadInput(f"{path} is larger than {MAX_DATASET_BYTES // 2**20} MiB")
    folder = folder_to_fill(out_dir if out_dir is not None else path.parent, "FILE.enc and FILE.key")
    folder.mkdir(parents=True, exist_ok=True)
    encrypted_file, key_file = folder / f"{path.name}.enc", folder / f"{path.name}.key"
    for target in (encrypted_file, key_file):
        if target.exists():
            raise BadInput(f"{target} already exists: remove it or choose another --out folder")
    encrypted, key = encryption.encrypt_dataset(path.read_bytes())
    write_new(key_file, (key + "\n").encode(), 0o600)
    write_new(encrypted_file, encrypted, 0o644)
    return EncryptedDataset(encrypted_file, key_file, encryption.dataset_checksum(encrypted))


def _read_key(path: Path, check: Callable[[str], object]) -> str:
    """A key file's text, checked by `check` (an EncryptionError becomes a one-line BadInput)."""
    try:
        text = path.read_text()
    except OSError as error:
        raise BadInput(f"cannot read the key file {path}: {error.strerror}") from None
    try:
        check(text)
    except encryption.EncryptionError as error:
        raise BadInput(f"{path}: {error}") from None
    return text


def read_dataset_key(path: Path) -> str:
    """The base64 key of a FILE.key, checked before anything is deployed."""
    return _read_key(path, encryption.decode_dataset_key).strip()


def read_private_key(path: Path) -> str:
    """The beneficiary's private key (PEM), checked before anything is downloaded."""
    return _read_key(path, encryption.parse_private_pem)


def open_result(archive: bytes, private_pem: str) -> bytes:
    """The plain result zip inside an encrypted result archive; a one-line error otherwise."""
    try:
        return encryption.decrypt_result(archive, private_pem)
    except encryption.EncryptionError as error:
        raise ClientError(f"cannot decrypt the result: {error}") from None
