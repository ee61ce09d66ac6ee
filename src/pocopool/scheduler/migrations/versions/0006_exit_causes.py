"""Each cause of a replicate failure that has several, with its message (decision 122).

Revision ID: 0006_exit_causes
Revises: 0005_result_files
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_exit_causes"
down_revision = "0005_result_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("replicate_status_updates") as batch:
        batch.add_column(sa.Column("exit_causes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("replicate_status_updates") as batch:
        batch.drop_column("exit_causes")
