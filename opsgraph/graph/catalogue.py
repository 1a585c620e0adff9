"""The catalogue of the graph: how each type maps onto a table (columns, sort orders,
filters, relations, read permission, portal scope).

This is the one declarative description of the graph. Each stem module of this package
(``opsgraph.graph.invoice``, ...) registers its entities here with ``entity(...)``; the
loaders and the compiled read path build their SQL from it, the schema layer its inputs,
and resolvers only name an entry. Nothing here knows Strawberry.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import ColumnElement, Table, literal

from opsgraph.graph.ids import parse_global_id
from opsgraph.permissions import Permission


class NodeId:
    """The value type of a filter that takes a global id (GraphQL's ``ID``)."""


class FilterOp(StrEnum):
    eq = "eq"
    any_of = "any_of"
    gte = "gte"
    lte = "lte"
    lt = "lt"
    contains = "contains"  # case-insensitive substring


@dataclass(frozen=True)
class Filter:
    """One field of an entity's filter input: applies ``op`` to ``column``."""

    column: str
    op: FilterOp
    value_type: Any
    description: str
    # how the input value becomes a SQL value (e.g. a global id becomes a key)
    convert: Callable[[Any], Any] | None = None


def _ref(type_name: str, name: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> int:
        return parse_global_id(str(value), type_name, field=name)

    return convert


def contains(column: str, what: str) -> Filter:
    return Filter(column, FilterOp.contains, str, f"Case-insensitive substring of the {what}.")


def equals(column: str, value_type: Any, what: str) -> Filter:
    return Filter(column, FilterOp.eq, value_type, f"Exactly this {what}.")


def one_of(column: str, enum: Any, what: str) -> Filter:
    return Filter(column, FilterOp.any_of, list[enum], f"Any of these {what} values.")


def refers_to(column: str, type_name: str, name: str) -> Filter:
    return Filter(
        column,
        FilterOp.eq,
        NodeId,
        f"Only rows of this {type_name} (global id).",
        _ref(type_name, name),
    )


def date_range(column: str, value_type: Any, what: str) -> dict[str, Filter]:
    stem = column.removesuffix("_at").removesuffix("_on").removesuffix("_date")
    return {
        f"{stem}_from": Filter(column, FilterOp.gte, value_type, f"{what} on or after this."),
        f"{stem}_to": Filter(column, FilterOp.lte, value_type, f"{what} on or before this."),
    }


@dataclass(frozen=True)
class Relation:
    """A relation field of an entity.

    ``one``: the parent's ``local`` column holds the target's ``remote`` column value.
    ``many``: the target's ``remote`` column holds the parent's ``local`` column value;
    ``through`` names a link table ``(table, parent column, target column)`` instead.
    """

    kind: Literal["one", "many"]
    target: str
    local: str
    remote: str
    through: tuple[Table, str, str] | None = None
    # for relations reached through a join, e.g. customer.payments via invoice
    via: tuple[Table, str, str] | None = None
    # constant conditions on the target's columns, e.g. the audit events of one entity
    # type: (("entity_type", "Order"),)
    where: tuple[tuple[str, Any], ...] = ()

    @property
    def loader_name(self) -> str:
        return f"{self.target}:{self.kind}:{self.remote}:{self.local}"


@dataclass(frozen=True)
class Portal:
    """Which rows of an entity a customer-portal user sees (``opsgraph.loaders.sql``
    turns this into the WHERE clause of every statement): those whose ``column`` holds
    their customer's id, or whose ``via`` row (a to-one relation) they see; every row when
    ``shared`` (catalog data); only their own row when ``own_user``; none otherwise."""

    column: str | None = None
    via: str | None = None
    shared: bool = False
    own_user: bool = False


HIDDEN = Portal()
SHARED = Portal(shared=True)
OWNED = Portal(column="customer_id")


@dataclass(frozen=True)
class Entity:
    name: str  # GraphQL type name
    table: Table
    # orderBy enum value -> (column, default direction descending?)
    orderings: Mapping[str, str]
    default_ordering: str
    filters: Mapping[str, Filter] = field(default_factory=dict)
    relations: Mapping[str, Relation] = field(default_factory=dict)
    # what reading a row of this type needs, wherever it is reached (opsgraph.auth.guard);
    # None: nothing more than the field that reaches it (every root field declares its own)
    permission: Permission | None = None
    portal: Portal = HIDDEN

    def columns(self) -> list[ColumnElement[Any]]:
        """Every column of the table plus the type name that ``Node.resolve_type`` reads."""
        return [*self.table.c, literal(self.name).label("graph_type")]


def table(model: Any) -> Table:
    table: Table = model.__table__
    return table


ENTITIES: dict[str, Entity] = {}


HISTORY = "history"


def entity(e: Entity) -> Entity:
    """Register an entity. Every one but AuditEvent gets the ``history`` relation: its own
    audit events, newest first by default (read permission: AuditEvent's, `audit:read`)."""
    if e.name != "AuditEvent":
        key = next(iter(e.table.primary_key.columns)).name
        history = Relation("many", "AuditEvent", key, "entity_id", where=(("entity_type", e.name),))
        e = replace(e, relations={**e.relations, HISTORY: history})
    ENTITIES[e.name] = e
    return e


CREATED = {"CREATED_AT": "created_at", "ID": "id"}


def _register_stems() -> None:
    """Import every module of this package: each stem registers its entities where it
    defines them, so there is no list of stems to keep."""
    package = importlib.import_module(__name__.rpartition(".")[0])
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


_register_stems()
