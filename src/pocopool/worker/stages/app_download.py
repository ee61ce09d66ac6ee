"""APP DOWNLOAD (PLEASE_DOWNLOAD_APP): fetch the bundle, check its sha256, extract it safely.

Any failure of the bundle itself writes the error result and reports APP_DOWNLOAD_FAILED with cause
APP_IMAGE_DOWNLOAD_FAILED, so that the error is contributed (spec/worker.md §6.2).
"""

from __future__ import annotations

from ...protocol.models import TaskNotification
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..bundle import BundleError
from ..context import ReplicateContext
from ..preflight import causes, preflight
from .outcome import Outcome, error_result, failed_each, succeeded

SUPPORTED_APP_TYPES = ("BUNDLE",)


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    failures = await preflight(ctx)
    if failures:
        return failed_each(RS.APP_DOWNLOAD_FAILED, causes(failures))
    description = await ctx.description()
    app = description.app
    try:
        if app.app_type.upper() not in SUPPORTED_APP_TYPES:
            raise BundleError(f"app type {app.app_type!r} is not supported (only {', '.join(SUPPORTED_APP_TYPES)})")
        bundle, cached = await ctx.services.bundles.get(app.multiaddr, app.checksum)
    except BundleError as error:
        ctx.log.warning("app-download-failed", app=app.address, url=app.multiaddr, error=str(error))
        return await error_result(
            ctx, description, RS.APP_DOWNLOAD_FAILED, [(Cause.APP_IMAGE_DOWNLOAD_FAILED, str(error))]
        )
    ctx.state.bundle_checksum = app.checksum
    ctx.save()
    ctx.log.info(
        "app-ready", app=app.address, app_name=bundle.name, cached=cached, entrypoint=" ".join(bundle.entrypoint)
    )
    return succeeded(RS.APP_DOWNLOADED)
