"""The crypto formats of spec/worker.md §10, checked against themselves and against openssl."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from pocopool.protocol import encryption as enc
from pocopool.protocol.crypto import sha256_hex


def _openssl(*args: str, data: bytes = b"") -> bytes:
    assert shutil.which("openssl"), "openssl is part of the machine's set-up"
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def test_a_dataset_is_iv_then_aes_256_cbc_and_openssl_decrypts_it() -> None:
    plain = b"confidential words\n" * 100
    encrypted, key = enc.encrypt_dataset(plain)
    raw_key = base64.b64decode(key)
    assert len(raw_key) == 32 and len(encrypted) % 16 == 0 and len(encrypted) > len(plain)
    iv, body = encrypted[:16], encrypted[16:]
    assert _openssl("enc", "-d", "-aes-256-cbc", "-K", raw_key.hex(), "-iv", iv.hex(), data=body) == plain
    assert enc.decrypt_dataset(encrypted, key) == plain
    assert enc.dataset_checksum(encrypted) == sha256_hex(encrypted)


def test_openssl_encrypted_datasets_decrypt_here() -> None:
    key = enc.new_dataset_key()
    iv = bytes(range(16))
    body = _openssl("enc", "-aes-256-cbc", "-K", base64.b64decode(key).hex(), "-iv", iv.hex(), data=b"made by openssl")
    assert enc.decrypt_dataset(iv + body, key) == b"made by openssl"


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        (b"short", None, "shorter than its 16-byte IV"),
        (bytes(16), None, "not a positive multiple of 16"),
        (None, "bm90IGEga2V5", "must decode to 32 bytes"),
        (None, "not base64!", "not base64"),
    ],
)
def test_bad_datasets_and_keys_give_one_line_reasons(data: bytes | None, key: str | None, reason: str) -> None:
    encrypted, good = enc.encrypt_dataset(b"x" * 40)
    with pytest.raises(enc.EncryptionError) as error:
        enc.decrypt_dataset(encrypted if data is None else data, key or good)
    assert reason in str(error.value) and "\n" not in str(error.value)


def test_a_wrong_dataset_key_is_refused_and_not_named() -> None:
    encrypted, _ = enc.encrypt_dataset(b"secret words " * 10)
    other = enc.new_dataset_key()
    try:
        result = enc.decrypt_dataset(encrypted, other)
    except enc.EncryptionError as error:
        assert other not in str(error)
    else:  # 1 in ~256 wrong keys still ends in valid padding: the bytes must then differ
        assert result != b"secret words " * 10


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_an_encrypted_result_has_the_two_files_and_only_the_beneficiary_opens_it(tmp_path: Path) -> None:
    private_pem, public_pem = enc.generate_rsa_keypair()
    result_zip = _zip({"seen.json": b'{"ok": true}'})
    encrypted = enc.encrypt_result(result_zip, enc.public_key_b64(public_pem))
    with zipfile.ZipFile(io.BytesIO(encrypted)) as archive:
        assert sorted(archive.namelist()) == ["aes-key.rsa", "iexec_out.zip.aes"]
        wrapped, payload = archive.read("aes-key.rsa"), archive.read("iexec_out.zip.aes")
    assert enc.decrypt_result(encrypted, private_pem) == result_zip
    # independently: openssl unwraps the AES key (PKCS#1 v1.5) and decrypts the payload
    key_file = tmp_path / "private.pem"
    key_file.write_text(private_pem)
    aes_key = _openssl(
        "pkeyutl", "-decrypt", "-inkey", str(key_file), "-pkeyopt", "rsa_padding_mode:pkcs1", data=wrapped
    )
    assert (
        _openssl("enc", "-d", "-aes-256-cbc", "-K", aes_key.hex(), "-iv", payload[:16].hex(), data=payload[16:])
        == result_zip
    )
    other_private, _ = enc.generate_rsa_keypair()
    with pytest.raises(enc.EncryptionError, match="cannot be decrypted with this private key"):
        enc.decrypt_result(encrypted, other_private)


@pytest.mark.parametrize(
    "value", ["not base64 at all!", base64.b64encode(b"-----BEGIN PUBLIC KEY-----\nAAAA\n").decode()]
)
def test_a_malformed_beneficiary_key_is_its_own_error(value: str) -> None:
    with pytest.raises(enc.MalformedPublicKey):
        enc.encrypt_result(b"zip", value)


def test_something_that_is_not_an_encrypted_result_says_so() -> None:
    private_pem, _ = enc.generate_rsa_keypair()
    with pytest.raises(enc.EncryptionError, match="not a zip"):
        enc.decrypt_result(b"plain bytes", private_pem)
    with pytest.raises(enc.EncryptionError, match="aes-key.rsa missing"):
        enc.decrypt_result(_zip({"iexec_out.zip.aes": b"x"}), private_pem)
