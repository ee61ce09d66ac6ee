"""The SMS vault: a private master key made once, and ciphertexts that open only where they belong."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pocopool.protocol.statuses import ReplicateStatusCause
from pocopool.service.secrets import SecretFileError
from pocopool.sms.errors import session_error
from pocopool.sms.vault import Vault, VaultError, load_or_create_master_key


def test_the_master_key_is_created_once_and_private(tmp_path: Path) -> None:
    key = load_or_create_master_key(tmp_path / "home")
    path = tmp_path / "home" / "master.key"
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_master_key(tmp_path / "home") == key


def test_a_master_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_or_create_master_key(tmp_path)
    (tmp_path / "master.key").chmod(0o644)
    with pytest.raises(SecretFileError, match="the SMS master key. is readable by others"):
        load_or_create_master_key(tmp_path)


def test_a_ciphertext_opens_only_under_its_key_and_context(tmp_path: Path) -> None:
    vault = Vault(b"k" * 32)
    box = vault.encrypt("secret/requester/0xab/x", b"value")
    assert b"value" not in box and vault.decrypt("secret/requester/0xab/x", box) == b"value"
    with pytest.raises(VaultError) as moved:
        vault.decrypt("secret/requester/0xab/y", box)
    assert "value" not in str(moved.value).replace("a stored value", "")
    with pytest.raises(VaultError):
        Vault(b"o" * 32).decrypt("secret/requester/0xab/x", box)


def test_session_errors_are_the_causes_without_their_prefix() -> None:
    assert session_error(ReplicateStatusCause.TEE_SESSION_GENERATION_UNKNOWN_ISSUE) == "UNKNOWN_ISSUE"
    with pytest.raises(ValueError):
        session_error(ReplicateStatusCause.TASK_NOT_ACTIVE)
