"""Who may upload and who may download a result: the header names and signatures of both sides.

Three EIP-191 signatures, all over hashes defined in protocol/crypto.py:
- the scheduler (the deal's workerpool owner) signs upload_authorization_hash(worker, taskId) to
  choose the worker that uploads;
- that worker signs upload_body_hash(taskId, sha256(zip)) to bind the upload to its bytes;
- the beneficiary signs download_hash(taskId, timestamp) to download, fresh for DOWNLOAD_MAX_AGE s.

Clients build their headers with `upload_headers` / `download_headers`; the service checks them
with the `*_signer` functions. Nothing here does I/O.
"""

from __future__ import annotations

from ..protocol.crypto import (
    download_hash,
    recover_personal,
    sha256_hex,
    sign_personal,
    upload_authorization_hash,
    upload_body_hash,
)
from ..protocol.http import (
    DOWNLOAD_SIGNATURE_HEADER,
    DOWNLOAD_TIMESTAMP_HEADER,
    UPLOAD_AUTHORIZATION_HEADER,
    WORKER_HEADER,
    WORKER_SIGNATURE_HEADER,
)

# A download signature is accepted this many seconds before or after its timestamp.
DOWNLOAD_MAX_AGE = 300


def sign_upload_authorization(scheduler_key: str, worker: str, task_id: str) -> str:
    """What the scheduler hands the chosen worker with PLEASE_UPLOAD."""
    return sign_personal(scheduler_key, upload_authorization_hash(worker, task_id))


def upload_headers(worker_key: str, worker: str, task_id: str, body: bytes, authorization: str) -> dict[str, str]:
    """The headers of `PUT /results/{task_id}` with `body`, for the worker that holds `worker_key`."""
    signature = sign_personal(worker_key, upload_body_hash(task_id, sha256_hex(body)))
    return {
        WORKER_HEADER: worker,
        WORKER_SIGNATURE_HEADER: signature,
        UPLOAD_AUTHORIZATION_HEADER: authorization,
    }


def download_headers(beneficiary_key: str, task_id: str, timestamp: int) -> dict[str, str]:
    """The headers of `GET /results/{task_id}` signed by the beneficiary at `timestamp` (unix s)."""
    return {
        DOWNLOAD_TIMESTAMP_HEADER: str(timestamp),
        DOWNLOAD_SIGNATURE_HEADER: sign_personal(beneficiary_key, download_hash(task_id, timestamp)),
    }


def upload_authorization_signer(worker: str, task_id: str, signature: str) -> str | None:
    """The address that authorized `worker` to upload `task_id`, or None for a malformed signature."""
    return recover_personal(upload_authorization_hash(worker, task_id), signature)


def upload_body_signer(task_id: str, body_sha256: str, signature: str) -> str | None:
    """The address that signed an upload of the zip whose sha256 is `body_sha256`."""
    return recover_personal(upload_body_hash(task_id, body_sha256), signature)


def download_signer(task_id: str, timestamp: int, signature: str) -> str | None:
    """The address that asked to download `task_id` at `timestamp`."""
    return recover_personal(download_hash(task_id, timestamp), signature)


def timestamp_is_fresh(timestamp: int, now: float, max_age: int = DOWNLOAD_MAX_AGE) -> bool:
    """True when `timestamp` is within `max_age` seconds of `now`, either side (clock skew)."""
    return abs(now - timestamp) <= max_age
