"""Initial SMS schema: secrets, task challenges, sessions.

Revision ID: 0001_initial
Revises:
Create Date: 2025-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ADDRESS, HASH = 42, 66


def _time(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "secrets",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("address", sa.String(ADDRESS), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        _time("updated"),
        sa.PrimaryKeyConstraint("kind", "address", "name", name="pk_secrets"),
    )
    op.create_table(
        "task_challenges",
        sa.Column("task_id", sa.String(HASH), nullable=False),
        sa.Column("address", sa.String(ADDRESS), nullable=False),
        sa.Column("encrypted_private_key", sa.LargeBinary(), nullable=False),
        _time("created"),
        sa.PrimaryKeyConstraint("task_id", name="pk_task_challenges"),
    )
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(HASH), nullable=False),
        sa.Column("worker", sa.String(ADDRESS), nullable=False),
        sa.Column("app_fingerprint", sa.String(64), nullable=False),
        sa.Column("pre_env", sa.LargeBinary(), nullable=False),
        sa.Column("app_env", sa.LargeBinary(), nullable=False),
        sa.Column("post_env", sa.LargeBinary(), nullable=False),
        _time("created"),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_task_id", "sessions", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_task_id", table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("task_challenges")
    op.drop_table("secrets")
