"""The pocopool scheduler: watches deals, hands replicates to workers, follows every status, finalizes.

In process (tests, an in-process cluster):

    from pocopool.scheduler import Scheduler, SchedulerConfig
    scheduler = Scheduler(SchedulerConfig(workerpool=..., private_key=..., db_url=..., port=0), chain, clock)
    await scheduler.start()          # scheduler.url is now known
    task = asyncio.create_task(scheduler.run()) ... scheduler.stop(); await task

As a process: `python -m pocopool.scheduler --chain local:PATH --key-file F --workerpool ADDR --db URL ...`.
"""

from .config import SchedulerConfig
from .service import Scheduler

__all__ = ["Scheduler", "SchedulerConfig"]
