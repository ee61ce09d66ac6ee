"""secp256k1 keys of Ethereum accounts: a `Wallet` (private key and address), raw signatures of a
32-byte digest and the recovery of their signer, through libsecp256k1 (coincurve).

Signatures are deterministic (RFC 6979) and low-s, `r ‖ s ‖ v` with v in {27, 28}: byte for byte
what eth-account produces (tests/unit/test_keys.py checks both against spec/vectors.json). The EVM
chain still signs its transactions with eth-account, which it imports itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from coincurve import PrivateKey, PublicKey

from .hashing import checksum_address, keccak

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _private_bytes(key: str | bytes) -> bytes:
    if isinstance(key, (bytes, bytearray)):
        raw = bytes(key)
    elif isinstance(key, str):
        digits = key[2:] if key[:2] in ("0x", "0X") else key
        try:
            raw = bytes.fromhex(digits) if digits.isascii() and digits.isalnum() else b""
        except ValueError:
            raw = b""
    else:
        raise ValueError("a private key is 32 bytes or 64 hex digits")
    if len(raw) != 32 or not 0 < int.from_bytes(raw, "big") < _SECP256K1_N:
        raise ValueError("a private key is 32 bytes (64 hex digits) in the range of secp256k1")
    return raw


def address_of_public_key(public: PublicKey) -> str:
    return checksum_address(keccak(public.format(compressed=False)[1:])[-20:])


@dataclass(frozen=True)
class Wallet:
    """An account's private key and its checksummed address (what eth-account calls a LocalAccount:
    `.key` and `.address`)."""

    key: bytes = field(repr=False)
    address: str

    @classmethod
    def from_key(cls, key: str | bytes) -> Wallet:
        """Raises ValueError (without echoing the key) when `key` is not a secp256k1 private key."""
        raw = _private_bytes(key)
        return cls(raw, address_of_public_key(PrivateKey(raw).public_key))

    @classmethod
    def create(cls) -> Wallet:
        while True:
            raw = os.urandom(32)
            if 0 < int.from_bytes(raw, "big") < _SECP256K1_N:
                return cls.from_key(raw)

    def sign(self, digest: bytes) -> bytes:
        """65 bytes r ‖ s ‖ v (v = 27 or 28) over a 32-byte digest, unhashed."""
        if len(digest) != 32:
            raise ValueError("only a 32-byte digest is signed")
        signature = PrivateKey(self.key).sign_recoverable(digest, hasher=None)
        return signature[:64] + bytes([signature[64] + 27])


def recover(digest: bytes, r: int, s: int, v: int) -> str:
    """The address whose key signed `digest` as (r, s, v ∈ {27, 28}); ValueError when none can."""
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v - 27])
    return address_of_public_key(PublicKey.from_signature_and_message(signature, digest, hasher=None))
