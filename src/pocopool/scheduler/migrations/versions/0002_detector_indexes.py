"""Indexes for the detectors of issue 3: reveal deadlines, replicates by last relevant status, worker liveness.

Revision ID: 0002_detector_indexes
Revises: 0001_initial
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002_detector_indexes"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_status_reveal_deadline", "tasks", ["status", "reveal_deadline"])
    op.create_index("ix_replicates_last_relevant_status_task_id", "replicates", ["last_relevant_status", "task_id"])
    op.create_index("ix_workers_last_alive", "workers", ["last_alive"])


def downgrade() -> None:
    op.drop_index("ix_workers_last_alive", "workers")
    op.drop_index("ix_replicates_last_relevant_status_task_id", "replicates")
    op.drop_index("ix_tasks_status_reveal_deadline", "tasks")
