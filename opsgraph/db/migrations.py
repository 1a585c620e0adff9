"""Alembic, driven from code: ``opsgraph migrate``, start-up and the tests all come here."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
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
    raise ConfigError(
        "migrations directory not found next to the opsgraph package: run opsgraph from its "
        "repository (or the image's working directory), where migrations/ is"
    )


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
    """The database's revision; None when no migration was applied (or all were reverted)."""
    engine = create_engine(
        url if isinstance(url, URL) else sqlalchemy_url(url), poolclass=pool.NullPool
    )
    context_log = logging.getLogger("alembic.runtime.migration")
    level = context_log.level
    context_log.setLevel(logging.WARNING)  # reading the revision is no news ("Context impl")
    try:
        with engine.connect() as conn:
            return current_revision_of(conn)
    finally:
        context_log.setLevel(level)
        engine.dispose()


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this opsgraph's migrations."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def _unknown(where: str, current: str) -> ConfigError:
    return ConfigError(
        f"{where} is at migration {current}, which this opsgraph does not know (a newer "
        "opsgraph migrated it): run that newer opsgraph against it"
    )


def check_known(url: str | URL, where: str) -> None:
    """Fail with one line when the database is at a revision this opsgraph does not know
    (``where`` names it for people): no migration may start from there."""
    current = current_revision(url)
    if current is not None and not known_revision(current):
        raise _unknown(where, current)


def check_schema(url: str | URL, where: str) -> None:
    """Fail with one line unless the database (``where`` names it for people) is migrated
    to this opsgraph's head: no tables yet, an older revision, or one this opsgraph does
    not know."""
    current, head = current_revision(url), head_revision()
    if current == head:
        return
    if current is None:
        raise ConfigError(f"{where} has no opsgraph tables: run `opsgraph migrate` first")
    if not known_revision(current):
        raise _unknown(where, current)
    raise ConfigError(
        f"{where} is at migration {current}; this opsgraph needs {head}: run `opsgraph migrate`"
    )
