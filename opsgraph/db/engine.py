"""Engine and session factory: SQLAlchemy 2 async over psycopg 3."""

from __future__ import annotations

import re

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
DEFAULT_PORT = 5432


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
    host = parsed.query.get("host") or parsed.host or "localhost"
    if isinstance(host, tuple):  # ?host=a&host=b
        host = ",".join(host)
    port = parsed.port or (None if host.startswith("/") else DEFAULT_PORT)
    return f"{host}:{port}/{parsed.database}" if port else f"{host}/{parsed.database}"


def libpq_dsn(url: str | URL) -> str:
    """The URL in the form psycopg/libpq accept (no ``+psycopg`` driver suffix)."""
    parsed = url if isinstance(url, URL) else sqlalchemy_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def check_connection(url: str | URL, timeout: int = 5, *, may_be_down: bool = False) -> bool:
    """Connect once, synchronously; True when it worked. A refusal becomes a one-line
    ConfigError; with ``may_be_down``, a server that is down, starting or stopping (one
    that may come back by itself) is False instead."""
    try:
        with psycopg.connect(libpq_dsn(url), connect_timeout=timeout) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        if may_be_down and _comes_back(exc):
            return False
        raise ConfigError(connection_failure(url, exc, timeout)) from None
    return True


# what libpq's reason for a failed connection means for the person who configured the URL,
# and whether the server may come back by itself (down, starting, stopping, busy) rather
# than the URL or the server's settings being wrong
CONNECTION_ADVICE: tuple[tuple[str, str, bool], ...] = (
    ("connection refused", "check that PostgreSQL is running there and listens on that port", True),
    ("no such file or directory", "check that PostgreSQL is running there", True),
    ("could not translate host name", "check the host name in OPSGRAPH_DATABASE_URL", False),
    ("name or service not known", "check the host name in OPSGRAPH_DATABASE_URL", False),
    (
        "password authentication failed",
        "check the user and password in OPSGRAPH_DATABASE_URL",
        False,
    ),
    ("no password supplied", "add the password to OPSGRAPH_DATABASE_URL", False),
    ('role "', "check the user in OPSGRAPH_DATABASE_URL", False),
    ("no pg_hba.conf entry", "allow this client in the server's pg_hba.conf", False),
    ("too many clients", "wait for connections to close, or raise max_connections", True),
    ("starting up", "wait until it has started", True),
    ("shutting down", "start it again", True),
)


def _comes_back(error: psycopg.Error) -> bool:
    reason = str(error).lower()
    return isinstance(error, psycopg.errors.ConnectionTimeout) or any(
        needle in reason for needle, _, comes_back in CONNECTION_ADVICE if comes_back
    )


def connection_failure(url: str | URL, error: psycopg.Error, timeout: int) -> str:
    """One line for a connection that failed: where (never the password), libpq's reason
    without its repetitions and hints, and what to check."""
    where = describe(url)
    if isinstance(error, psycopg.errors.ConnectionTimeout):
        return (
            f"cannot connect to database {where}: no answer within {timeout} s; check the "
            "host and port in OPSGRAPH_DATABASE_URL and that no firewall drops the connection"
        )
    # libpq: 'connection to server at "h" (addr), port p failed: FATAL:  reason' per address
    # tried, each perhaps followed by tab-indented hints; the last attempt's reason is enough
    attempts = [line for line in str(error).splitlines() if line.strip() and line[0] != "\t"]
    reason = attempts[-1] if attempts else type(error).__name__
    reason = reason.rsplit(" failed: ", 1)[-1].removeprefix("connection failed: ")
    reason = reason.removeprefix("FATAL:").strip().rstrip(".")
    lowered = reason.lower()
    missing = re.fullmatch(r'database "(.+)" does not exist', reason)
    if missing:
        advice = (
            f"create it (`createdb {missing.group(1)}`) or fix the database name in "
            "OPSGRAPH_DATABASE_URL"
        )
    else:
        advice = next(
            (advice for needle, advice, _ in CONNECTION_ADVICE if needle in lowered),
            "check OPSGRAPH_DATABASE_URL and that PostgreSQL is running there",
        )
    return f"cannot connect to database {where}: {reason[:1].lower()}{reason[1:]}; {advice}"
