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


def create_engine(url: str | URL, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        url if isinstance(url, URL) else sqlalchemy_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": settings.db_connect_timeout,
            "application_name": "opsgraph",
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
