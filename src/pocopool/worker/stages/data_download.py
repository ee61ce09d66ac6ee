"""DATA DOWNLOAD (PLEASE_DOWNLOAD_DATA): the dataset and the input files into `<task>/input`.

- dataset → `input/<datasetAddress>`; an empty body fails; `0x`+sha256 must equal the on-chain
  checksum (an empty checksum is accepted with a warning);
- each input file → `input/0x<sha256(url)>`.
Every download is tried; the failures (DATASET_FILE_DOWNLOAD_FAILED, DATASET_FILE_BAD_CHECKSUM,
INPUT_FILES_DOWNLOAD_FAILED, one per file) write one error result naming each and are reported
together as DATA_DOWNLOAD_FAILED, then contributed (spec/worker.md §6.3, decision 122).
"""

from __future__ import annotations

import asyncio

from ...protocol.crypto import ZERO_BYTES32, sha256_hex
from ...protocol.models import TaskNotification
from ...protocol.statuses import ReplicateStatus as RS
from ...protocol.statuses import ReplicateStatusCause as Cause
from ..context import ReplicateContext
from ..downloads import DownloadError, write_file
from ..env import input_file_name
from ..preflight import causes, preflight
from .outcome import Outcome, error_result, failed_each, succeeded


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    refused = await preflight(ctx)
    if refused:
        return failed_each(RS.DATA_DOWNLOAD_FAILED, causes(refused))
    description = await ctx.description()
    if description.is_tee:  # the pre-compute enclave downloads and decrypts inside its sandbox
        ctx.log.info("data-download-in-enclave", dataset=description.dataset_address or None)
        return succeeded(RS.DATA_DOWNLOADED)
    downloads = ctx.services.downloads
    limit = ctx.services.config.max_download_bytes
    ctx.paths.input.mkdir(parents=True, exist_ok=True)
    ctx.paths.input.chmod(0o755)

    failures: list[tuple[Cause, str]] = []  # every one is reported, in order (decision 122)
    dataset = description.dataset
    if dataset is not None and dataset.multiaddr.strip():
        failure = await _dataset(ctx, dataset.address, dataset.multiaddr.strip(), dataset.checksum, limit)
        if failure is not None:
            failures.append(failure)
    for url in description.params.iexec_input_files:
        try:
            content = await downloads.fetch(url, limit)
        except DownloadError as error:
            failures.append((Cause.INPUT_FILES_DOWNLOAD_FAILED, str(error)))
            continue
        await asyncio.to_thread(write_file, ctx.paths.input / input_file_name(url), content)
        ctx.log.info("input-file-downloaded", url=url, size=len(content))
    if failures:
        return await error_result(ctx, description, RS.DATA_DOWNLOAD_FAILED, failures)
    return succeeded(RS.DATA_DOWNLOADED)


async def _dataset(
    ctx: ReplicateContext, address: str, url: str, checksum: str | None, limit: int
) -> tuple[Cause, str] | None:
    """Download the dataset into `input/<address>`; its failure, if any."""
    try:
        content = await ctx.services.downloads.fetch(url, limit)
    except DownloadError as error:
        return Cause.DATASET_FILE_DOWNLOAD_FAILED, str(error)
    if not content:
        return Cause.DATASET_FILE_DOWNLOAD_FAILED, f"200 GET {url}: empty body"
    expected = (checksum or "").strip().lower()
    found = sha256_hex(content)
    if not expected or expected in ("0x", ZERO_BYTES32):
        ctx.log.warning("dataset-checksum-missing-insecure", dataset=address, url=url, found=found)
    elif found != expected:
        return (
            Cause.DATASET_FILE_BAD_CHECKSUM,
            f"dataset checksum mismatch for {url}: expected {expected}, found {found}",
        )
    await asyncio.to_thread(write_file, ctx.paths.input / address, content)
    ctx.log.info("dataset-downloaded", dataset=address, size=len(content))
    return None
