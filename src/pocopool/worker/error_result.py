"""The error result of a download failure (spec/worker.md §6.5).

Every honest worker that cannot fetch the app or the data writes the same `error.txt` and contributes
its digest, so that the replicas still reach consensus — on "this task could not run" — and the
requester gets a result that says why.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence

from ..protocol.digest import ERROR_FILE_NAME, error_computed_json, error_result_text
from ..protocol.statuses import ReplicateStatus
from ..protocol.statuses import ReplicateStatusCause as Cause
from .postcompute import COMPUTED_JSON, PostComputeError, ResultInfo, post_compute
from .workspace import TaskPaths


def write_error_result(
    paths: TaskPaths, status: ReplicateStatus, causes: Sequence[Cause], has_callback: bool
) -> ResultInfo:
    """Replace any output with error.txt (naming each cause, in order) + computed.json and run the
    standard post-compute.

    Raises PostComputeError(POST_COMPUTE_FAILED_UNKNOWN_ISSUE, …) if that fails (then the replicate
    cannot contribute and the scheduler aborts it).
    """
    try:
        shutil.rmtree(paths.output, ignore_errors=True)
        paths.iexec_out.mkdir(parents=True)
        (paths.iexec_out / ERROR_FILE_NAME).write_text(
            error_result_text(status.value, *(c.value for c in causes)), encoding="utf-8"
        )
        (paths.iexec_out / COMPUTED_JSON).write_text(json.dumps(error_computed_json()), encoding="utf-8")
        return post_compute(paths, has_callback)
    except (OSError, PostComputeError) as error:
        message = error.message if isinstance(error, PostComputeError) else str(error)
        raise PostComputeError(
            Cause.POST_COMPUTE_FAILED_UNKNOWN_ISSUE, f"cannot write the error result: {message}"
        ) from error
