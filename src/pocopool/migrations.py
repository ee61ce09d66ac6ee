"""The one Alembic environment of pocopool's stores (scheduler, SMS): each store's `env.py` calls
`run_environment(metadata)`.

The service passes an open connection in `config.attributes["connection"]`; from the command line,
give the database URL with `-x url=...` (async URLs are fine; SQLite runs on the sync driver).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine


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
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite"):
            engine = create_engine(parsed.set(drivername="sqlite+pysqlite"))
            with engine.begin() as connection:
                run(connection)
            engine.dispose()
            return

        async def main() -> None:
            engine = create_async_engine(url)
            async with engine.begin() as connection:
                await connection.run_sync(run)
            await engine.dispose()

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
