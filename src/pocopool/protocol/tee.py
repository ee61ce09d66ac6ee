"""What the SMS, the scheduler, the worker, the simulated enclave and the requester agree on for TEE
tasks (spec/worker.md §8, §10; spec/poco.md §9.3): the app's enclave configuration, the messages
each party signs, the names of the secrets and of the environment variables the enclaves receive,
and how the simulated platform attests an enclave and how secrets are sealed to it.

Pure: no I/O. The enclave platform here is a **simulation** (`tee-sim`): there is no SGX/TDX
hardware; the "quote" is signed by a platform key file instead of a CPU, with real cryptography.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from enum import Enum

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .crypto import InvalidHex, hex_to_bytes, keccak, recover_personal, result_hash, result_seal, sign_personal

SIMULATION_LABEL = "tee-sim (simulated enclave: no SGX/TDX hardware, no real attestation)"
SIM_FRAMEWORK = "GRAMINE"  # the framework tee-sim plays; `run --tee` sets tag 0x5 (TEE bit + Gramine)
SIM_FRAMEWORK_TAG = 0x5
SMS_DOMAIN = "IEXEC_SMS_DOMAIN"
SESSION_ERROR_PREFIX = "TEE_SESSION_GENERATION_"


# ----- the app's enclave configuration (on-chain `mrenclave`) ---------------------------------------


class EnclaveConfigError(ValueError):
    """The app's on-chain mrenclave is not a valid enclave configuration."""


@dataclass(frozen=True)
class EnclaveConfig:
    """The reference's TeeEnclaveConfiguration: {provider, version, entrypoint, heapSize, fingerprint}.

    For tee-sim the fingerprint is the sha256 of the app bundle archive (64 hex, no 0x), i.e. the
    app's on-chain checksum: the enclave measures the bundle it is given and refuses another one.
    """

    provider: str
    version: str
    entrypoint: str
    heap_size: int  # bytes
    fingerprint: str  # 64 lowercase hex, no 0x

    @classmethod
    def parse(cls, mrenclave: str) -> EnclaveConfig:
        """Raises EnclaveConfigError naming the first field that is wrong."""
        if not mrenclave or not mrenclave.strip():
            raise EnclaveConfigError("the app has no enclave configuration (empty mrenclave)")
        try:
            data = json.loads(mrenclave)
        except json.JSONDecodeError as error:
            raise EnclaveConfigError(f"mrenclave is not JSON: {error.msg}") from error
        if not isinstance(data, dict):
            raise EnclaveConfigError("mrenclave must be a JSON object")
        provider = data.get("provider")
        if provider not in ("SCONE", "GRAMINE", "TDX"):
            raise EnclaveConfigError(f"provider must be SCONE, GRAMINE or TDX, got {provider!r}")
        version, entrypoint = data.get("version"), data.get("entrypoint")
        if not isinstance(version, str) or not version:
            raise EnclaveConfigError("version is missing")
        if not isinstance(entrypoint, str) or not entrypoint.strip():
            raise EnclaveConfigError("entrypoint is missing")
        heap = data.get("heapSize")
        if not isinstance(heap, int) or isinstance(heap, bool) or heap <= 0:
            raise EnclaveConfigError(f"heapSize must be a positive number of bytes, got {heap!r}")
        fingerprint = data.get("fingerprint")
        if not isinstance(fingerprint, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", fingerprint):
            raise EnclaveConfigError(f"fingerprint must be 64 hex characters, got {fingerprint!r}")
        return cls(provider, version, entrypoint, heap, fingerprint.lower())

    def to_json(self) -> str:
        return json.dumps(
            {
                "provider": self.provider,
                "version": self.version,
                "entrypoint": self.entrypoint,
                "heapSize": self.heap_size,
                "fingerprint": self.fingerprint,
            },
            separators=(",", ":"),
        )


def bundle_fingerprint(files: list[tuple[str, bytes]]) -> str:
    """The tee-sim measurement of an app bundle: sha256 over the sorted lines "<sha256 hex> <path>\n" of
    its regular files (paths relative to the bundle root, "/"-separated). 64 hex, no 0x. The client
    computes it from the app directory at `app deploy --tee`; the enclave loader from the files it runs."""
    lines = "".join(f"{hashlib.sha256(content).hexdigest()} {path}\n" for path, content in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


# ----- secrets held by the SMS ------------------------------------------------------------------------


class SecretKind(str, Enum):
    """`PUT /secrets/{kind}/{address}/{name}`; who may push is checked on chain by the SMS."""

    DATASET = "dataset"  # address = dataset, name = "key"; pushed by the dataset's owner
    APP = "app"  # address = app, name = "1"; pushed by the app's owner
    REQUESTER = "requester"  # address = requester, any valid name; pushed by that address
    WEB2 = "web2"  # address = owner, one of WEB2_NAMES; pushed by that address


DATASET_KEY_NAME = "key"
APP_SECRET_NAME = "1"
RESULT_ENCRYPTION_KEY = "iexec-result-encryption-public-key"  # beneficiary: base64 of a PEM RSA public key
IPFS_TOKEN = "iexec-result-iexec-ipfs-token"  # worker (or requester): result-store token
DROPBOX_TOKEN = "iexec-result-dropbox-token"  # requester
WEB2_NAMES = (RESULT_ENCRYPTION_KEY, IPFS_TOKEN, DROPBOX_TOKEN)
SECRET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_SECRET_BYTES = 64 * 1024


def secret_push_hash(kind: SecretKind | str, address: str, name: str, value: str) -> bytes:
    """What the owner signs (EIP-191) to push a secret: the reference's web2-secret challenge with the
    kind added, keccak(keccak("IEXEC_SMS_DOMAIN") ‖ keccak(kind) ‖ address ‖ keccak(name) ‖ keccak(value))."""
    kind = SecretKind(kind).value
    return keccak(
        keccak(SMS_DOMAIN.encode())
        + keccak(kind.encode())
        + hex_to_bytes(address, 20, "address")
        + keccak(name.encode())
        + keccak(value.encode())
    )


def sign_secret_push(private_key: str, kind: SecretKind | str, address: str, name: str, value: str) -> str:
    return sign_personal(private_key, secret_push_hash(kind, address, name, value))


def recover_secret_push(kind: SecretKind | str, address: str, name: str, value: str, signature: str) -> str | None:
    try:
        return recover_personal(secret_push_hash(kind, address, name, value), signature)
    except (InvalidHex, ValueError):
        return None


def challenge_request_hash(task_id: str) -> bytes:
    """The scheduler asks the SMS for a task's enclave challenge with EthSign(pool owner, keccak(taskId))
    (a WorkerpoolAuthorization with no worker and no challenge, spec/scheduler.md §1.3)."""
    return keccak(hex_to_bytes(task_id, 32, "task id"))


def requester_secret_env(index: str) -> str:
    return f"IEXEC_REQUESTER_SECRET_{index}"


# ----- the enclave's signatures (spec/worker.md §8.6) ----------------------------------------------


def enclave_message_hash(worker: str, task_id: str, digest: str) -> bytes:
    """keccak(resultHash ‖ resultSeal): what the enclave key signs over a result."""
    return keccak(
        hex_to_bytes(result_hash(task_id, digest), 32) + hex_to_bytes(result_seal(worker, task_id, digest), 32)
    )


def sign_enclave_result(enclave_key: str, worker: str, task_id: str, digest: str) -> str:
    return sign_personal(enclave_key, enclave_message_hash(worker, task_id, digest))


def recover_enclave_result(worker: str, task_id: str, digest: str, signature: str) -> str | None:
    try:
        return recover_personal(enclave_message_hash(worker, task_id, digest), signature)
    except (InvalidHex, ValueError):
        return None


def enclave_report_hash(task_id: str, worker: str) -> bytes:
    """keccak(taskId ‖ worker): the enclave key signs its reports (exit causes, computed file)."""
    return keccak(hex_to_bytes(task_id, 32, "task id") + hex_to_bytes(worker, 20, "worker address"))


# ----- simulated attestation and sealing -------------------------------------------------------------


class Stage(str, Enum):
    PRE = "pre-compute"
    APP = "app"
    POST = "post-compute"


def quote_hash(session_id: str, stage: Stage | str, measurement: str, enclave_public_key: str) -> bytes:
    """What the simulated platform key signs for an enclave that starts: its session, its stage, what it
    measured (the enclave program's or the app bundle's sha256, 64 hex) and its ephemeral X25519 key."""
    return keccak(
        keccak(session_id.encode())
        + keccak(Stage(stage).value.encode())
        + keccak(measurement.lower().encode())
        + base64.b64decode(enclave_public_key, validate=True)
    )


def sign_quote(
    platform_key: str, session_id: str, stage: Stage | str, measurement: str, enclave_public_key: str
) -> str:
    return sign_personal(platform_key, quote_hash(session_id, stage, measurement, enclave_public_key))


def recover_quote(
    session_id: str, stage: Stage | str, measurement: str, enclave_public_key: str, signature: str
) -> str | None:
    try:
        return recover_personal(quote_hash(session_id, stage, measurement, enclave_public_key), signature)
    except (InvalidHex, ValueError):
        return None


class SealError(ValueError):
    """A sealed box that cannot be opened with this key."""


def new_enclave_key() -> tuple[X25519PrivateKey, str]:
    """An enclave's ephemeral key pair; the public half as base64 (32 bytes)."""
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return private, base64.b64encode(public).decode()


def _box_key(shared: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pocopool tee-sim seal v1").derive(shared)


def seal(enclave_public_key: str, plaintext: bytes) -> str:
    """Encrypt to an enclave: X25519 ECDH with a fresh key, HKDF-SHA256, AES-256-GCM.
    Returns base64(ephemeral public ‖ nonce ‖ ciphertext)."""
    peer = X25519PublicKey.from_public_bytes(base64.b64decode(enclave_public_key, validate=True))
    ephemeral = X25519PrivateKey.generate()
    key = _box_key(ephemeral.exchange(peer))
    nonce = os.urandom(12)
    ephemeral_public = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(ephemeral_public + nonce + AESGCM(key).encrypt(nonce, plaintext, None)).decode()


def unseal(private_key: X25519PrivateKey, box: str) -> bytes:
    try:
        raw = base64.b64decode(box, validate=True)
        peer = X25519PublicKey.from_public_bytes(raw[:32])
        return AESGCM(_box_key(private_key.exchange(peer))).decrypt(raw[32:44], raw[44:], None)
    except Exception as error:  # noqa: BLE001 - any failure means "not for this enclave"
        raise SealError(f"the sealed secrets cannot be opened: {type(error).__name__}") from error
