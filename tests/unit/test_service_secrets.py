"""service/secrets.py: a secret file is made once, 0600, and refused when others may read it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pocopool.devnet.tee import platform_key
from pocopool.service.secrets import SecretFileError, load_or_create_key_file, load_or_create_secret


def test_a_key_file_is_made_once_0600_and_read_back(tmp_path: Path) -> None:
    made: list[str] = []

    def new_key() -> str:
        made.append("0x" + "ab" * 32)
        return made[-1]

    path = tmp_path / "keys" / "w.key"
    first = load_or_create_key_file(path, new_key, "a test key")
    assert first == made[0] and path.read_text() == first + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key_file(path, new_key, "a test key") == first and len(made) == 1
    path.chmod(0o644)
    with pytest.raises(SecretFileError, match=r"\(a test key\) is readable by others \(mode 644\); make it 0600"):
        load_or_create_key_file(path, new_key, "a test key")


def test_a_secret_that_fails_to_be_written_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret"

    def broken(_: int) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pocopool.service.secrets.os.urandom", broken)
    with pytest.raises(OSError, match="No space left"):
        load_or_create_secret(path, 32, "a test secret")
    assert not path.exists()


def test_the_devnet_platform_key_is_one_of_these(tmp_path: Path) -> None:
    path, address = platform_key(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and platform_key(tmp_path) == (path, address)
