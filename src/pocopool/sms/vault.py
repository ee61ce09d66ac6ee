"""Secrets at rest: AES-256-GCM under the SMS master key (`<home>/master.key`, 32 random bytes, 0600).

Each ciphertext is bound to what it is (its "context", e.g. `secret/dataset/0x…/key`) as associated
data, so a value copied to another row of the database does not decrypt there.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..service.secrets import load_or_create_secret

MASTER_KEY_FILE = "master.key"
KEY_BYTES = 32
NONCE_BYTES = 12


class VaultError(ValueError):
    """The master key file is unusable, or a ciphertext does not open under it."""


def load_or_create_master_key(home: Path) -> bytes:
    """The master key of this SMS home, created (0600, never overwritten) at first start; without it
    no stored secret can be read (service/secrets.py says so when the file is damaged)."""
    return load_or_create_secret(home / MASTER_KEY_FILE, KEY_BYTES, "the SMS master key")


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
