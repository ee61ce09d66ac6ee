"""Keccak-256 (Ethereum's hash) and EIP-55 checksummed addresses: the two hashing rules every
other protocol module builds on. A leaf: pycryptodome's Keccak, nothing heavier, so that a process
that only hashes and signs (the CLI, a worker) starts fast (bench/RESULTS.md, decision 104)."""

from __future__ import annotations

from Crypto.Hash import keccak as _keccak


def keccak(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


def checksum_address(raw: bytes) -> str:
    """The EIP-55 spelling of a 20-byte address: a hex letter is upper case where the keccak of
    the lower-case hex has a nibble ≥ 8."""
    lower = raw.hex()
    nibbles = keccak(lower.encode()).hex()
    return "0x" + "".join(c.upper() if int(n, 16) >= 8 else c for c, n in zip(lower, nibbles, strict=False))
