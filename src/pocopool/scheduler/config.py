"""The scheduler's settings (docs/contracts.md command line)."""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol.tags import TeeFramework
from ..protocol.tee import SIM_FRAMEWORK


@dataclass(frozen=True)
class SchedulerConfig:
    workerpool: str  # the workerpool address this scheduler serves
    private_key: str  # 0x-hex key of the workerpool owner: signs authorizations and sends transactions
    db_url: str  # sqlite:////abs/path.db or postgresql://user@host:port/db (service/database.py)
    results_url: str = ""  # the result store workers upload to (PublicConfiguration.resultRepositoryURL)
    host: str = "127.0.0.1"
    port: int = 13000  # 0: any free port (see Scheduler.url once started)
    ask_period_ms: int = 300  # how often a worker may ask for a replicate
    poll_interval: float = 0.2  # seconds between two reads of new deals
    detector_period: float = 1.0  # seconds between two detector runs
    worker_lost_after: float = 60.0  # seconds without a ping before a worker's replicates are WORKER_LOST
    upload_timeout_periods: float = 2.0  # category periods a chosen uploader has before the next revealer is asked
    full_scan_every: int = 10  # unnotified detectors look at every replicate once in this many runs
    jwt_secret: bytes | None = None  # None: a random secret per process (tokens die with it)
    update_workers: int = 16  # coroutines applying task updates
    sms_url: str = ""  # the SMS of TEE tasks ("": TEE tasks fail at INITIALIZE_FAILED TEE_NOT_SUPPORTED)

    @property
    def tee_frameworks(self) -> frozenset[TeeFramework]:
        """The frameworks this pool serves: the one SMS plays tee-sim's framework (docs/tee.md); the
        SMS must confirm it at `GET /tee/framework` before a task is initialized."""
        return frozenset({TeeFramework(SIM_FRAMEWORK)}) if self.sms_url else frozenset()
