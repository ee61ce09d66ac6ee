"""Damaged files at start: how the tests damage a file, start a real process on it and read its refusal
(imported by name: a `from conftest import` finds whichever conftest was loaded first).

Every refusal is the same promise (decision 88): a non-zero exit, stderr holding exactly one line
that names the damaged file and says what to do, no traceback, and the file byte for byte as it was.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scheduler"))

# The ways a file is found damaged. "table-dropped" is a sound SQLite file that lost one of its tables.
SQLITE_DAMAGES = ["empty", "cut-in-half", "header-overwritten", "table-dropped"]


def damage(path: Path, how: str, table: str = "") -> bytes:
    """Damages `path` in place and returns its new content."""
    assert path.is_file() and not Path(f"{path}-wal").exists(), "damage a closed, checkpointed file"
    if how == "empty":
        path.write_bytes(b"")
    elif how == "cut-in-half":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif how == "header-overwritten":
        with path.open("r+b") as file:
            file.write(os.urandom(100))
    elif how == "cut-mid-way":  # text files: a JSON document cut in the middle
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif how == "random-bytes":
        path.write_bytes(os.urandom(64))
    elif how == "table-dropped":
        connection = sqlite3.connect(path)
        connection.execute(f"DROP TABLE {table}")
        connection.commit()
        connection.close()
        assert not Path(f"{path}-wal").exists()
    else:
        raise AssertionError(f"unknown damage {how!r}")
    return path.read_bytes()


@dataclass
class Refusal:
    returncode: int
    stderr: str

    @property
    def line(self) -> str:
        return self.stderr.strip()


def start_and_wait_for_exit(command: list[str], timeout: float = 60) -> Refusal:
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return Refusal(done.returncode, done.stderr)


def assert_refused_in_one_line(refusal: Refusal, path: Path, content: bytes, remedy: str = "restore") -> None:
    assert refusal.returncode == 2, refusal.stderr  # every process says "did not start" the same way
    assert "Traceback" not in refusal.stderr, refusal.stderr
    lines = refusal.stderr.strip().splitlines()
    assert len(lines) == 1, refusal.stderr
    assert lines[0].startswith("pocopool "), lines[0]
    assert str(path) in lines[0] and "is damaged" in lines[0], lines[0]
    assert remedy in lines[0], lines[0]
    assert path.read_bytes() == content, "the damaged file was changed"
