"""Alembic environment: online migrations over psycopg 3, models as the target metadata."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import opsgraph.models  # noqa: F401 - registers every table
from opsgraph.db.migrations import include_name
from opsgraph.models.base import Base
from opsgraph.settings import get_settings, sqlalchemy_url

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    configured = get_settings().database_url
    if not configured:
        raise SystemExit(
            "OPSGRAPH_DATABASE_URL is not set; use `opsgraph migrate`, which starts the "
            "embedded PostgreSQL when needed"
        )
    return sqlalchemy_url(configured).render_as_string(hide_password=False)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        # one migrator at a time: deploys that start several replicas stay safe
        context.execute("SELECT pg_advisory_xact_lock(74527301)")
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
