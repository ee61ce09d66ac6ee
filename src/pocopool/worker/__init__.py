"""The pocopool worker: runs replicates of PoCo tasks for one wallet (spec/worker.md).

Start it as a process (`python -m pocopool.worker --help`) or in-process:

    worker = Worker(WorkerConfig(scheduler_url=..., workdir=..., private_key=...), chain, clock)
    task = asyncio.create_task(worker.run())
    await worker.ready.wait()
    ...
    worker.stop(); await task

It depends only on `pocopool.protocol` and `pocopool.chain`.
"""

from .agent import Worker
from .config import WorkerConfig

__all__ = ["Worker", "WorkerConfig"]
