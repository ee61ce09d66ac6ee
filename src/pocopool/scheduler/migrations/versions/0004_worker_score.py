"""The worker's score on chain when its contribution was recorded, beside the weight it gave.

Revision ID: 0004_worker_score
Revises: 0003_tee_stage_logs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_worker_score"
down_revision = "0003_tee_stage_logs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("replicates") as batch:
        batch.add_column(sa.Column("worker_score", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("replicates") as batch:
        batch.drop_column("worker_score")
