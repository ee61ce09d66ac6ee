"""UPLOAD (PLEASE_UPLOAD): put the result archive in the result store (docs/contracts.md).

`PUT <resultRepositoryURL>/results/<taskId>` with the zip as body and
- `X-Worker`: this wallet,
- `X-Worker-Signature`: EIP-191 signature of upload_body_hash(taskId, sha256(zip)),
- `X-Upload-Authorization`: the scheduler's signature from the push.
201 `{"resultLink": …}` → RESULT_UPLOADED. Anything else → RESULT_UPLOAD_FAILED RESULT_LINK_MISSING with
"<status> PUT <url>: <error>" as errorMessage, so the root cause reaches the requester.
A callback deal uploads nothing: its result is the callback data on chain (spec/worker.md §6.11).
"""

from __future__ import annotations

import asyncio

import httpx

from ...protocol.crypto import result_link, sha256_hex, sign_personal, upload_body_hash
from ...protocol.http import UPLOAD_AUTHORIZATION_HEADER, WORKER_HEADER, WORKER_SIGNATURE_HEADER
from ...protocol.models import TaskNotification
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..client import refusal
from ..context import ReplicateContext
from .outcome import Outcome, failed, succeeded

ATTEMPTS = 3


class UploadFailed(Exception):
    pass


def _describe(response: httpx.Response) -> str:
    return refusal(response.status_code, response.request.method, str(response.request.url), response.text)


async def put_result(http: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> str:
    """The result link; raises UploadFailed with the root cause. Retries transport errors and 5xx."""
    last = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(attempt)
        try:
            response = await http.put(url, content=body, headers={**headers, "Content-Type": "application/zip"})
        except httpx.TransportError as error:
            last = f"PUT {url}: {type(error).__name__} {error}"
            continue
        if response.status_code >= 500:
            last = _describe(response)
            continue
        if response.status_code not in (200, 201):
            raise UploadFailed(_describe(response))
        try:
            link = response.json().get("resultLink")
        except (ValueError, AttributeError):
            link = None
        if not isinstance(link, str) or not link:
            raise UploadFailed(f"{response.status_code} PUT {url}: the answer has no resultLink")
        return link
    raise UploadFailed(last)


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    callback_data = ctx.state.callback_data
    if ctx.state.result_link:
        return succeeded(RS.RESULT_UPLOADED, resultLink=ctx.state.result_link, chainCallbackData=callback_data)
    description = await ctx.description()
    if description.has_callback:
        link = result_link("ethereum", description.deal.callback)
        return succeeded(RS.RESULT_UPLOADED, resultLink=link, chainCallbackData=callback_data)
    extra = notification.taskNotificationExtra
    authorization = extra.resultUploadAuthorization if extra is not None else None
    if not authorization:
        return failed(
            RS.RESULT_UPLOAD_FAILED, Cause.RESULT_LINK_MISSING, "PLEASE_UPLOAD carried no resultUploadAuthorization"
        )
    base = ctx.services.result_repository_url.rstrip("/")
    if not base:
        return failed(RS.RESULT_UPLOAD_FAILED, Cause.RESULT_LINK_MISSING, "the scheduler gave no resultRepositoryURL")
    try:
        body = await asyncio.to_thread(ctx.paths.zip.read_bytes)
    except OSError as error:
        return failed(RS.RESULT_UPLOAD_FAILED, Cause.RESULT_LINK_MISSING, f"no result archive to upload: {error}")
    task = ctx.chain_task_id
    signature = sign_personal(ctx.services.config.private_key, upload_body_hash(task, sha256_hex(body)))
    url = f"{base}/results/{task}"
    headers = {
        WORKER_HEADER: ctx.wallet,
        WORKER_SIGNATURE_HEADER: signature,
        UPLOAD_AUTHORIZATION_HEADER: authorization,
    }
    try:
        link = await put_result(ctx.services.downloads.http, url, body, headers)
    except UploadFailed as error:
        return failed(RS.RESULT_UPLOAD_FAILED, Cause.RESULT_LINK_MISSING, str(error))
    ctx.state.result_link = link
    ctx.save()
    ctx.log.info("result-uploaded", link=link, size=len(body))
    return succeeded(RS.RESULT_UPLOADED, resultLink=link, chainCallbackData=callback_data)
