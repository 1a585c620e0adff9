"""Configuration: every setting comes from the environment (prefix ``OPSGRAPH_``) or ``.env``.

``.env.example`` lists every setting with its default; a test keeps the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from opsgraph.settings.model import Settings
from opsgraph.settings.values import (
    DEFAULT_BRANDS,
    DEV_JWT_SECRET,
    FRESH_DATABASE,
    MAX_BRAND_LENGTH,
    MIN_JWT_SECRET_LENGTH,
    ConfigError,
    Environment,
    JwtAlgorithm,
    LogFormat,
    TrustedDocumentsMode,
    sqlalchemy_url,
)

__all__ = [
    "DEFAULT_BRANDS",
    "DEV_JWT_SECRET",
    "FRESH_DATABASE",
    "MAX_BRAND_LENGTH",
    "MIN_JWT_SECRET_LENGTH",
    "ConfigError",
    "Environment",
    "JwtAlgorithm",
    "LogFormat",
    "Settings",
    "TrustedDocumentsMode",
    "get_settings",
    "load_settings",
    "sqlalchemy_url",
]


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one ConfigError line."""
    import os

    from pydantic import ValidationError

    # OPSGRAPH_ENV_FILE picks another env file; empty reads none (the tests use that)
    env_file = os.environ.get("OPSGRAPH_ENV_FILE", ".env") or None
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        if where:
            message = f"OPSGRAPH_{where.upper()}: {message}"
            if first["type"] != "value_error":  # a wrong type: say where it is set
                message += " (fix it in the environment or .env; .env.example lists it)"
        raise ConfigError(message) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
