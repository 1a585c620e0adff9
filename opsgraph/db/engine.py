"""Engine and session factory: SQLAlchemy 2 async over psycopg 3."""

from __future__ import annotations

import psycopg
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from opsgraph.settings import ConfigError, Settings, sqlalchemy_url

SessionFactory = async_sessionmaker[AsyncSession]


def session_options(settings: Settings) -> str:
    """libpq ``options`` for every connection of the app: no statement, lock wait or idle
    transaction lasts longer than the settings allow (0 turns one off)."""
    limits = {
        "statement_timeout": settings.db_statement_timeout,
        "lock_timeout": settings.db_lock_timeout,
        "idle_in_transaction_session_timeout": settings.db_idle_in_transaction_timeout,
    }
    return " ".join(f"-c {name}={round(seconds * 1000)}" for name, seconds in limits.items())


def create_engine(url: str | URL, settings: Settings) -> AsyncEngine:
    """The app's engine. Its errors never carry the statement's parameters (the values
    users sent), so log lines don't either; migrations use an engine of their own, without
    the timeouts."""
    return create_async_engine(
        url if isinstance(url, URL) else sqlalchemy_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={
            "connect_timeout": settings.db_connect_timeout,
            "application_name": "opsgraph",
            "options": session_options(settings),
        },
    )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def describe(url: str | URL) -> str:
    """host:port/database of a URL, without its password, for messages."""
    parsed = url if isinstance(url, URL) else sqlalchemy_url(url)
    host = parsed.host or parsed.query.get("host") or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database}"


def libpq_dsn(url: str | URL) -> str:
    """The URL in the form psycopg/libpq accept (no ``+psycopg`` driver suffix)."""
    parsed = url if isinstance(url, URL) else sqlalchemy_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def check_connection(url: str | URL, timeout: int = 5) -> None:
    """Connect once, synchronously; a refusal becomes a one-line ConfigError."""
    try:
        with psycopg.connect(libpq_dsn(url), connect_timeout=timeout) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"cannot connect to database {describe(url)}: {reason}") from None
