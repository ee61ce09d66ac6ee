"""DATA DOWNLOAD (PLEASE_DOWNLOAD_DATA): the dataset and the input files into `<task>/input`.

- dataset → `input/<datasetAddress>`; an empty body fails; `0x`+sha256 must equal the on-chain
  checksum (an empty checksum is accepted with a warning);
- each input file → `input/0x<sha256(url)>`.
A failure writes the error result and reports DATA_DOWNLOAD_FAILED with DATASET_FILE_DOWNLOAD_FAILED,
DATASET_FILE_BAD_CHECKSUM or INPUT_FILES_DOWNLOAD_FAILED, which are contributed (spec/worker.md §6.3).
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
from ..preflight import preflight, summarize
from .outcome import Outcome, error_result, failed, succeeded


async def run(ctx: ReplicateContext, notification: TaskNotification) -> Outcome:
    failures = await preflight(ctx)
    if failures:
        return failed(RS.DATA_DOWNLOAD_FAILED, failures[0].cause, summarize(failures))
    description = await ctx.description()
    if description.is_tee:  # the pre-compute enclave downloads and decrypts inside its sandbox
        ctx.log.info("data-download-in-enclave", dataset=description.dataset_address or None)
        return succeeded(RS.DATA_DOWNLOADED)
    downloads = ctx.services.downloads
    limit = ctx.services.config.max_download_bytes
    ctx.paths.input.mkdir(parents=True, exist_ok=True)
    ctx.paths.input.chmod(0o755)

    dataset = description.dataset
    if dataset is not None and dataset.multiaddr.strip():
        url = dataset.multiaddr.strip()
        try:
            content = await downloads.fetch(url, limit)
        except DownloadError as error:
            return await error_result(
                ctx, description, RS.DATA_DOWNLOAD_FAILED, Cause.DATASET_FILE_DOWNLOAD_FAILED, str(error)
            )
        if not content:
            return await error_result(
                ctx,
                description,
                RS.DATA_DOWNLOAD_FAILED,
                Cause.DATASET_FILE_DOWNLOAD_FAILED,
                f"200 GET {url}: empty body",
            )
        expected = (dataset.checksum or "").strip().lower()
        found = sha256_hex(content)
        if not expected or expected in ("0x", ZERO_BYTES32):
            ctx.log.warning("dataset-checksum-missing-insecure", dataset=dataset.address, url=url, found=found)
        elif found != expected:
            return await error_result(
                ctx,
                description,
                RS.DATA_DOWNLOAD_FAILED,
                Cause.DATASET_FILE_BAD_CHECKSUM,
                f"dataset checksum mismatch for {url}: expected {expected}, found {found}",
            )
        await asyncio.to_thread(write_file, ctx.paths.input / dataset.address, content)
        ctx.log.info("dataset-downloaded", dataset=dataset.address, size=len(content))

    for url in description.params.iexec_input_files:
        try:
            content = await downloads.fetch(url, limit)
        except DownloadError as error:
            return await error_result(
                ctx, description, RS.DATA_DOWNLOAD_FAILED, Cause.INPUT_FILES_DOWNLOAD_FAILED, str(error)
            )
        await asyncio.to_thread(write_file, ctx.paths.input / input_file_name(url), content)
        ctx.log.info("input-file-downloaded", url=url, size=len(content))
    return succeeded(RS.DATA_DOWNLOADED)
