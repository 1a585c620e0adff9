"""What each resolver field of the graph reads, declared next to its resolver.

The field factories (``opsgraph.schema.fields``) attach one of these to the resolvers they
make. The compiled read path (``opsgraph.execution``) reads the declaration instead of
calling the resolver, so one request does each level once for all rows. A resolver field
without a declaration is simply not compiled: its operation runs on the resolvers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable

from opsgraph.graph.catalogue import Entity, Relation

ATTRIBUTE = "opsgraph_read"


@dataclass(frozen=True)
class GlobalId:
    """The opaque global id of ``type_name`` made from the row's ``key`` column."""

    type_name: str
    key: str


@dataclass(frozen=True)
class One:
    """A to-one relation: the row whose ``relation.remote`` equals this row's ``local``."""

    relation: Relation


@dataclass(frozen=True)
class Many:
    """A nested connection: this row's page of a to-many relation."""

    relation: Relation


@dataclass(frozen=True)
class RootList:
    """A root connection over the rows of an entity."""

    entity: Entity


@dataclass(frozen=True)
class Lookup:
    """A root field finding one row by global id or by the unique ``alternate`` column."""

    entity: Entity
    alternate: str


@dataclass(frozen=True)
class Computed:
    """A batched value per row: ``build(keys)`` selects ``(key, value)`` pairs for the
    row's ``id``; ``derive(row, value)`` gives the field's value (``value`` is ``default``
    where the statement found none)."""

    build: Callable[[Sequence[Any]], Executable]
    default: Any
    derive: Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FromRow:
    """A value computed from the row alone."""

    compute: Callable[[Any], Any]


Read = GlobalId | One | Many | RootList | Lookup | Computed | FromRow


def declare(resolver: Any, read: Read) -> Any:
    """Attach ``read`` to ``resolver`` (returned, for use as a decorator argument)."""
    setattr(resolver, ATTRIBUTE, read)
    return resolver


def declared(resolver: Any) -> Read | None:
    read: Read | None = getattr(resolver, ATTRIBUTE, None)
    return read
