"""The scheduler's settings (docs/contracts.md command line): each field with its option, once."""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol.tags import TeeFramework
from ..protocol.tee import SIM_FRAMEWORK
from ..service.config import http_url, port_number, setting


def _optional_http_url(text: str) -> str:
    return http_url(text) if text else ""


@dataclass(frozen=True, kw_only=True)
class SchedulerConfig:
    workerpool: str = setting("--workerpool", help="the workerpool address this scheduler serves")
    # 0x-hex key of the workerpool owner: signs authorizations and sends transactions (from --key-file)
    private_key: str
    db_url: str = setting("--db", help="sqlite:////abs/path.db or postgresql://user@host:port/db (service/database.py)")
    results_url: str = setting(
        "--results-url", default="", help="the result store workers upload to (resultRepositoryURL)"
    )
    host: str = setting("--host", default="127.0.0.1", help="address to listen on")
    port: int = setting("--port", default=13000, read=port_number, help="port to listen on (0: any free port)")
    ask_period_ms: int = setting("--ask-period-ms", default=300, help="how often a worker may ask for work")
    poll_interval: float = setting("--poll-interval", default=0.2, help="seconds between two reads of new deals")
    detector_period: float = setting("--detector-period", default=1.0, help="seconds between two detector runs")
    worker_lost_after: float = setting(
        "--worker-lost-after",
        default=60.0,
        help="seconds without a ping before a worker's replicates are marked WORKER_LOST",
    )
    upload_timeout_periods: float = setting(
        "--upload-timeout-periods",
        default=2.0,
        help="category periods a chosen uploader has before the next revealer is asked",
    )
    full_scan_every: int = setting(
        "--full-scan-every",
        default=10,
        help="the unnotified-contribution/reveal detectors check every replicate once in this many runs",
    )
    jwt_secret: bytes | None = None  # None: a random secret per process (tokens die with it); --jwt-secret-file
    update_workers: int = 16  # coroutines applying task updates
    sms_url: str = setting(
        "--sms",
        default="",
        read=_optional_http_url,
        metavar="URL",
        help="the SMS of TEE tasks (tee-sim, framework GRAMINE); without it TEE tasks fail to initialize",
    )

    @property
    def tee_frameworks(self) -> frozenset[TeeFramework]:
        """The frameworks this pool serves: the one SMS plays tee-sim's framework (docs/tee.md); the
        SMS must confirm it at `GET /tee/framework` before a task is initialized."""
        return frozenset({TeeFramework(SIM_FRAMEWORK)}) if self.sms_url else frozenset()
