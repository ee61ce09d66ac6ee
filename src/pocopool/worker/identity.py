"""What a worker says about itself: its version (checked against the scheduler's requirement) and the
WorkerModel it registers with (spec/worker.md §2.1)."""

from __future__ import annotations

import importlib.metadata
import os
import platform

from ..protocol.models import WorkerModel
from .config import WorkerConfig


def worker_version() -> str:
    try:
        return importlib.metadata.version("pocopool")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def host_memory_gib() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**30)
    except (ValueError, OSError):
        return 0


def worker_model(config: WorkerConfig, wallet: str) -> WorkerModel:
    return WorkerModel(
        name=config.name,
        walletAddress=wallet,
        os=platform.system(),
        cpu=platform.machine(),
        cpuNb=config.slots,
        memorySize=host_memory_gib(),
        teeEnabled=config.tee,
    )


def exception_leaves(group: BaseExceptionGroup) -> list[BaseException]:  # noqa: F821 - builtin since 3.11
    """The exceptions a TaskGroup's failure is made of, nested groups flattened."""
    found: list[BaseException] = []
    for error in group.exceptions:
        found += exception_leaves(error) if isinstance(error, BaseExceptionGroup) else [error]  # noqa: F821
    return found
