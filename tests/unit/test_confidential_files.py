"""The requester's confidential files through the real `pocopool` command: `dataset encrypt` and the
checks of `task download --decrypt`, and the opening of an encrypted result."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pocopool.client import confidential
from pocopool.client.errors import ClientError
from pocopool.protocol import encryption


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pocopool.cli", *args], capture_output=True, text=True, timeout=60)


def test_dataset_encrypt_writes_the_encrypted_file_and_a_private_key_file(tmp_path: Path) -> None:
    plain = tmp_path / "corpus.txt"
    plain.write_text("confidential words\n")
    done = cli("dataset", "encrypt", str(plain), "--out", str(tmp_path / "out"), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    encrypted, key_file = Path(data["encryptedFile"]), Path(data["keyFile"])
    assert encrypted == tmp_path / "out" / "corpus.txt.enc" and key_file == tmp_path / "out" / "corpus.txt.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"confidential" not in encrypted.read_bytes()
    assert encryption.decrypt_dataset(encrypted.read_bytes(), key_file.read_text()) == plain.read_bytes()
    assert data["checksum"] == encryption.dataset_checksum(encrypted.read_bytes())
    # a second run would replace the only copy of the key: refused, nothing changed
    key_before = key_file.read_text()
    again = cli("dataset", "encrypt", str(plain), "--out", str(tmp_path / "out"))
    assert again.returncode == 2 and again.stderr.strip().count("\n") == 0 and "already exists" in again.stderr
    assert key_file.read_text() == key_before


def test_dataset_encrypt_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    done = cli("dataset", "encrypt", str(tmp_path / "nope.txt"))
    assert done.returncode == 2 and done.stderr.strip() == f"error: {tmp_path / 'nope.txt'}: no such file"


def test_download_decrypt_checks_its_key_before_anything_else(tmp_path: Path) -> None:
    lone = cli("task", "download", "0x" + "00" * 32, str(tmp_path / "out"), "--decrypt")
    assert lone.returncode == 2 and "--decrypt and --key-file go together" in lone.stderr
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("hello")
    bad = cli("task", "download", "0x" + "00" * 32, str(tmp_path / "out"), "--decrypt", "--key-file", str(not_a_key))
    assert bad.returncode == 2 and "not an unencrypted PEM private key" in bad.stderr
    assert bad.stderr.strip().count("\n") == 0 and not (tmp_path / "out").exists()


def test_an_encrypted_result_opens_with_the_beneficiary_key_only(tmp_path: Path) -> None:
    private_pem, public_pem = encryption.generate_rsa_keypair()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("seen.json", "{}")
    encrypted = encryption.encrypt_result(buffer.getvalue(), encryption.public_key_b64(public_pem))
    key_file = tmp_path / "beneficiary.pem"
    key_file.write_text(private_pem)
    plain = confidential.open_result(encrypted, confidential.read_private_key(key_file))
    assert zipfile.ZipFile(io.BytesIO(plain)).namelist() == ["seen.json"]
    other, _ = encryption.generate_rsa_keypair()
    with pytest.raises(ClientError, match="cannot decrypt the result"):
        confidential.open_result(encrypted, other)


def test_dataset_deploy_checks_its_key_file_before_deploying(tmp_path: Path) -> None:
    dataset = tmp_path / "d.txt.enc"
    dataset.write_bytes(b"x" * 32)
    bad_key = tmp_path / "d.txt.key"
    bad_key.write_text("bm90IDMyIGJ5dGVz\n")
    done = cli("dataset", "deploy", str(dataset), "--key-file", str(bad_key), "--home", str(tmp_path / "no-devnet"))
    assert (
        done.returncode == 2
        and done.stderr.strip() == f"error: {bad_key}: the dataset key must decode to 32 bytes, got 12"
    )
