"""The result digest every honest worker computes the same way (spec/worker.md §6.7).

Pure functions over bytes; reading the files is the caller's job.
"""

from __future__ import annotations

import hashlib

from .crypto import hex_to_bytes, keccak_hex, sha256_hex

MAX_RESULT_FILE_NAME = 31
ERROR_FILE_NAME = "error.txt"


def file_digest(content: bytes) -> str:
    """A deterministic output that is one file: sha256 of its bytes."""
    return sha256_hex(content)


def folder_digest(children: list[tuple[str, bytes | None]]) -> str:
    """A deterministic output that is a folder: keccak of the sha256 of each direct child.

    `children` are (path, bytes) pairs; a child folder has bytes None and adds nothing, as in the
    reference. Children are sorted by path.
    """
    concatenated = b""
    for _, content in sorted(children, key=lambda child: child[0]):
        if content is not None:
            concatenated += hashlib.sha256(content).digest()
    return keccak_hex(concatenated)


def callback_digest(callback_data: str) -> str:
    """A callback task votes on keccak of the hex-decoded callback data."""
    return keccak_hex(hex_to_bytes(callback_data, None, "callback-data"))


def error_result_text(status: str, cause: str) -> str:
    """The error.txt of a download failure, byte-identical to the reference (worker.md §6.5)."""
    return (
        f"[IEXEC] Errors occurred while computing the task [error:{status}, "
        f"causes:[WorkflowError[cause={cause}, message=]]]"
    )


def error_computed_json() -> dict[str, object]:
    return {
        "deterministic-output-path": f"/iexec_out/{ERROR_FILE_NAME}",
        "callback-data": None,
        "task-id": None,
        "result-digest": None,
        "enclave-signature": None,
        "error-message": None,
    }
