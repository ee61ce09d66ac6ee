"""The replicate pipeline, one module per stage (spec/worker.md §6).

Each stage is `async run(ctx, notification) -> Outcome`: it does the work and says which status to
report with which details. The runner (worker/replicate.py) sends the "…ING" status before and the
outcome after, and follows the scheduler's answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ...protocol.models import TaskNotification
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import TaskNotificationType as Next
from ..context import ReplicateContext
from . import (
    abort,
    app_download,
    complete,
    compute,
    contribute,
    contribute_and_finalize,
    data_download,
    reveal,
    start,
    upload,
)
from .outcome import Outcome

StageFunction = Callable[[ReplicateContext, TaskNotification], Awaitable[Outcome]]


@dataclass(frozen=True)
class Stage:
    name: str
    running: RS  # the "…ING" status sent before the work
    done: RS  # the success status: once reported, the same request is not run again
    failed: RS  # reported if the stage breaks in an unexpected way
    run: StageFunction


STAGES: dict[Next, Stage] = {
    Next.PLEASE_START: Stage("start", RS.STARTING, RS.STARTED, RS.START_FAILED, start.run),
    Next.PLEASE_DOWNLOAD_APP: Stage(
        "app_download", RS.APP_DOWNLOADING, RS.APP_DOWNLOADED, RS.APP_DOWNLOAD_FAILED, app_download.run
    ),
    Next.PLEASE_DOWNLOAD_DATA: Stage(
        "data_download", RS.DATA_DOWNLOADING, RS.DATA_DOWNLOADED, RS.DATA_DOWNLOAD_FAILED, data_download.run
    ),
    Next.PLEASE_COMPUTE: Stage("compute", RS.COMPUTING, RS.COMPUTED, RS.COMPUTE_FAILED, compute.run),
    Next.PLEASE_CONTRIBUTE: Stage("contribute", RS.CONTRIBUTING, RS.CONTRIBUTED, RS.CONTRIBUTE_FAILED, contribute.run),
    Next.PLEASE_CONTRIBUTE_AND_FINALIZE: Stage(
        "contribute_and_finalize",
        RS.CONTRIBUTE_AND_FINALIZE_ONGOING,
        RS.CONTRIBUTE_AND_FINALIZE_DONE,
        RS.CONTRIBUTE_AND_FINALIZE_FAILED,
        contribute_and_finalize.run,
    ),
    Next.PLEASE_REVEAL: Stage("reveal", RS.REVEALING, RS.REVEALED, RS.REVEAL_FAILED, reveal.run),
    Next.PLEASE_UPLOAD: Stage("upload", RS.RESULT_UPLOADING, RS.RESULT_UPLOADED, RS.RESULT_UPLOAD_FAILED, upload.run),
    Next.PLEASE_COMPLETE: Stage("complete", RS.COMPLETING, RS.COMPLETED, RS.COMPLETE_FAILED, complete.run),
}

__all__ = ["STAGES", "Outcome", "Stage", "abort"]
