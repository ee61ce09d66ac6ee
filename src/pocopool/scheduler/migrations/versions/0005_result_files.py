"""The sha256 of each result file a worker reported with COMPUTED, to say which files differed when
replicates disagree (decision 120).

Revision ID: 0005_result_files
Revises: 0004_worker_score
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_result_files"
down_revision = "0004_worker_score"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("replicates") as batch:
        batch.add_column(sa.Column("result_files", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("replicates") as batch:
        batch.drop_column("result_files")
