"""The one Alembic environment of pocopool's stores (scheduler, SMS): each store's `env.py` calls
`run_environment(metadata)`.

The service passes an open connection in `config.attributes["connection"]`; from the command line,
give the database URL with `-x url=...`, read by the services' own URL rules (pocopool.service.database).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from .service.database import Schema, open_database


def run_environment(metadata: MetaData) -> None:
    config = context.config

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    def run_from_url(url: str) -> None:
        """Opened as the service opens it (URL rules, SQLite pragmas), migrated in one write transaction."""
        schema = Schema(
            metadata, Path(config.config_file_name or ""), Path(config.get_main_option("script_location", ""))
        )

        async def main() -> None:
            database = open_database(url, schema)
            try:
                await database.run(run)
            finally:
                await database.dispose()

        asyncio.run(main())

    if context.is_offline_mode():
        context.configure(
            url=context.get_x_argument(as_dictionary=True).get("url"), target_metadata=metadata, literal_binds=True
        )
        with context.begin_transaction():
            context.run_migrations()
    elif config.attributes.get("connection") is not None:
        run(config.attributes["connection"])
    else:
        url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
        if not url:
            raise SystemExit("give the database URL: alembic ... -x url=sqlite:////abs/path.db upgrade head")
        run_from_url(url)
