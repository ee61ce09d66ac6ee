"""The crypto formats of spec/worker.md §10: dataset encryption and result encryption.

Byte-compatible with the iexec-sdk: a dataset file is `IV(16) ‖ AES-256-CBC-PKCS#7(plaintext)` under a
random 32-byte key kept base64 in the SMS; an encrypted result is a zip holding `iexec_out.zip.aes`
(IV ‖ AES-256-CBC of the result zip) and `aes-key.rsa` (RSA PKCS#1 v1.5 of the raw AES key under the
beneficiary's public key). Pure: no I/O besides the OS random source.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import zipfile

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .crypto import sha256_hex

KEY_BYTES = 32
IV_BYTES = 16
RSA_BITS = 2048
RESULT_AES_FILE = "iexec_out.zip.aes"
RESULT_KEY_FILE = "aes-key.rsa"
ENCRYPTED_RESULT_NAME = "encrypted-iexec_out.zip"


class EncryptionError(ValueError):
    """Data or a key that cannot be used for (de)cryption; the message is one line and names no secret."""


class MalformedPublicKey(EncryptionError):
    """The beneficiary's public key is not base64 of a PEM RSA public key
    (post-compute reports POST_COMPUTE_MALFORMED_ENCRYPTION_PUBLIC_KEY)."""


# ----- AES-256-CBC with the IV in front --------------------------------------------------------------


def aes_encrypt(plain: bytes, key: bytes) -> bytes:
    """IV(16 random bytes) ‖ AES-256-CBC(PKCS#7 padded plaintext)."""
    if len(key) != KEY_BYTES:
        raise EncryptionError(f"an AES-256 key is {KEY_BYTES} bytes, got {len(key)}")
    iv = os.urandom(IV_BYTES)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def aes_decrypt(data: bytes, key: bytes) -> bytes:
    """The inverse of aes_encrypt; EncryptionError on a wrong key length, short data or bad padding."""
    if len(key) != KEY_BYTES:
        raise EncryptionError(f"the key must be {KEY_BYTES} bytes, got {len(key)}")
    if len(data) < IV_BYTES:
        raise EncryptionError(f"the encrypted data is {len(data)} bytes, shorter than its {IV_BYTES}-byte IV")
    body = data[IV_BYTES:]
    if not body or len(body) % 16:
        raise EncryptionError(f"the encrypted data after the IV is {len(body)} bytes, not a positive multiple of 16")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(data[:IV_BYTES])).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise EncryptionError("bad padding after decryption: wrong key or corrupted data") from None


# ----- datasets (spec/worker.md §10.2) ---------------------------------------------------------------


def new_dataset_key() -> str:
    """A random 32-byte AES key, base64 (the form the SMS stores as the dataset's secret)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def decode_dataset_key(key_b64: str) -> bytes:
    try:
        key = base64.b64decode(key_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionError("the dataset key is not base64") from None
    if len(key) != KEY_BYTES:
        raise EncryptionError(f"the dataset key must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def encrypt_dataset(plain: bytes, key_b64: str | None = None) -> tuple[bytes, str]:
    """(encrypted file, base64 key). A fresh key unless one is given."""
    key_b64 = key_b64 or new_dataset_key()
    return aes_encrypt(plain, decode_dataset_key(key_b64)), key_b64


def decrypt_dataset(encrypted: bytes, key_b64: str) -> bytes:
    return aes_decrypt(encrypted, decode_dataset_key(key_b64))


def dataset_checksum(encrypted: bytes) -> str:
    """The on-chain checksum of an encrypted dataset: sha256 of the encrypted bytes, 0x + 64 hex."""
    return sha256_hex(encrypted)


# ----- RSA keys of the beneficiary -------------------------------------------------------------------


def generate_rsa_keypair(bits: int = RSA_BITS) -> tuple[str, str]:
    """(private PEM PKCS#8, public PEM SubjectPublicKeyInfo)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def public_key_b64(public_pem: str) -> str:
    """What the SMS stores as `iexec-result-encryption-public-key`: base64 of the PEM text."""
    return base64.b64encode(public_pem.encode()).decode()


def parse_public_key_b64(value: str) -> rsa.RSAPublicKey:
    """The beneficiary key as post-compute receives it (RESULT_ENCRYPTION_PUBLIC_KEY); MalformedPublicKey
    if it is not base64 of a PEM RSA public key."""
    try:
        pem = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError, AttributeError):
        raise MalformedPublicKey("the result encryption public key is not base64") from None
    return parse_public_pem(pem)


def parse_public_pem(pem: bytes | str) -> rsa.RSAPublicKey:
    raw = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(raw)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise MalformedPublicKey("the result encryption public key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise MalformedPublicKey("the result encryption public key is not an RSA key")
    return key


def parse_private_pem(pem: bytes | str) -> rsa.RSAPrivateKey:
    raw = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise EncryptionError("the private key is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise EncryptionError("the private key is not an RSA key")
    return key


# ----- results (spec/worker.md §10.1) ----------------------------------------------------------------


def encrypt_result(zip_bytes: bytes, public_key: rsa.RSAPublicKey | str) -> bytes:
    """The bytes of `encrypted-iexec_out.zip` for the bytes of `iexec_out.zip`.

    `public_key` is a parsed key or the base64 PEM the SMS hands to post-compute."""
    key = parse_public_key_b64(public_key) if isinstance(public_key, str) else public_key
    aes_key = os.urandom(KEY_BYTES)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(RESULT_AES_FILE, aes_encrypt(zip_bytes, aes_key))
        archive.writestr(RESULT_KEY_FILE, key.encrypt(aes_key, PKCS1v15()))
    return buffer.getvalue()


def decrypt_result(encrypted_zip: bytes, private_pem: bytes | str) -> bytes:
    """The bytes of `iexec_out.zip` from `encrypted-iexec_out.zip` and the beneficiary's private key."""
    private = parse_private_pem(private_pem)
    try:
        with zipfile.ZipFile(io.BytesIO(encrypted_zip)) as archive:
            names = set(archive.namelist())
            missing = [n for n in (RESULT_AES_FILE, RESULT_KEY_FILE) if n not in names]
            if missing:
                raise EncryptionError(f"not an encrypted result: {', '.join(missing)} missing from the zip")
            payload, wrapped = archive.read(RESULT_AES_FILE), archive.read(RESULT_KEY_FILE)
    except zipfile.BadZipFile:
        raise EncryptionError("not an encrypted result: not a zip file") from None
    try:
        aes_key = private.decrypt(wrapped, PKCS1v15())
    except ValueError:
        aes_key = b""
    if len(aes_key) != KEY_BYTES:  # a wrong key may also "decrypt" to random bytes (implicit rejection)
        raise EncryptionError("the AES key cannot be decrypted with this private key")
    return aes_decrypt(payload, aes_key)
