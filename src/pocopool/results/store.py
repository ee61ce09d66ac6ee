"""Result zips on disk: one file per task, written once, never half-written.

Layout: `<root>/<taskId>.zip` (task id lowercase), temporary files in `<root>/.tmp/`. A zip is
written to a temporary file, fsynced, then hard-linked to its final name: the link is atomic and
fails if the name exists, so two concurrent uploads of one task store exactly one zip, and a crash
leaves either the whole file or nothing (stray temporary files are removed at start).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from ..protocol.crypto import InvalidHex, normalize_bytes32


class AlreadyStored(Exception):
    """A result is already stored for this task; results are written once."""


class ResultStore:
    """The stored result zips of a result store. Methods are synchronous and thread-safe."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for stray in self._tmp.iterdir():
            stray.unlink(missing_ok=True)

    def path_of(self, task_id: str) -> Path:
        try:
            task_id = normalize_bytes32(task_id, "task id")
        except InvalidHex:
            raise ValueError(f"not a task id: {task_id.lower()!r}") from None
        return self.root / f"{task_id}.zip"

    def exists(self, task_id: str) -> bool:
        return self.path_of(task_id).is_file()

    def size(self, task_id: str) -> int | None:
        try:
            return self.path_of(task_id).stat().st_size
        except FileNotFoundError:
            return None

    def sha256(self, task_id: str) -> str | None:
        """0x + sha256 of the stored zip, or None if there is none."""
        digest = hashlib.sha256()
        try:
            with self.path_of(task_id).open("rb") as file:
                while chunk := file.read(1024 * 1024):
                    digest.update(chunk)
        except FileNotFoundError:
            return None
        return "0x" + digest.hexdigest()

    def save(self, task_id: str, data: bytes) -> Path:
        """Store `data` as the result of `task_id`; raises AlreadyStored if one is there."""
        final = self.path_of(task_id)
        if final.exists():
            raise AlreadyStored(task_id)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix=final.stem[:12], suffix=".part")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            self._publish(tmp_name, final, task_id)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
        self._fsync_root()
        return final

    def _publish(self, tmp_name: str, final: Path, task_id: str) -> None:
        try:
            os.link(tmp_name, final)
        except FileExistsError as error:
            raise AlreadyStored(task_id) from error
        except OSError:
            # A filesystem without hard links: rename under a lock (safe within this process).
            with self._lock:
                if final.exists():
                    raise AlreadyStored(task_id) from None
                os.rename(tmp_name, final)

    def _fsync_root(self) -> None:
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
