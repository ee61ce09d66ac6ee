"""The scheduler's database schema (SQLAlchemy Core). Migrations in ../migrations create it
(`schema`, run by pocopool.service.database at startup).

Statuses and causes are stored by name. Times are UTC timestamps. Every query run in a loop has an
index: tasks by (status, deadline), replicates by task and by wallet, histories by owner and id,
notifications by (wallet, id), worker memberships by task.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from ...service.database import Schema

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)
_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/pocopool/scheduler

ADDRESS = 42
HASH = 66
STATUS = 40


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes everywhere; SQLite (which has no time zones) stores them naive UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, (int, float)):
            value = datetime.fromtimestamp(value, UTC)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


tasks = Table(
    "tasks",
    metadata,
    Column("chain_task_id", String(HASH), primary_key=True),
    Column("deal_id", String(HASH), nullable=False),
    Column("task_index", Integer, nullable=False),
    Column("deal_block", BigInteger, nullable=False),
    Column("status", String(STATUS), nullable=False),
    Column("status_date", UTCDateTime, nullable=False),
    Column("trust", Integer, nullable=False),
    Column("tag", String(HASH), nullable=False),
    Column("category", Integer, nullable=False),
    Column("max_execution_time", Integer, nullable=False),  # seconds
    Column("app_address", String(ADDRESS), nullable=False),
    Column("app_multiaddr", Text, nullable=False),
    Column("command_line", Text, nullable=False),
    Column("requester", String(ADDRESS), nullable=False),
    Column("beneficiary", String(ADDRESS), nullable=False),
    Column("callback", String(ADDRESS), nullable=False),
    Column("contribution_deadline", UTCDateTime, nullable=False),
    Column("reveal_deadline", UTCDateTime),
    Column("final_deadline", UTCDateTime, nullable=False),
    Column("initialization_block", BigInteger),
    Column("enclave_challenge", String(ADDRESS)),
    Column("uploading_wallet", String(ADDRESS)),
    Column("consensus", String(HASH)),
    Column("consensus_block", BigInteger),
    Column("result_link", Text),
    Column("callback_data", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("deal_id", "task_index"),
    Index(None, "status", "contribution_deadline"),
    Index(None, "status", "final_deadline"),
    Index(None, "status", "reveal_deadline"),
)

task_status_changes = Table(
    "task_status_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", String(HASH), ForeignKey("tasks.chain_task_id", ondelete="CASCADE"), nullable=False),
    Column("status", String(STATUS), nullable=False),
    Column("date", UTCDateTime, nullable=False),
    Column("cause", String(100)),
    Column("message", Text),
    Column("block_number", BigInteger),
    Column("tx_hash", String(HASH)),
    Index(None, "task_id", "id"),
)

replicates = Table(
    "replicates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", String(HASH), ForeignKey("tasks.chain_task_id", ondelete="CASCADE"), nullable=False),
    Column("wallet", String(ADDRESS), nullable=False),
    Column("status", String(STATUS), nullable=False),
    Column("last_relevant_status", String(STATUS), nullable=False),
    Column("contribution_hash", String(HASH)),
    Column("worker_weight", Integer, nullable=False, default=0),
    Column("worker_score", Integer, nullable=True),  # the score on chain when CONTRIBUTED was recorded
    # path → sha256 of each file the result digest read, as the worker reported with COMPUTED (decision 120)
    Column("result_files", JSON, nullable=True),
    Column("result_link", Text),
    Column("callback_data", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("task_id", "wallet"),
    Index(None, "wallet", "task_id"),
    Index(None, "status"),
    Index(None, "last_relevant_status", "task_id"),
)

replicate_status_updates = Table(
    "replicate_status_updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("replicate_id", Integer, ForeignKey("replicates.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(STATUS), nullable=False),
    Column("modifier", String(20), nullable=False),
    Column("date", UTCDateTime, nullable=False),
    Column("cause", String(100)),
    Column("error_message", Text),
    Column("exit_code", Integer),
    Column("block_number", BigInteger),
    Column("tx_hash", String(HASH)),
    Column("result_link", Text),
    Column("tee_session_error", Text),
    Column("exit_causes", JSON, nullable=True),  # [{cause, message}] of a failure with several (decision 122)
    Index(None, "replicate_id", "id"),
)

task_logs = Table(
    "task_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", String(HASH), ForeignKey("tasks.chain_task_id", ondelete="CASCADE"), nullable=False),
    Column("wallet", String(ADDRESS), nullable=False),
    Column("stdout", Text, nullable=False),
    Column("stderr", Text, nullable=False),
    Column("tee_stages", Text, nullable=True),  # JSON list of TeeStageLog (TEE runs only)
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("task_id", "wallet"),
)

workers = Table(
    "workers",
    metadata,
    Column("wallet", String(ADDRESS), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("os", String(100), nullable=False, default=""),
    Column("cpu", String(100), nullable=False, default=""),
    Column("cpu_nb", Integer, nullable=False),
    Column("memory_size", Integer, nullable=False, default=0),
    Column("max_nb_tasks", Integer, nullable=False),
    Column("gpu_enabled", Boolean, nullable=False, default=False),
    Column("tee_enabled", Boolean, nullable=False, default=False),
    Column("tdx_enabled", Boolean, nullable=False, default=False),
    Column("last_alive", UTCDateTime),
    Column("last_replicate_demand", UTCDateTime),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "last_alive"),
)

# participatingChainTaskIds = every row of the worker; computingChainTaskIds = rows with computing.
worker_tasks = Table(
    "worker_tasks",
    metadata,
    Column("wallet", String(ADDRESS), ForeignKey("workers.wallet", ondelete="CASCADE"), primary_key=True),
    Column("task_id", String(HASH), ForeignKey("tasks.chain_task_id", ondelete="CASCADE"), primary_key=True),
    Column("computing", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "task_id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("wallet", String(ADDRESS), nullable=False),
    Column("task_id", String(HASH), ForeignKey("tasks.chain_task_id", ondelete="CASCADE"), nullable=False),
    Column("type", String(STATUS), nullable=False),
    Column("extra", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "wallet", "id"),
)

chain_cursors = Table(
    "chain_cursors",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("last_block", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# What the scheduler's database opener builds and upgrades (service/database.py).
schema = Schema(metadata, _PACKAGE_DIR / "alembic.ini", _PACKAGE_DIR / "migrations")
