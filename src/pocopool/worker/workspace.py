"""The worker's work directory: one folder per task, the bundle cache, the notification cursor.

```
<workdir>/
    .lock                       held while a worker uses this directory
    notifications.cursor        id of the last push handled (GET /workers/notifications?after=…)
    bundles/<sha256>/           verified, extracted app bundles, shared by tasks
    <chainTaskId>/              one task ("task base dir", spec/worker.md §1)
        state.json              what this worker did for the task (recovery reads it)
        input/                  -> /iexec_in  (dataset, input files)
        output/iexec_out/       -> /iexec_out (the app's results)
        output/iexec_out.zip    the result archive: its presence means "result available"
        output/computed.json    copy of the app's computed.json
```
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..protocol.crypto import InvalidHex, normalize_bytes32


def _is_task_id(name: str) -> bool:
    try:
        normalize_bytes32(name)
    except InvalidHex:
        return False
    return True


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file so that readers (and a restart) see the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@dataclass(frozen=True)
class TaskPaths:
    root: Path

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def input(self) -> Path:
        return self.root / "input"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def iexec_out(self) -> Path:
        return self.output / "iexec_out"

    @property
    def zip(self) -> Path:
        return self.output / "iexec_out.zip"

    @property
    def computed(self) -> Path:
        return self.output / "computed.json"

    def purge(self) -> bool:
        """Delete the task folder; True if it is gone afterwards."""
        shutil.rmtree(self.root, ignore_errors=True)
        return not self.root.exists()


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock_fd: int | None = None

    def open(self) -> None:
        """Create the directory and lock it: two workers must never share one."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.bundles.mkdir(exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            os.close(fd)
            raise RuntimeError(f"another worker is using {self.root}") from error
        self._lock_fd = fd

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @property
    def bundles(self) -> Path:
        return self.root / "bundles"

    @property
    def cursor_file(self) -> Path:
        return self.root / "notifications.cursor"

    def task(self, chain_task_id: str) -> TaskPaths:
        try:
            return TaskPaths(self.root / normalize_bytes32(chain_task_id, "task id"))
        except InvalidHex:
            raise ValueError(f"not a task id: {chain_task_id!r}") from None

    def task_ids_on_disk(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _is_task_id(p.name))

    def purge_all_but(self, keep: set[str]) -> list[str]:
        """Delete every task folder not in `keep` (startup cleanup, spec/worker.md §2.1 step 9)."""
        keep_lower = {task.lower() for task in keep}
        purged = [task for task in self.task_ids_on_disk() if task.lower() not in keep_lower]
        for task in purged:
            self.task(task).purge()
        return purged
