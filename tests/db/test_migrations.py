"""Migrations go up and down cleanly, and agree with the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import URL, create_engine, inspect, pool

from opsgraph.db.migrations import (
    current_revision,
    downgrade,
    head_revision,
    include_name,
    upgrade,
)
from opsgraph.models import Base


def _tables(url: URL) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _diff(url: URL) -> list[Any]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_name": include_name,
                },
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database_url: URL) -> None:
    upgrade(empty_database_url)
    assert current_revision(empty_database_url) == head_revision()
    assert set(Base.metadata.tables) <= _tables(empty_database_url)

    downgrade(empty_database_url, "base")
    assert current_revision(empty_database_url) is None
    assert _tables(empty_database_url) <= {"alembic_version"}

    upgrade(empty_database_url)
    assert current_revision(empty_database_url) == head_revision()
    assert _diff(empty_database_url) == []


def test_models_and_migrations_agree(database_url: URL) -> None:
    assert _diff(database_url) == [], "run alembic revision --autogenerate and commit it"


def test_every_foreign_key_is_indexed(database_url: URL) -> None:
    """Each foreign key's first column leads an index (or the primary key), so lookups by
    the key and the checks PostgreSQL runs when the referenced row changes use an index."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            missing = []
            for table in inspector.get_table_names():
                leading = {ix["column_names"][0] for ix in inspector.get_indexes(table)}
                leading |= {c["column_names"][0] for c in inspector.get_unique_constraints(table)}
                leading.add(inspector.get_pk_constraint(table)["constrained_columns"][0])
                missing += [
                    (table, fk["constrained_columns"])
                    for fk in inspector.get_foreign_keys(table)
                    if fk["constrained_columns"][0] not in leading
                ]
    finally:
        engine.dispose()
    assert missing == []
