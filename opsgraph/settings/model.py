"""The Settings model: every setting, its default, bounds and description."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from opsgraph.settings import checks
from opsgraph.settings.values import (
    DEFAULT_BRANDS,
    DEV_JWT_SECRET,
    Environment,
    JwtAlgorithm,
    LogFormat,
    TrustedDocumentsMode,
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

    # the checks (opsgraph.settings.checks), in the order they run
    _split_origins = field_validator(
        "cors_origins", "trusted_proxies", "webhook_brands", mode="before"
    )(checks.split_origins)
    _check_proxies = field_validator("trusted_proxies")(checks.check_proxies)
    _check_brands = field_validator("webhook_brands")(checks.check_brands)
    _check_webhook_secret = field_validator("sales_webhook_secret", "manufacturer_webhook_secret")(
        checks.check_webhook_secret
    )
    _unset_graphiql = field_validator("graphiql", mode="before")(checks.unset_graphiql)
    _check_level = field_validator("log_level")(checks.check_level)
    _check_url = field_validator("database_url")(checks.check_url)
    _production_secret = model_validator(mode="after")(checks.production_secret)
    _bootstrap_admin = model_validator(mode="after")(checks.bootstrap_admin)
    _verification_keys = model_validator(mode="after")(checks.verification_keys)
    _heartbeat_within_stall = model_validator(mode="after")(checks.heartbeat_within_stall)
    _budget_holds_an_operation = model_validator(mode="after")(checks.budget_holds_an_operation)

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
