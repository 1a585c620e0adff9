"""Database access: engine and sessions, Alembic migrations, the embedded PostgreSQL."""

from opsgraph.db.engine import (
    SessionFactory,
    check_connection,
    create_engine,
    create_session_factory,
    describe,
    libpq_dsn,
)

__all__ = [
    "SessionFactory",
    "check_connection",
    "create_engine",
    "create_session_factory",
    "describe",
    "libpq_dsn",
]
