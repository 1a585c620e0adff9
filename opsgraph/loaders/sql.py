"""SQL for the loaders, built from the declarative mapping in ``opsgraph.graph.catalogue``.

Every statement takes a batch of parent keys (``= ANY(:keys)``), so a level of a query
costs one statement however many parents it has: pages per parent use ``row_number()``
over a window partitioned by the parent key.

Every statement also takes the request's ``Scope``: for a customer-portal principal it
adds the WHERE clause that keeps out other customers' rows (``visible``), so rows, pages
and counts are scoped in the database, never filtered afterwards. A portal principal
linked to no customer gets a clause that matches no customer's rows: scoping fails closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    any_,
    false,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.selectable import NamedFromClause

from opsgraph.auth.principal import Principal
from opsgraph.graph.catalogue import ENTITIES, Entity, Filter, FilterOp, Relation
from opsgraph.graph.pagination import Cursor


@dataclass(frozen=True)
class Scope:
    """What a customer-portal principal may see: rows of ``customer_id`` (None: linked to
    no customer, so no customer's rows), and its own user."""

    customer_id: int | None
    user_id: int

    @classmethod
    def of(cls, principal: Principal | None) -> Scope | None:
        """The principal's scope: None (everything its permissions allow) unless it is a
        portal principal (``Principal.portal``), whether or not it is linked."""
        if principal is None or not principal.portal:
            return None
        return cls(customer_id=principal.customer_id, user_id=principal.user_id)

    def owns(self, customer_id: int) -> bool:
        """Whether the customer is the scope's own (never, when linked to none)."""
        return self.customer_id is not None and self.customer_id == customer_id


def in_scope(entity: str, scope: Scope | None) -> list[ColumnElement[bool]]:
    """``visible`` for the entity named ``entity`` (services' WHERE clauses)."""
    return visible(ENTITIES[entity], scope)


def visible(
    entity: Entity, scope: Scope | None, table: NamedFromClause | None = None
) -> list[ColumnElement[bool]]:
    """The conditions that keep ``entity``'s rows (in ``table``, by default the entity's
    own) to those ``scope`` may see, from the entity's ``portal`` declaration."""
    if scope is None:
        return []
    rows = entity.table if table is None else table
    portal = entity.portal
    if portal.shared:
        return []
    if portal.own_user:
        return [rows.c.id == scope.user_id]
    if scope.customer_id is None:  # a portal principal linked to no customer
        return [false()]
    if portal.column is not None:
        return [rows.c[portal.column] == scope.customer_id]
    if portal.via is not None:
        relation = entity.relations[portal.via]
        parent = ENTITIES[relation.target]
        other = parent.table.alias()  # never correlated with the outer statement's tables
        owners = select(other.c[relation.remote]).where(*visible(parent, scope, other))
        return [rows.c[relation.local].in_(owners)]
    return [false()]


def key_array(keys: Sequence[Any], column: Any) -> Any:
    """``= ANY(:keys)`` with the keys bound as one array of the column's type."""
    return any_(literal(list(keys), ARRAY(column.type)))


@dataclass(frozen=True)
class PageSpec:
    """Everything that shapes one page query except the parent keys (hashable: a loader key)."""

    ordering: str  # column name
    descending: bool
    limit: int
    backwards: bool  # `last`: read from the end, then reverse
    after: Cursor | None
    before: Cursor | None
    filters: tuple[tuple[str, Any], ...]


def filter_conditions(
    target: Entity, filters: tuple[tuple[str, Any], ...]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for name, value in filters:
        spec: Filter = target.filters[name]
        column = target.table.c[spec.column]
        if spec.op is FilterOp.eq:
            conditions.append(column == value)
        elif spec.op is FilterOp.any_of:
            conditions.append(column.in_(list(value)))
        elif spec.op is FilterOp.gte:
            conditions.append(column >= value)
        elif spec.op is FilterOp.lte:
            conditions.append(column <= value)
        elif spec.op is FilterOp.lt:
            conditions.append(column < value)
        else:  # contains
            escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(column.ilike(f"%{escaped}%", escape="\\"))
    return conditions


def _cursor_conditions(target: Entity, spec: PageSpec) -> list[ColumnElement[bool]]:
    key = tuple_(target.table.c[spec.ordering], target.table.c.id)
    conditions: list[ColumnElement[bool]] = []
    if spec.after is not None:
        point = tuple_(literal(spec.after.value), literal(spec.after.id))
        conditions.append(key < point if spec.descending else key > point)
    if spec.before is not None:
        point = tuple_(literal(spec.before.value), literal(spec.before.id))
        conditions.append(key > point if spec.descending else key < point)
    return conditions


def _order(target: Entity, spec: PageSpec) -> list[ColumnElement[Any]]:
    descending = spec.descending != spec.backwards
    columns = [target.table.c[spec.ordering]]
    if spec.ordering != "id":
        columns.append(target.table.c.id)  # the tie-breaker
    return [c.desc() if descending else c.asc() for c in columns]


def _source(relation: Relation) -> tuple[Entity, FromClause, ColumnElement[Any]]:
    """The target entity, what to select from, and the column holding the parent key."""
    target = ENTITIES[relation.target]
    table = target.table
    if relation.through is not None:
        link, parent_col, target_col = relation.through
        return target, table.join(link, link.c[target_col] == table.c.id), link.c[parent_col]
    if relation.via is not None:
        middle, middle_key, target_col = relation.via
        joined = table.join(middle, middle.c[middle_key] == table.c[target_col])
        return target, joined, middle.c[relation.remote]
    return target, table, table.c[relation.remote]


def _fixed(relation: Relation) -> list[ColumnElement[bool]]:
    """The relation's constant conditions (``Relation.where``) on the target's table."""
    table = ENTITIES[relation.target].table
    return [table.c[column] == value for column, value in relation.where]


def page_of_children(
    relation: Relation, keys: Sequence[Any], spec: PageSpec, scope: Scope | None
) -> Select[Any]:
    target, source, parent = _source(relation)
    rank = func.row_number().over(partition_by=parent, order_by=_order(target, spec))
    inner = (
        select(*target.columns(), parent.label("graph_parent"), rank.label("graph_rank"))
        .select_from(source)
        .where(parent == key_array(keys, parent), *_fixed(relation))
        .where(*visible(target, scope))
        .where(*filter_conditions(target, spec.filters))
        .where(*_cursor_conditions(target, spec))
        .subquery()
    )
    return (
        select(inner)
        .where(inner.c.graph_rank <= spec.limit + 1)
        .order_by(inner.c.graph_parent, inner.c.graph_rank)
    )


def count_of_children(
    relation: Relation,
    keys: Sequence[Any],
    filters: tuple[tuple[str, Any], ...],
    scope: Scope | None,
) -> Select[Any]:
    target, source, parent = _source(relation)
    return (
        select(parent.label("graph_parent"), func.count().label("n"))
        .select_from(source)
        .where(parent == key_array(keys, parent), *_fixed(relation))
        .where(*visible(target, scope))
        .where(*filter_conditions(target, filters))
        .group_by(parent)
    )


def page_of_all(target: Entity, spec: PageSpec, scope: Scope | None) -> Select[Any]:
    return (
        select(*target.columns())
        .where(*visible(target, scope))
        .where(*filter_conditions(target, spec.filters))
        .where(*_cursor_conditions(target, spec))
        .order_by(*_order(target, spec))
        .limit(spec.limit + 1)
    )


def count_of_all(
    target: Entity, filters: tuple[tuple[str, Any], ...], scope: Scope | None
) -> Select[Any]:
    return (
        select(func.count())
        .select_from(target.table)
        .where(*visible(target, scope))
        .where(*filter_conditions(target, filters))
    )


def rows_by_key(
    target: Entity, column: str, keys: Sequence[Any], scope: Scope | None
) -> Select[Any]:
    key = target.table.c[column]
    return select(*target.columns()).where(key == key_array(keys, key), *visible(target, scope))
