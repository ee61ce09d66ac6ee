"""The enclave stages' logs of a TEE run (pre-compute, app, post-compute), beside the app's logs.

Revision ID: 0003_tee_stage_logs
Revises: 0002_detector_indexes
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_tee_stage_logs"
down_revision = "0002_detector_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_logs") as batch:
        batch.add_column(sa.Column("tee_stages", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task_logs") as batch:
        batch.drop_column("tee_stages")
