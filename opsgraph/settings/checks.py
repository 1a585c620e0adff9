"""The checks of single settings and of settings that go together, run by pydantic when
Settings are built; each failure is a message naming the setting and what it needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsgraph.settings.values import (
    DEV_JWT_SECRET,
    MAX_BRAND_LENGTH,
    MIN_JWT_SECRET_LENGTH,
    Environment,
    JwtAlgorithm,
    sqlalchemy_url,
)

if TYPE_CHECKING:
    from opsgraph.settings.model import Settings


def split_origins(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def check_proxies(value: list[str]) -> list[str]:
    import ipaddress

    for item in value:
        try:
            ipaddress.ip_network(item)
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
    return value


def check_brands(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("list at least one brand")
    too_long = [brand for brand in value if len(brand) > MAX_BRAND_LENGTH]
    if too_long:
        raise ValueError(f"brands have at most {MAX_BRAND_LENGTH} characters: {too_long}")
    return value


def check_webhook_secret(value: str) -> str:
    value = value.strip()
    if value and not _valid_webhook_secret(value):
        raise ValueError("must be whsec_ followed by the base64 of at least 24 bytes")
    return value


def unset_graphiql(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def check_level(value: str) -> str:
    level = value.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def check_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    sqlalchemy_url(value)  # raises ConfigError with a readable message
    return value.strip()


def production_secret(settings: Settings) -> Settings:
    if settings.environment is Environment.production:
        if settings.jwt_secret == DEV_JWT_SECRET or not settings.jwt_secret:
            raise ValueError(
                "OPSGRAPH_JWT_SECRET must be set to a private value in production "
                f"(at least {MIN_JWT_SECRET_LENGTH} characters)"
            )
        if len(settings.jwt_secret) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(
                f"OPSGRAPH_JWT_SECRET is too short for production: "
                f"{len(settings.jwt_secret)} characters, at least {MIN_JWT_SECRET_LENGTH} needed"
            )
    return settings


def bootstrap_admin(settings: Settings) -> Settings:
    given = [
        bool(settings.bootstrap_admin_username),
        bool(settings.bootstrap_admin_email),
        bool(settings.bootstrap_admin_password),
    ]
    if any(given) and not all(given):
        raise ValueError(
            "OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME, _EMAIL and _PASSWORD go together: "
            "set all three or none"
        )
    return settings


def verification_keys(settings: Settings) -> Settings:
    if settings.jwt_key_id in settings.jwt_verification_keys:
        raise ValueError(
            f"OPSGRAPH_JWT_VERIFICATION_KEYS names the signing key's kid {settings.jwt_key_id!r}"
        )
    if settings.jwt_algorithm is JwtAlgorithm.HS256:
        short = [kid for kid, key in settings.jwt_verification_keys.items() if len(key) < 32]
        if short:
            raise ValueError(
                "OPSGRAPH_JWT_VERIFICATION_KEYS: HS256 keys need at least 32 characters "
                f"(too short: {', '.join(short)})"
            )
    return settings


def heartbeat_within_stall(settings: Settings) -> Settings:
    if settings.worker_heartbeat_seconds >= settings.worker_stalled_seconds:
        raise ValueError(
            f"OPSGRAPH_WORKER_HEARTBEAT_SECONDS ({settings.worker_heartbeat_seconds}) must be "
            f"less than OPSGRAPH_WORKER_STALLED_SECONDS ({settings.worker_stalled_seconds}): "
            "live workers would be taken for dead"
        )
    return settings


def budget_holds_an_operation(settings: Settings) -> Settings:
    if 0 < settings.cost_budget < settings.query_cost_limit:
        raise ValueError(
            f"OPSGRAPH_COST_BUDGET ({settings.cost_budget}) is smaller than "
            f"OPSGRAPH_QUERY_COST_LIMIT ({settings.query_cost_limit}): an operation under the "
            "limit could never run; raise the budget or set it to 0 (off)"
        )
    return settings


def _valid_webhook_secret(secret: str) -> bool:
    from opsgraph.webhooks.signing import valid_secret

    return valid_secret(secret)
