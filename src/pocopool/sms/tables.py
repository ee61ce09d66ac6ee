"""The SMS tables. Values that must stay secret are only ever stored as vault ciphertext."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from ..service.database import Schema

metadata = sa.MetaData()

ADDRESS, HASH = 42, 66

secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("address", sa.String(ADDRESS), primary_key=True),  # lowercase
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)

challenges = sa.Table(
    "task_challenges",
    metadata,
    sa.Column("task_id", sa.String(HASH), primary_key=True),  # lowercase
    sa.Column("address", sa.String(ADDRESS), nullable=False),  # checksummed: what the scheduler gets
    sa.Column("encrypted_private_key", sa.LargeBinary(), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("task_id", sa.String(HASH), nullable=False, index=True),
    sa.Column("worker", sa.String(ADDRESS), nullable=False),
    sa.Column("app_fingerprint", sa.String(64), nullable=False),  # the measurement the app enclave must show
    sa.Column("pre_env", sa.LargeBinary(), nullable=False),  # each stage's env: vault ciphertext of JSON
    sa.Column("app_env", sa.LargeBinary(), nullable=False),
    sa.Column("post_env", sa.LargeBinary(), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires", sa.BigInteger(), nullable=False),  # chain time, seconds
)

# What the SMS's database opener builds and upgrades (service/database.py).
_PACKAGE_DIR = Path(__file__).resolve().parent  # src/pocopool/sms
schema = Schema(metadata, _PACKAGE_DIR / "alembic.ini", _PACKAGE_DIR / "migrations")
