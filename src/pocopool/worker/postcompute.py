"""Standard post-compute (spec/worker.md §6.6): check names, zip iexec_out, copy computed.json, digest.

The folder reading, the name check and the zip are `pocopool.result_folder`, shared with the
simulated post-compute enclave.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from ..protocol.digest import COMPUTED_FILE, MAX_RESULT_FILE_NAME, ComputedFile, DigestError
from ..protocol.statuses import ReplicateStatusCause as Cause
from ..result_folder import compute_digest, compute_digest_and_files, too_long_names, zip_folder
from .workspace import TaskPaths

COMPUTED_JSON = COMPUTED_FILE


class PostComputeError(Exception):
    """The post-compute failed: `cause` and `message` the first reason, `causes` each reason with its
    own message (several result files with too long a name are one cause each, decision 122)."""

    def __init__(self, cause: Cause, message: str, causes: Sequence[tuple[Cause, str]] = ()) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message
        self.causes = list(causes) or [(cause, message)]


@dataclass(frozen=True)
class ResultInfo:
    digest: str
    callback_data: str | None
    files: dict[str, str] | None = None  # path → sha256 of each file the digest read (decision 120)


def post_compute(paths: TaskPaths, has_callback: bool) -> ResultInfo:
    """Run §6.6 then §6.7 on `<task>/output`; raises PostComputeError with the reference cause."""
    iexec_out = paths.iexec_out
    try:
        long_names = too_long_names(iexec_out)
    except OSError as error:
        raise PostComputeError(Cause.POST_COMPUTE_FAILED_UNKNOWN_ISSUE, f"cannot list iexec_out: {error}") from error
    if long_names:
        too_long = Cause.POST_COMPUTE_TOO_LONG_RESULT_FILE_NAME
        raise PostComputeError(
            too_long,
            f"result file names longer than {MAX_RESULT_FILE_NAME} characters: {', '.join(long_names[:5])}",
            [(too_long, f"{name}: a name longer than {MAX_RESULT_FILE_NAME} characters") for name in long_names],
        )
    try:
        zip_folder(iexec_out, paths.zip)
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise PostComputeError(Cause.POST_COMPUTE_OUT_FOLDER_ZIP_FAILED, f"cannot zip iexec_out: {error}") from error
    source = iexec_out / COMPUTED_JSON
    if source.is_symlink() or not source.is_file():
        raise PostComputeError(Cause.POST_COMPUTE_COMPUTED_FILE_NOT_FOUND, "the app wrote no /iexec_out/computed.json")
    try:
        shutil.copyfile(source, paths.computed)
        raw = paths.computed.read_bytes()
    except OSError as error:
        raise PostComputeError(
            Cause.POST_COMPUTE_SEND_COMPUTED_FILE_FAILED, f"cannot copy computed.json: {error}"
        ) from error
    try:
        computed = ComputedFile.parse(raw)
        digest, files = compute_digest_and_files(iexec_out, computed, has_callback)
    except DigestError as error:
        raise PostComputeError(Cause.POST_COMPUTE_RESULT_DIGEST_COMPUTATION_FAILED, str(error)) from error
    return ResultInfo(digest=digest, callback_data=computed.callback_data, files=files)


def read_result(paths: TaskPaths, has_callback: bool) -> ResultInfo:
    """The digest of an existing result (recovery): from output/computed.json and iexec_out."""
    try:
        computed = ComputedFile.parse(paths.computed.read_bytes())
    except OSError as error:
        raise DigestError(f"cannot read output/computed.json: {error}") from error
    return ResultInfo(compute_digest(paths.iexec_out, computed, has_callback), computed.callback_data)
