"""Secrets at rest: AES-256-GCM under the SMS master key (`<home>/master.key`, 32 random bytes, 0600).

Each ciphertext is bound to what it is (its "context", e.g. `secret/dataset/0x…/key`) as associated
data, so a value copied to another row of the database does not decrypt there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_FILE = "master.key"
KEY_BYTES = 32
NONCE_BYTES = 12


class VaultError(ValueError):
    """The master key file is unusable, or a ciphertext does not open under it."""


def load_or_create_master_key(home: Path) -> bytes:
    """The master key of this SMS home, created (0600, never overwritten) at first start."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / MASTER_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise VaultError(f"{path} is readable by others (mode {mode:o}); make it 0600") from None
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise VaultError(
                f"{path} is damaged: it holds {len(key)} bytes, not a {KEY_BYTES}-byte key; restore it "
                "from a backup (without it no stored secret can be read); it was left as it is"
            ) from None
        return key
    key = os.urandom(KEY_BYTES)
    with os.fdopen(fd, "wb") as file:
        file.write(key)
    return key


class Vault:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise VaultError(f"the master key must be {KEY_BYTES} bytes")
        self._aes = AESGCM(master_key)

    def encrypt(self, context: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aes.encrypt(nonce, plaintext, context.encode())

    def decrypt(self, context: str, ciphertext: bytes) -> bytes:
        try:
            return self._aes.decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], context.encode())
        except Exception as error:  # noqa: BLE001 - any failure: wrong key, tampered or moved row
            raise VaultError(f"a stored value ({context}) does not open under this master key") from error
