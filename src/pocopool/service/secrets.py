"""Secret files: a few random bytes a service creates at its first start and reads at every next one
(the SMS master key, the result store's token-signing secret), or a private key kept as text (the
devnet's wallets, the simulated platform key).

Created exclusively with mode 0600 and fsynced, so a crash never leaves a half-written secret that a
restart would take for a real one; never overwritten. On read, a file that others may read, or that
does not hold exactly the expected number of bytes, is refused with a one-line SecretFileError that
names the file and what to do: the file is left as it is (without it, what it protects is lost).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path


class SecretFileError(ValueError):
    """A secret file that cannot be used as it is; the message names it, never its content."""


def load_or_create_secret(path: Path, size: int, what: str) -> bytes:
    """The `size` random bytes kept in `path` (`what` names them in errors), created at first use."""
    path = Path(path)
    created = _create(path, lambda: os.urandom(size))
    return created if created is not None else _read_secret(path, size, what)


def load_or_create_key_file(path: Path, new_key: Callable[[], str], what: str) -> str:
    """The private key written as text in `path` (one line, e.g. 0x-hex), made by `new_key` at first
    use; read back stripped. Checking the key's form is the caller's (it knows what a key is)."""
    path = Path(path)
    created = _create(path, lambda: (new_key() + "\n").encode())
    if created is None:
        _check_mode(path, what)
    return (created if created is not None else path.read_bytes()).decode().strip()


def _create(path: Path, content: Callable[[], bytes]) -> bytes | None:
    """Writes `content()` to a new `path` (0600, fsynced) and returns it; None when the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    try:
        with os.fdopen(fd, "wb") as file:
            data = content()
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)  # never leave a partial secret behind
        raise
    return data


def _check_mode(path: Path, what: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretFileError(f"{path} ({what}) is readable by others (mode {mode:o}); make it 0600")


def _read_secret(path: Path, size: int, what: str) -> bytes:
    _check_mode(path, what)
    secret = path.read_bytes()
    if len(secret) != size:
        raise SecretFileError(
            f"{path} ({what}) is damaged: it holds {len(secret)} bytes, not {size}; restore it from a "
            "backup (without it, what it protects cannot be read); it was left as it is"
        )
    return secret
