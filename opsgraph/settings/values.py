"""The settings' vocabulary: their enums and constants, ConfigError, and the parsing of a
database URL."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEV_JWT_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused in production
MIN_JWT_SECRET_LENGTH = 32
# what the sales webhook accepts unless OPSGRAPH_WEBHOOK_BRANDS says otherwise
DEFAULT_BRANDS = ("Audi", "BMW", "Mercedes-Benz", "Porsche", "Volkswagen", "Volvo")
MAX_BRAND_LENGTH = 64


class Environment(StrEnum):
    development = "development"
    production = "production"


class LogFormat(StrEnum):
    auto = "auto"  # json in production, readable in development
    json = "json"
    console = "console"


class JwtAlgorithm(StrEnum):
    HS256 = "HS256"  # signs and verifies with OPSGRAPH_JWT_SECRET
    RS256 = "RS256"  # signs with OPSGRAPH_JWT_PRIVATE_KEY (PEM)
    EdDSA = "EdDSA"  # signs with OPSGRAPH_JWT_PRIVATE_KEY (PEM, Ed25519)


class TrustedDocumentsMode(StrEnum):
    open = "open"  # any document runs; persisted queries (APQ) work and are stored
    registered = "registered"  # only documents registered with `opsgraph documents register`


class ConfigError(ValueError):
    """A setting is missing or wrong; the message is one line meant for the operator."""


# how to get an empty database, for the messages that ask for one
FRESH_DATABASE = (
    "set OPSGRAPH_DATA_DIR to an empty directory (embedded PostgreSQL) or point "
    "OPSGRAPH_DATABASE_URL at an empty database, then run `opsgraph migrate`"
)


def sqlalchemy_url(raw: str) -> URL:
    """Parse a PostgreSQL URL and point it at the psycopg 3 driver.

    Accepts ``postgres://``, ``postgresql://`` and ``postgresql+psycopg://``; anything else
    is a ConfigError naming the problem.
    """
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError(
            "database URL is malformed: expected postgresql://user:password@host:port/database"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend not in {"postgresql", "postgres"}:
        raise ConfigError(
            f"database URL must use postgresql://, not {url.drivername}:// "
            "(PostgreSQL is the only supported database)"
        )
    if driver not in {"", "psycopg"}:
        raise ConfigError(f"database URL driver {driver!r} is not supported; use psycopg")
    if not url.database:
        raise ConfigError("database URL names no database: add /<database> after the host")
    return url.set(drivername="postgresql+psycopg")
