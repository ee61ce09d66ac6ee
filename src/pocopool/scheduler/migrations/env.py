"""Alembic environment of the scheduler store (pocopool/migrations.py; pocopool.service.database passes the connection)."""

from pocopool.migrations import run_environment
from pocopool.scheduler.store.tables import metadata

run_environment(metadata)
