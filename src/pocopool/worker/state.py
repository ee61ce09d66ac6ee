"""What this worker did for one task, kept in `<task>/state.json` so that a restart can resume.

Written atomically after every step that matters (authorization received, status reported, result
digest computed, transaction mined): a crash leaves the previous complete version. A state.json
that does not read back (cut, overwritten) was damaged outside the worker: the replicate it
described cannot be resumed (decision 89).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from ..integrity import DamagedFile
from ..protocol.models import WorkerpoolAuthorization
from ..protocol.statuses import ReplicateStatus
from .workspace import TaskPaths, atomic_write

DAMAGED_STATE_REMEDY = (
    "this replicate is not resumed (the scheduler's timeouts end it) and the startup "
    "cleanup deletes its folder once the scheduler answers"
)


@dataclass
class ReplicateState:
    chain_task_id: str
    authorization: dict[str, Any]
    reported: list[str] = field(default_factory=list)  # statuses the scheduler accepted, in order
    bundle_checksum: str | None = None  # the verified bundle in the cache
    result_digest: str | None = None
    callback_data: str | None = None
    contribution: dict[str, Any] | None = None  # {"blockNumber", "txHash"} of the mined contribute
    reveal: dict[str, Any] | None = None  # {"blockNumber", "txHash"} of the mined reveal
    result_link: str | None = None
    enclave_signature: str | None = None  # TEE: the enclave's signature of the result (post-compute)
    tee_session_id: str | None = None  # TEE: the SMS session of this run (never a secret value)
    sms_url: str | None = None  # TEE: the SMS the scheduler named for this task

    @property
    def workerpool_authorization(self) -> WorkerpoolAuthorization:
        return WorkerpoolAuthorization.model_validate(self.authorization)

    @property
    def last_status(self) -> ReplicateStatus | None:
        return ReplicateStatus(self.reported[-1]) if self.reported else None

    def has_reported(self, status: ReplicateStatus) -> bool:
        return status.value in self.reported

    def record(self, status: ReplicateStatus) -> None:
        if status.value not in self.reported:
            self.reported.append(status.value)

    def save(self, paths: TaskPaths) -> None:
        # The fields as they are (asdict would deep-copy them first: three times the CPU of a save's JSON).
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        atomic_write(paths.state, json.dumps(values, indent=1, sort_keys=True).encode(), mode=0o600)

    @classmethod
    def read(cls, paths: TaskPaths) -> ReplicateState | None:
        """The state of this task folder; None if it has none; DamagedFile (naming the file) if its
        state.json is not a complete state this worker wrote."""
        try:
            text = paths.state.read_bytes()
        except FileNotFoundError:
            return None
        if not text:
            raise DamagedFile(paths.state, "it is empty (0 bytes)", DAMAGED_STATE_REMEDY)
        try:
            data = json.loads(text)
        except ValueError as error:  # also UnicodeDecodeError: random bytes
            raise DamagedFile(paths.state, f"it is not JSON ({error})", DAMAGED_STATE_REMEDY) from None
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or not {"chain_task_id", "authorization"} <= data.keys() <= names:
            raise DamagedFile(paths.state, "it is not a replicate state", DAMAGED_STATE_REMEDY)
        return cls(**data)

    @classmethod
    def load(cls, paths: TaskPaths) -> ReplicateState | None:
        try:
            data = json.loads(paths.state.read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None
