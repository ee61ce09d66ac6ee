"""The result store's TEE token secret and JWTs (results/tokens.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pocopool.results import tokens
from pocopool.service.secrets import SecretFileError

TASK = "0x" + "11" * 32
WORKER = "0x" + "22" * 20
CHALLENGE = "0x" + "33" * 20


def test_the_secret_is_created_once_0600_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / tokens.SECRET_FILE
    first = tokens.load_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) == 32
    assert tokens.load_or_create_secret(path) == first


def test_a_truncated_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / tokens.SECRET_FILE
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(SecretFileError, match=r"TEE token secret\) is damaged: it holds 5 bytes, not 32"):
        tokens.load_or_create_secret(path)
    assert path.read_bytes() == b"short"  # left as it is


def test_a_secret_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / tokens.SECRET_FILE
    tokens.load_or_create_secret(path)
    path.chmod(0o640)
    with pytest.raises(SecretFileError, match="readable by others .mode 640.; make it 0600"):
        tokens.load_or_create_secret(path)


def test_a_token_reads_back_until_it_expires() -> None:
    secret = b"s" * 32
    token = tokens.issue(secret, TASK, WORKER, CHALLENGE, 1000)
    assert tokens.read(secret, token, 999) == tokens.TokenClaims(TASK, WORKER, CHALLENGE, 1000)
    with pytest.raises(tokens.InvalidToken, match="expired at 1000"):
        tokens.read(secret, token, 1000)
    with pytest.raises(tokens.InvalidToken, match="not issued by this result store"):
        tokens.read(b"t" * 32, token, 999)
