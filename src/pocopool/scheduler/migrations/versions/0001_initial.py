"""Initial schema: tasks and their history, replicates and theirs, logs, workers, pushes, chain cursor.

Revision ID: 0001_initial
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ADDRESS, HASH, STATUS = 42, 66, 40


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "chain_cursors",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_chain_cursors"),
    )
    op.create_table(
        "tasks",
        sa.Column("chain_task_id", sa.String(HASH), nullable=False),
        sa.Column("deal_id", sa.String(HASH), nullable=False),
        sa.Column("task_index", sa.Integer(), nullable=False),
        sa.Column("deal_block", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(STATUS), nullable=False),
        _time("status_date"),
        sa.Column("trust", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(HASH), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("max_execution_time", sa.Integer(), nullable=False),
        sa.Column("app_address", sa.String(ADDRESS), nullable=False),
        sa.Column("app_multiaddr", sa.Text(), nullable=False),
        sa.Column("command_line", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(ADDRESS), nullable=False),
        sa.Column("beneficiary", sa.String(ADDRESS), nullable=False),
        sa.Column("callback", sa.String(ADDRESS), nullable=False),
        _time("contribution_deadline"),
        _time("reveal_deadline", nullable=True),
        _time("final_deadline"),
        sa.Column("initialization_block", sa.BigInteger(), nullable=True),
        sa.Column("enclave_challenge", sa.String(ADDRESS), nullable=True),
        sa.Column("uploading_wallet", sa.String(ADDRESS), nullable=True),
        sa.Column("consensus", sa.String(HASH), nullable=True),
        sa.Column("consensus_block", sa.BigInteger(), nullable=True),
        sa.Column("result_link", sa.Text(), nullable=True),
        sa.Column("callback_data", sa.Text(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("chain_task_id", name="pk_tasks"),
        sa.UniqueConstraint("deal_id", "task_index", name="uq_tasks_deal_id_task_index"),
    )
    op.create_index("ix_tasks_status_contribution_deadline", "tasks", ["status", "contribution_deadline"])
    op.create_index("ix_tasks_status_final_deadline", "tasks", ["status", "final_deadline"])
    op.create_table(
        "workers",
        sa.Column("wallet", sa.String(ADDRESS), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("os", sa.String(100), nullable=False),
        sa.Column("cpu", sa.String(100), nullable=False),
        sa.Column("cpu_nb", sa.Integer(), nullable=False),
        sa.Column("memory_size", sa.Integer(), nullable=False),
        sa.Column("max_nb_tasks", sa.Integer(), nullable=False),
        sa.Column("gpu_enabled", sa.Boolean(), nullable=False),
        sa.Column("tee_enabled", sa.Boolean(), nullable=False),
        sa.Column("tdx_enabled", sa.Boolean(), nullable=False),
        _time("last_alive", nullable=True),
        _time("last_replicate_demand", nullable=True),
        _time("registered_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("wallet", name="pk_workers"),
    )
    op.create_table(
        "task_status_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(HASH), nullable=False),
        sa.Column("status", sa.String(STATUS), nullable=False),
        _time("date"),
        sa.Column("cause", sa.String(100), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", sa.String(HASH), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.chain_task_id"], ondelete="CASCADE", name="fk_task_status_changes_task_id_tasks"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_task_status_changes"),
    )
    op.create_index("ix_task_status_changes_task_id_id", "task_status_changes", ["task_id", "id"])
    op.create_table(
        "replicates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(HASH), nullable=False),
        sa.Column("wallet", sa.String(ADDRESS), nullable=False),
        sa.Column("status", sa.String(STATUS), nullable=False),
        sa.Column("last_relevant_status", sa.String(STATUS), nullable=False),
        sa.Column("contribution_hash", sa.String(HASH), nullable=True),
        sa.Column("worker_weight", sa.Integer(), nullable=False),
        sa.Column("result_link", sa.Text(), nullable=True),
        sa.Column("callback_data", sa.Text(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.chain_task_id"], ondelete="CASCADE", name="fk_replicates_task_id_tasks"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_replicates"),
        sa.UniqueConstraint("task_id", "wallet", name="uq_replicates_task_id_wallet"),
    )
    op.create_index("ix_replicates_wallet_task_id", "replicates", ["wallet", "task_id"])
    op.create_index("ix_replicates_status", "replicates", ["status"])
    op.create_table(
        "replicate_status_updates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("replicate_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(STATUS), nullable=False),
        sa.Column("modifier", sa.String(20), nullable=False),
        _time("date"),
        sa.Column("cause", sa.String(100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", sa.String(HASH), nullable=True),
        sa.Column("result_link", sa.Text(), nullable=True),
        sa.Column("tee_session_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["replicate_id"],
            ["replicates.id"],
            ondelete="CASCADE",
            name="fk_replicate_status_updates_replicate_id_replicates",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_replicate_status_updates"),
    )
    op.create_index("ix_replicate_status_updates_replicate_id_id", "replicate_status_updates", ["replicate_id", "id"])
    op.create_table(
        "task_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(HASH), nullable=False),
        sa.Column("wallet", sa.String(ADDRESS), nullable=False),
        sa.Column("stdout", sa.Text(), nullable=False),
        sa.Column("stderr", sa.Text(), nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.chain_task_id"], ondelete="CASCADE", name="fk_task_logs_task_id_tasks"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_task_logs"),
        sa.UniqueConstraint("task_id", "wallet", name="uq_task_logs_task_id_wallet"),
    )
    op.create_table(
        "worker_tasks",
        sa.Column("wallet", sa.String(ADDRESS), nullable=False),
        sa.Column("task_id", sa.String(HASH), nullable=False),
        sa.Column("computing", sa.Boolean(), nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["wallet"], ["workers.wallet"], ondelete="CASCADE", name="fk_worker_tasks_wallet_workers"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.chain_task_id"], ondelete="CASCADE", name="fk_worker_tasks_task_id_tasks"
        ),
        sa.PrimaryKeyConstraint("wallet", "task_id", name="pk_worker_tasks"),
    )
    op.create_index("ix_worker_tasks_task_id", "worker_tasks", ["task_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("wallet", sa.String(ADDRESS), nullable=False),
        sa.Column("task_id", sa.String(HASH), nullable=False),
        sa.Column("type", sa.String(STATUS), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.chain_task_id"], ondelete="CASCADE", name="fk_notifications_task_id_tasks"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index("ix_notifications_wallet_id", "notifications", ["wallet", "id"])


def downgrade() -> None:
    for table in (
        "notifications",
        "worker_tasks",
        "task_logs",
        "replicate_status_updates",
        "replicates",
        "task_status_changes",
        "workers",
        "tasks",
        "chain_cursors",
    ):
        op.drop_table(table)
