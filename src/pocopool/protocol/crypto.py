"""Ids, hashes and signatures of the PoCo protocol (spec/poco.md §6.1, §9, §12; spec/worker.md §3).

Everything here is Ethereum's own: Keccak-256 and EIP-55 addresses (`hashing`), EIP-191 personal
signatures, EIP-712 typed data (`eip712`), secp256k1 keys (`keys`). Hex strings are 0x-prefixed;
hashes are lowercase.
"""

from __future__ import annotations

import hashlib
import string
from typing import Any

from . import eip712
from .hashing import checksum_address, keccak
from .keys import Wallet, recover

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_BYTES32 = "0x" + "00" * 32
# Signatures with s in the upper half of the curve order are malleable copies: refused (poco.md §9.4).
_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


_HEX_DIGITS = frozenset(string.hexdigits)


class InvalidHex(ValueError):
    """A value that should be hex of a given size is not."""


def hex_to_bytes(value: str, size: int | None = None, what: str = "value") -> bytes:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise InvalidHex(f"{what} must be a 0x-prefixed hex string, got {value!r}")
    digits = value[2:]
    if len(digits) % 2 or not set(digits) <= _HEX_DIGITS:  # bytes.fromhex would skip whitespace
        raise InvalidHex(f"{what} is not valid hex: {value!r}")
    raw = bytes.fromhex(digits)
    if size is not None and len(raw) != size:
        raise InvalidHex(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


def to_hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def keccak_hex(data: bytes) -> str:
    return to_hex(keccak(data))


def sha256_hex(data: bytes) -> str:
    return "0x" + hashlib.sha256(data).hexdigest()


def normalize_address(address: str) -> str:
    """Checksummed form of an address; raises InvalidHex for anything else."""
    return checksum_address(hex_to_bytes(address, 20, "address"))


def normalize_bytes32(value: str, what: str = "bytes32") -> str:
    return to_hex(hex_to_bytes(value, 32, what))


def task_id(deal_id: str, index: int) -> str:
    """taskid = keccak(dealid ‖ uint256(idx)), idx absolute in the deal's bag (poco.md §6.1)."""
    return keccak_hex(hex_to_bytes(deal_id, 32, "deal id") + index.to_bytes(32, "big"))


def result_hash(task: str, digest: str) -> str:
    """The vote: keccak(taskid ‖ resultDigest) (poco.md §9.2)."""
    return keccak_hex(hex_to_bytes(task, 32, "task id") + hex_to_bytes(digest, 32, "result digest"))


def result_seal(worker: str, task: str, digest: str) -> str:
    """Proof of knowledge bound to the worker: keccak(worker ‖ taskid ‖ resultDigest)."""
    return keccak_hex(
        hex_to_bytes(worker, 20, "worker address")
        + hex_to_bytes(task, 32, "task id")
        + hex_to_bytes(digest, 32, "result digest")
    )


def eth_signed_hash(message_hash: bytes) -> bytes:
    """EIP-191 personal-sign hash of a 32-byte hash."""
    return keccak(b"\x19Ethereum Signed Message:\n32" + message_hash)


def sign_hash(private_key: str, digest: bytes) -> str:
    """Raw secp256k1 signature of a 32-byte digest: 0x r ‖ s ‖ v with v in {27, 28}."""
    return to_hex(Wallet.from_key(private_key).sign(digest))


def recover_hash(digest: bytes, signature: str) -> str | None:
    """The address that signed `digest`, or None if the signature is malformed or malleable."""
    try:
        raw = hex_to_bytes(signature, 65, "signature")
    except InvalidHex:
        return None
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    if v in (0, 1):
        v += 27
    if v not in (27, 28) or r == 0 or s == 0 or s > _SECP256K1_HALF_N:
        return None
    try:
        return recover(digest, r, s, v)
    except Exception:  # noqa: BLE001 - any recovery failure means "invalid", never an address
        return None


def sign_personal(private_key: str, message_hash: bytes) -> str:
    """EIP-191 signature of a 32-byte hash (what PoCo calls ethSigned)."""
    return sign_hash(private_key, eth_signed_hash(message_hash))


def recover_personal(message_hash: bytes, signature: str) -> str | None:
    return recover_hash(eth_signed_hash(message_hash), signature)


def same_address(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def authorization_hash(worker: str, task: str, enclave_challenge: str = ZERO_ADDRESS) -> bytes:
    """WorkerpoolAuthorization hash: keccak(worker ‖ taskid ‖ enclaveChallenge) (poco.md §9.1)."""
    return keccak(
        hex_to_bytes(worker, 20, "worker address")
        + hex_to_bytes(task, 32, "task id")
        + hex_to_bytes(enclave_challenge, 20, "enclave challenge")
    )


def sign_authorization(private_key: str, worker: str, task: str, enclave_challenge: str = ZERO_ADDRESS) -> str:
    return sign_personal(private_key, authorization_hash(worker, task, enclave_challenge))


def recover_authorization_signer(worker: str, task: str, enclave_challenge: str, signature: str) -> str | None:
    try:
        digest = authorization_hash(worker, task, enclave_challenge)
    except InvalidHex:
        return None
    return recover_personal(digest, signature)


def java_hex_bytes(value: str) -> bytes:
    """web3j Numeric.hexStringToByteArray, reproduced byte for byte (spec/worker.md §3.1).

    Non-hex characters count as -1, so a base64 challenge decodes lossily but deterministically.
    """
    clean = value[2:] if value[:2] in ("0x", "0X") else value

    def digit(char: str) -> int:
        return int(char, 16) if char in "0123456789abcdefABCDEF" else -1

    out = bytearray()
    start = 0
    if len(clean) % 2 == 1:
        out.append(digit(clean[0]) & 0xFF)
        start = 1
    for i in range(start, len(clean), 2):
        out.append(((digit(clean[i]) << 4) + digit(clean[i + 1])) & 0xFF)
    return bytes(out)


def login_hash(challenge: str) -> bytes:
    """What a worker signs (raw, no EIP-191 prefix) to log in: keccak(javaHex(challenge))."""
    return keccak(java_hex_bytes(challenge))


def sign_login(private_key: str, challenge: str) -> str:
    return sign_hash(private_key, login_hash(challenge))


def recover_login(challenge: str, signature: str) -> str | None:
    return recover_hash(login_hash(challenge), signature)


LOGS_CHALLENGE_DOMAIN_NAME = "iExec Core"
LOGS_CHALLENGE_DOMAIN_VERSION = "1"


def logs_challenge_typed_data(challenge: str, chain_id: int) -> dict[str, Any]:
    """The EIP-712 typed data a requester signs to read task logs (spec/scheduler.md §7.2)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "Challenge": [{"name": "challenge", "type": "string"}],
        },
        "primaryType": "Challenge",
        "domain": {"name": LOGS_CHALLENGE_DOMAIN_NAME, "version": LOGS_CHALLENGE_DOMAIN_VERSION, "chainId": chain_id},
        "message": {"challenge": challenge},
    }


def typed_data_digest(typed_data: dict[str, Any]) -> bytes:
    return eip712.digest(typed_data)


def sign_typed_data(private_key: str, typed_data: dict[str, Any]) -> str:
    return sign_hash(private_key, typed_data_digest(typed_data))


def recover_typed_data(typed_data: dict[str, Any], signature: str) -> str | None:
    return recover_hash(typed_data_digest(typed_data), signature)


def address_of(private_key: str) -> str:
    return Wallet.from_key(private_key).address


def key_hex(account: Any) -> str:
    """The 0x-hex private key of a Wallet (or an eth-account LocalAccount)."""
    return "0x" + bytes(account.key).hex()


def new_private_key() -> str:
    return to_hex(Wallet.create().key)


def upload_authorization_hash(worker: str, task: str) -> bytes:
    """What the scheduler signs (EIP-191) to let one worker upload a task's result."""
    return keccak(
        b"pocopool:result-upload" + hex_to_bytes(worker, 20, "worker address") + hex_to_bytes(task, 32, "task id")
    )


def upload_body_hash(task: str, archive_sha256: str) -> bytes:
    """What the uploading worker signs (EIP-191): the task and the sha256 of the zip it sends."""
    return keccak(
        b"pocopool:result-zip" + hex_to_bytes(task, 32, "task id") + hex_to_bytes(archive_sha256, 32, "archive sha256")
    )


def download_hash(task: str, timestamp: int) -> bytes:
    """What the beneficiary signs (EIP-191) to download a result; fresh for a few minutes."""
    return keccak(b"pocopool:result-download" + hex_to_bytes(task, 32, "task id") + timestamp.to_bytes(32, "big"))


def result_link(storage: str, location: str) -> str:
    """The result link string, spacing included, as the reference writes it (worker.md §6.11)."""
    return '{ "storage": "' + storage + '", "location": "' + location + '" }'
