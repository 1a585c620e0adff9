"""Configuration: every setting comes from the environment (prefix ``OPSGRAPH_``) or ``.env``.

``.env.example`` lists every setting with its default; a test keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPSGRAPH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str | None = Field(
        default=None,
        description="postgresql://user:pass@host:port/db; unset starts an embedded PostgreSQL",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_pool_timeout: float = Field(
        default=3.0,
        gt=0,
        le=300,
        description="seconds a request waits for a pooled connection; then 503 with Retry-After",
    )
    db_connect_timeout: int = Field(default=5, ge=1, le=120)
    db_statement_timeout: float = Field(
        default=15.0,
        ge=0,
        le=3600,
        description="seconds one SQL statement may run (PostgreSQL statement_timeout; 0: none)",
    )
    db_lock_timeout: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="seconds a statement waits for a row or table lock (lock_timeout; 0: none)",
    )
    db_idle_in_transaction_timeout: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="seconds a transaction may sit idle before PostgreSQL ends its session "
        "(idle_in_transaction_session_timeout; 0: none)",
    )
    db_retry_after: int = Field(
        default=5,
        ge=1,
        le=3600,
        description="the Retry-After (seconds) of a 503 answered while the database is unavailable",
    )
    data_dir: Path = Field(default=Path(".opsgraph"))
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    shutdown_drain_seconds: float = Field(
        default=20.0,
        ge=0,
        le=3600,
        description="on SIGTERM, how long requests in flight may still finish before they "
        "are cancelled and the server exits",
    )
    http_keep_alive_seconds: int = Field(
        default=5, ge=1, le=600, description="idle keep-alive connections are closed after this"
    )
    http_header_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="seconds a client has to send a request's headers; then the connection "
        "is closed",
    )
    http_max_header_bytes: int = Field(
        default=64 * 1024,
        ge=4 * 1024,
        le=1024 * 1024,
        description="the largest request line and headers accepted (h11's incomplete event size)",
    )
    environment: Environment = Environment.development
    jwt_secret: str = DEV_JWT_SECRET
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.auto
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated addresses or CIDR networks of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; empty believes none",
    )
    introspection: bool = Field(
        default=False,
        description="true opens introspection (__schema, __type) and the 'Did you mean' "
        "suggestions to everyone in production; they are always open in development",
    )
    graphiql: bool | None = Field(
        default=None,
        description="serve GraphiQL to browsers at /graphql; unset: in development only",
    )
    graphiql_cdn: bool = Field(
        default=False,
        description="load GraphiQL's pinned files from a public CDN instead of `make assets`",
    )
    compiled_reads: bool = Field(
        default=True,
        description="run queries over the mapped graph level by level (opsgraph.execution); "
        "false runs every query on the resolvers",
    )
    # --- limits on GraphQL documents (opsgraph.schema.limits) ----------------------------
    graphql_max_length: int = Field(
        default=100_000,
        ge=1_000,
        le=1024 * 1024,
        description="characters a GraphQL document may have (the query text, not its variables)",
    )
    graphql_max_tokens: int = Field(
        default=5_000,
        ge=100,
        le=1_000_000,
        description="tokens a GraphQL document may have (comments count too); parsing stops there",
    )
    graphql_max_depth: int = Field(
        default=12, ge=1, le=200, description="fields with a selection set nested in each other"
    )
    graphql_max_fields: int = Field(
        default=2_000,
        ge=1,
        le=1_000_000,
        description="fields a document selects with its fragments expanded",
    )
    graphql_max_aliases: int = Field(
        default=50, ge=0, le=100_000, description="aliases, with the fragments expanded"
    )
    graphql_max_directives: int = Field(
        default=50, ge=0, le=100_000, description="directives, with the fragments expanded"
    )
    graphql_max_duplicate_fields: int = Field(
        default=100,
        ge=0,
        le=100_000,
        description="fields selected again where a field of the same response name is "
        "already selected",
    )
    # --- sign-in ------------------------------------------------------------------------
    jwt_algorithm: JwtAlgorithm = JwtAlgorithm.HS256
    jwt_key_id: str = Field(default="main", min_length=1, max_length=64)
    jwt_private_key: str = Field(default="", description="PEM signing key for RS256/EdDSA")
    jwt_verification_keys: dict[str, str] = Field(
        default_factory=dict,
        description="JSON {kid: HS256 secret or PEM public key}: keys that still verify "
        "tokens after the signing key rotated",
    )
    jwt_issuer: str = Field(default="opsgraph", min_length=1)
    jwt_audience: str = Field(default="opsgraph", min_length=1)
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    bcrypt_rounds: int = Field(
        default=12,
        ge=4,
        le=16,
        description="bcrypt cost of new password hashes; a login with a hash of another "
        "cost rehashes it",
    )
    password_scheme: Literal["bcrypt", "argon2id"] = Field(
        default="bcrypt",
        description="how new password hashes are made; logins verify either scheme and "
        "rehash a password held in the other one",
    )
    password_min_length: int = Field(default=10, ge=8, le=72)
    login_max_failures: int = Field(default=10, ge=1, le=1000)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    self_signup: bool = False
    bootstrap_admin_username: str = ""
    bootstrap_admin_email: str = ""
    bootstrap_admin_password: str = ""
    # --- mutations ----------------------------------------------------------------------
    idempotency_key_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="how long an Idempotency-Key is remembered"
    )
    idempotency_wait_seconds: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description="how long a repeat waits for the first request with its Idempotency-Key "
        "to finish before it gets IDEMPOTENCY_IN_PROGRESS",
    )
    # --- trusted documents --------------------------------------------------------------
    trusted_documents: TrustedDocumentsMode = Field(
        default=TrustedDocumentsMode.open,
        description="open: any document runs, persisted queries are stored automatically; "
        "registered: only documents registered with `opsgraph documents register` run",
    )
    trusted_documents_admin_bypass: bool = Field(
        default=True,
        description="in the registered mode, signed-in users holding user:admin (not API "
        "keys) may still send any document, e.g. from GraphiQL",
    )
    apq_max_documents: int = Field(
        default=10_000,
        ge=0,
        le=1_000_000,
        description="automatic persisted queries kept at most (open mode; 0 stores none)",
    )

    # --- query cost (opsgraph.execution.cost, opsgraph.auth.budget) ----------------------
    query_cost_limit: int = Field(
        default=5_000_000,
        ge=1,
        description="the most one operation may cost; a costlier one is refused before it "
        "runs (QUERY_TOO_COSTLY)",
    )
    cost_budget: int = Field(
        default=1_000_000_000,
        ge=0,
        description="what one caller (user, API key, or client address) may spend per window, "
        "the sum of its operations' costs (then 429 BUDGET_EXCEEDED); 0 turns budgets off",
    )
    cost_budget_window_seconds: int = Field(
        default=60, ge=1, le=24 * 60 * 60, description="the window of the cost budget"
    )
    cost_budget_storage_url: str = Field(
        default="memory://",
        min_length=1,
        description="where budgets are counted: memory:// (each server process on its own), "
        "or a shared store the limits library knows: redis://host:port, memcached://host:port, "
        "mongodb://host:port",
    )
    # --- inbound webhooks (opsgraph.rest.inbound) ----------------------------------------
    sales_webhook_secret: str = Field(
        default="",
        description="whsec_ secret the regional offices sign POST /v1/sales-webhook with "
        "(Standard Webhooks); empty: the API key alone authenticates",
    )
    manufacturer_webhook_secret: str = Field(
        default="",
        description="whsec_ secret manufacturers sign POST /v1/update-state-webhook/{id} "
        "with; empty: the API key alone authenticates",
    )
    webhook_brands: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_BRANDS),
        description="comma-separated brands the sales webhook accepts (matched "
        "case-insensitively, stored as spelled here)",
    )

    # --- outbound webhooks (opsgraph.webhooks) -------------------------------------------
    webhooks_allow_insecure: bool = Field(
        default=False,
        description="let webhook endpoints be loopback addresses, over http or https (tests "
        "and local development); private, link-local and metadata addresses stay refused",
    )
    webhooks_secret_overlap_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        description="after a webhook endpoint's secret is rotated, how long deliveries are "
        "also signed with the previous one",
    )
    # --- the job queue's workers (opsgraph.jobs.worker) ------------------------------
    worker_in_serve: bool = Field(
        default=True,
        description="`opsgraph serve` runs a worker in its own process (`--no-worker` or "
        "false: workers run apart, `opsgraph worker`)",
    )
    worker_concurrency: int = Field(
        default=10, ge=1, le=200, description="jobs one worker runs at once"
    )
    worker_heartbeat_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="how often a worker says it is alive"
    )
    worker_stalled_seconds: float = Field(
        default=60.0,
        gt=0,
        le=24 * 3600,
        description="a worker silent for this long is taken for dead: its running jobs are "
        "queued again (checked at start and every WORKER_STALLED_SECONDS / 2)",
    )
    worker_shutdown_seconds: float = Field(
        default=15.0,
        ge=0,
        le=3600,
        description="on SIGTERM, how long running jobs may finish before they are cancelled "
        "(and queued again)",
    )

    @field_validator("cors_origins", "trusted_proxies", "webhook_brands", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return value

    @field_validator("webhook_brands")
    @classmethod
    def _check_brands(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one brand")
        too_long = [brand for brand in value if len(brand) > MAX_BRAND_LENGTH]
        if too_long:
            raise ValueError(f"brands have at most {MAX_BRAND_LENGTH} characters: {too_long}")
        return value

    @field_validator("sales_webhook_secret", "manufacturer_webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: str) -> str:
        value = value.strip()
        if value and not _valid_webhook_secret(value):
            raise ValueError("must be whsec_ followed by the base64 of at least 24 bytes")
        return value

    @field_validator("graphiql", mode="before")
    @classmethod
    def _unset_graphiql(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        sqlalchemy_url(value)  # raises ConfigError with a readable message
        return value.strip()

    @model_validator(mode="after")
    def _production_secret(self) -> Settings:
        if self.environment is Environment.production:
            if self.jwt_secret == DEV_JWT_SECRET or not self.jwt_secret:
                raise ValueError(
                    "OPSGRAPH_JWT_SECRET must be set to a private value in production "
                    f"(at least {MIN_JWT_SECRET_LENGTH} characters)"
                )
            if len(self.jwt_secret) < MIN_JWT_SECRET_LENGTH:
                raise ValueError(
                    f"OPSGRAPH_JWT_SECRET is too short for production: "
                    f"{len(self.jwt_secret)} characters, at least {MIN_JWT_SECRET_LENGTH} needed"
                )
        return self

    @model_validator(mode="after")
    def _bootstrap_admin(self) -> Settings:
        given = [
            bool(self.bootstrap_admin_username),
            bool(self.bootstrap_admin_email),
            bool(self.bootstrap_admin_password),
        ]
        if any(given) and not all(given):
            raise ValueError(
                "OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME, _EMAIL and _PASSWORD go together: "
                "set all three or none"
            )
        return self

    @model_validator(mode="after")
    def _verification_keys(self) -> Settings:
        if self.jwt_key_id in self.jwt_verification_keys:
            raise ValueError(
                f"OPSGRAPH_JWT_VERIFICATION_KEYS names the signing key's kid {self.jwt_key_id!r}"
            )
        if self.jwt_algorithm is JwtAlgorithm.HS256:
            short = [kid for kid, key in self.jwt_verification_keys.items() if len(key) < 32]
            if short:
                raise ValueError(
                    "OPSGRAPH_JWT_VERIFICATION_KEYS: HS256 keys need at least 32 characters "
                    f"(too short: {', '.join(short)})"
                )
        return self

    @model_validator(mode="after")
    def _heartbeat_within_stall(self) -> Settings:
        if self.worker_heartbeat_seconds >= self.worker_stalled_seconds:
            raise ValueError(
                f"OPSGRAPH_WORKER_HEARTBEAT_SECONDS ({self.worker_heartbeat_seconds}) must be "
                f"less than OPSGRAPH_WORKER_STALLED_SECONDS ({self.worker_stalled_seconds}): "
                "live workers would be taken for dead"
            )
        return self

    @model_validator(mode="after")
    def _budget_holds_an_operation(self) -> Settings:
        if 0 < self.cost_budget < self.query_cost_limit:
            raise ValueError(
                f"OPSGRAPH_COST_BUDGET ({self.cost_budget}) is smaller than "
                f"OPSGRAPH_QUERY_COST_LIMIT ({self.query_cost_limit}): an operation under the "
                "limit could never run; raise the budget or set it to 0 (off)"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def introspection_open(self) -> bool:
        """Introspection and suggestions for everyone: in development, or when enabled."""
        return self.introspection or not self.is_production

    @property
    def graphiql_enabled(self) -> bool:
        return not self.is_production if self.graphiql is None else self.graphiql

    @property
    def json_logs(self) -> bool:
        if self.log_format is LogFormat.auto:
            return self.is_production
        return self.log_format is LogFormat.json

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"


def _valid_webhook_secret(secret: str) -> bool:
    from opsgraph.webhooks.signing import valid_secret

    return valid_secret(secret)


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
