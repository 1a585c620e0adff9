"""Alembic, driven from code: ``opsgraph migrate``, start-up and the tests all come here."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, create_engine, pool

from opsgraph.settings import ConfigError, sqlalchemy_url

# the job queue's tables and functions belong to procrastinate (created by a migration
# from its own schema file), not to the models
FOREIGN_PREFIX = "procrastinate"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name``: compare and autogenerate the models' objects only."""
    return not (type_ == "table" and (name or "").startswith(FOREIGN_PREFIX))


def migrations_dir() -> Path:
    """``migrations/`` at the repository root (or in the working directory of an image)."""
    for candidate in (
        Path(__file__).resolve().parents[2] / "migrations",
        Path.cwd() / "migrations",
    ):
        if (candidate / "env.py").is_file():
            return candidate
    raise ConfigError("migrations directory not found next to the opsgraph package")


def alembic_config(url: str | URL | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        rendered = (url if isinstance(url, URL) else sqlalchemy_url(url)).render_as_string(
            hide_password=False
        )
        cfg.attributes["database_url"] = rendered
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url: str | URL, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(url: str | URL) -> str | None:
    engine = create_engine(
        url if isinstance(url, URL) else sqlalchemy_url(url), poolclass=pool.NullPool
    )
    try:
        with engine.connect() as conn:
            return current_revision_of(conn)
    finally:
        engine.dispose()
