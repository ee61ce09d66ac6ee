"""The result digest every honest worker computes the same way (spec/worker.md §6.7).

The worker, the simulated post-compute enclave and the result store all call `result_digest`, so
that they cannot disagree on a valid result (docs/decisions.md, decision 100). It is pure: the files
are read through a `ResultFiles` the caller hands in (a folder on disk, or an uploaded zip).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .crypto import InvalidHex, hex_to_bytes, keccak_hex, sha256_hex

MAX_RESULT_FILE_NAME = 31
ERROR_FILE_NAME = "error.txt"
OUTPUT_ROOT = "/iexec_out"  # the app's view of its output folder
COMPUTED_FILE = "computed.json"
MAX_REPORTED_FILES = 256  # a worker reports the sha256 of at most this many result files

EntryKind = Literal["file", "folder", "link"]


class DigestError(ValueError):
    """No digest can be computed; the message says why, in one sentence."""


@dataclass(frozen=True)
class ComputedFile:
    """The fields of computed.json the digest reads (spec/worker.md §6.6; unknown keys ignored)."""

    deterministic_output_path: str | None
    callback_data: str | None
    error_message: str | None

    @classmethod
    def parse(cls, raw: bytes) -> ComputedFile:
        try:
            data: Any = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DigestError(f"{COMPUTED_FILE} is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise DigestError(f"{COMPUTED_FILE} must be a JSON object")

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return cls(text("deterministic-output-path"), text("callback-data"), text("error-message"))


class ResultFiles(Protocol):
    """The task's iexec_out folder as the digest reads it.

    Paths are relative to iexec_out, "/"-separated, "" being iexec_out itself.
    """

    def kind(self, path: str) -> EntryKind | None:
        """What `path` is; None if nothing is there. Only asked once every ancestor is a folder."""

    def children(self, folder: str) -> Iterable[str]:
        """The paths of the direct children of `folder`."""

    def file_sha256(self, path: str) -> bytes:
        """The raw 32-byte sha256 of the file at `path`."""


def output_relative_path(deterministic_path: str | None) -> str:
    """The path inside iexec_out that `deterministic-output-path` names ("" for iexec_out itself).

    Empty and "." segments are dropped; a ".." segment is refused rather than normalised, since
    what it names depends on links the readers see differently (decision 100).
    """
    if not deterministic_path:
        raise DigestError(f"{COMPUTED_FILE} has no deterministic-output-path")
    if not deterministic_path.startswith("/") or "\x00" in deterministic_path:
        raise DigestError(f"deterministic-output-path {deterministic_path!r} is not an absolute path")
    parts = [part for part in deterministic_path.split("/") if part not in ("", ".")]
    if not parts or parts[0] != OUTPUT_ROOT.strip("/"):
        raise DigestError(f"deterministic-output-path {deterministic_path!r} is not under {OUTPUT_ROOT}")
    if ".." in parts:
        raise DigestError(f"deterministic-output-path {deterministic_path!r} contains '..'")
    return "/".join(parts[1:])


def _web2_inputs(files: ResultFiles, deterministic_path: str | None) -> tuple[EntryKind, list[tuple[str, bytes]]]:
    """What the digest of a deterministic output reads: ("file", [(path, sha256)]) for a file, or
    ("folder", [(path, sha256) of each direct child file, sorted by path]) for a folder."""
    relative = output_relative_path(deterministic_path)
    parts = relative.split("/") if relative else []
    kind: EntryKind | None = "folder"
    for depth in range(len(parts) + 1):
        if kind != "folder":  # an ancestor that is not a folder: nothing can be under it
            raise DigestError(f"deterministic-output-path {deterministic_path!r} does not exist")
        kind = files.kind("/".join(parts[:depth]))
        if kind == "link":
            raise DigestError(
                f"deterministic-output-path {deterministic_path!r} is or passes through a symbolic link "
                "(the result zip holds a link as an empty file)"
            )
        if kind is None:
            raise DigestError(f"deterministic-output-path {deterministic_path!r} does not exist")
    if kind == "file":
        return "file", [(relative, files.file_sha256(relative))]
    inputs: list[tuple[str, bytes]] = []
    for child in sorted(files.children(relative)):
        kind = files.kind(child)
        if kind == "file":
            inputs.append((child, files.file_sha256(child)))
        elif kind == "link":  # as the result zip holds it: an empty file
            inputs.append((child, hashlib.sha256(b"").digest()))
    return "folder", inputs


def _web2_digest(kind: EntryKind, inputs: list[tuple[str, bytes]]) -> str:
    if kind == "file":
        return "0x" + inputs[0][1].hex()
    return keccak_hex(b"".join(sha for _, sha in inputs))


def digest_and_files(
    computed: ComputedFile, files: ResultFiles, *, callback: bool
) -> tuple[str, dict[str, str] | None]:
    """`result_digest`, and the files it was built from: path (relative to iexec_out) → "0x" + the
    sha256 of its bytes; None for a callback deal (its digest reads no file) and past
    MAX_REPORTED_FILES files (a status update stays small). A worker reports these
    with COMPUTED, so that replicates that disagree can be told which files differed (decision 120)."""
    if callback:
        return result_digest(computed, files, callback=True), None
    kind, inputs = _web2_inputs(files, computed.deterministic_output_path)
    reported = {path: "0x" + sha.hex() for path, sha in inputs} if len(inputs) <= MAX_REPORTED_FILES else None
    return _web2_digest(kind, inputs), reported


def digests_of_files(files: Mapping[str, str]) -> set[str]:
    """The result digests that reported files (`digest_and_files`) can give: the folder's keccak of
    their sha256s sorted by path, and with one file, that file's own sha256 (a file as the output)."""
    try:
        hashes = [hex_to_bytes(files[path], 32, "file sha256") for path in sorted(files)]
    except InvalidHex:
        return set()
    found = {keccak_hex(b"".join(hashes))}
    if len(hashes) == 1:
        found.add("0x" + hashes[0].hex())
    return found


def result_digest(computed: ComputedFile, files: ResultFiles, *, callback: bool) -> str:
    """The result digest a worker votes on (spec/worker.md §6.7); raises DigestError.

    A callback deal: keccak of the hex-decoded callback-data ("" or absent is an error). Otherwise
    the deterministic output: a file gives the sha256 of its bytes; a folder gives keccak of the
    sha256 of each direct child file, sorted by path (a sub-folder adds nothing, a link counts as
    an empty file); a missing path, or one through a link, is an error.
    """
    if callback:
        if not computed.callback_data:
            raise DigestError(f"the deal has a callback but {COMPUTED_FILE} has no callback-data")
        try:
            return callback_digest(computed.callback_data)
        except InvalidHex as error:
            raise DigestError(f"callback-data is not hex: {error}") from error
    return _web2_digest(*_web2_inputs(files, computed.deterministic_output_path))


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


def error_result_text(status: str, *causes: str) -> str:
    """The error.txt of a download failure, byte-identical to the reference (worker.md §6.5): its list
    of WorkflowErrors as Java prints a list of records, one per cause."""
    listed = ", ".join(f"WorkflowError[cause={cause}, message=]" for cause in causes)
    return f"[IEXEC] Errors occurred while computing the task [error:{status}, causes:[{listed}]]"


def error_computed_json() -> dict[str, object]:
    return {
        "deterministic-output-path": f"/iexec_out/{ERROR_FILE_NAME}",
        "callback-data": None,
        "task-id": None,
        "result-digest": None,
        "enclave-signature": None,
        "error-message": None,
    }
