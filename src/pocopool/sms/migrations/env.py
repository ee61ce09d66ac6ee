"""Alembic environment of the SMS store (pocopool/migrations.py; pocopool.service.database passes the connection)."""

from pocopool.migrations import run_environment
from pocopool.sms.tables import metadata

run_environment(metadata)
