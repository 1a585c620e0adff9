"""The resolver plumbing every type shares: relations, nested and root connections.

Types name a relation of the mapping; these functions turn GraphQL arguments into a
``PageSpec``, ask the request's loaders, and wrap the rows in connections. Rows are the
loaders' SQLAlchemy ``Row`` objects: scalar fields read them as plain attributes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import strawberry
from sqlalchemy import Executable

from opsgraph.context import Context
from opsgraph.errors import InvalidInput
from opsgraph.graph.catalogue import ENTITIES, Entity, Relation
from opsgraph.graph.ids import parse_global_id
from opsgraph.graph.pagination import Window, decode_cursor
from opsgraph.loaders import Loaders, Page, cut_page
from opsgraph.loaders.sql import PageSpec, count_of_all, page_of_all
from opsgraph.schema.pagination import Connection, Direction, Edge, PageInfo

Info = strawberry.Info[Context, None]


def filter_values(entity: Entity, given: Any) -> tuple[tuple[str, Any], ...]:
    """A filter input as hashable ``(name, value)`` pairs, checked for sense."""
    if given is None:
        return ()
    values: dict[str, Any] = {}
    for name, spec in entity.filters.items():
        value = getattr(given, name, None)
        if value is None:
            continue
        if isinstance(value, list):
            value = tuple(v.value if hasattr(v, "value") else v for v in value)
            if not value:
                raise InvalidInput(f"{name} must list at least one value", field=["filter", name])
        elif hasattr(value, "value"):
            value = value.value
        values[name] = spec.convert(value) if spec.convert else value
    for name, low in values.items():
        if name.endswith("_from"):
            high = values.get(name.removesuffix("_from") + "_to")
            if high is not None and low > high:
                raise InvalidInput(
                    f"{name} ({low}) is after {name.removesuffix('_from')}_to ({high})",
                    field=["filter", name],
                )
    return tuple(sorted(values.items()))


def page_spec(entity: Entity, window: Window, order_by: Any, filters: Any) -> PageSpec:
    column = (
        order_by.field.value if order_by is not None else entity.orderings[entity.default_ordering]
    )
    descending = order_by is not None and order_by.direction is Direction.DESC
    python_type = entity.table.c[column].type.python_type
    return PageSpec(
        ordering=column,
        descending=descending,
        limit=window.limit,
        backwards=window.last is not None,
        after=decode_cursor(window.after, column, python_type, field="after")
        if window.after
        else None,
        before=decode_cursor(window.before, column, python_type, field="before")
        if window.before
        else None,
        filters=filter_values(entity, filters),
    )


def connection(page: Page, spec: PageSpec, count: Any) -> Connection[Any]:
    edges = [Edge(node=row, sort_column=spec.ordering) for row in page.rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            first=page.rows[0] if page.rows else None,
            last=page.rows[-1] if page.rows else None,
            sort_column=spec.ordering,
        ),
        count=count,
    )


async def children(
    info: Info,
    parent: Any,
    relation: Relation,
    window: Window,
    order_by: Any = None,
    filters: Any = None,
) -> Connection[Any]:
    """A nested connection: this parent's page, loaded with its siblings' in one statement."""
    loaders = info.context.loaders
    spec = page_spec(ENTITIES[relation.target], window, order_by, filters)
    key = getattr(parent, relation.local)
    page = await loaders.children(relation, spec).load(key)

    async def count() -> int:
        counted: int = await loaders.child_counts(relation, spec.filters).load(key)
        return counted

    return connection(page, spec, count)


async def one(info: Info, parent: Any, relation: Relation) -> Any:
    key = getattr(parent, relation.local)
    if key is None:
        return None
    return await info.context.loaders.one(relation).load(key)


async def root_page(context: Context, entity: Entity, spec: PageSpec) -> Page:
    rows = list(await context.fetch(page_of_all(entity, spec, context.scope())))
    return cut_page(rows, spec)


async def root_count(context: Context, entity: Entity, filters: tuple[tuple[str, Any], ...]) -> int:
    total = await context.fetch(count_of_all(entity, filters, context.scope()))
    return int(total[0][0])


async def root_list(
    info: Info,
    entity: Entity,
    window: Window,
    order_by: Any = None,
    filters: Any = None,
) -> Connection[Any]:
    spec = page_spec(entity, window, order_by, filters)
    page = await root_page(info.context, entity, spec)

    async def count() -> int:
        return await root_count(info.context, entity, spec.filters)

    return connection(page, spec, count)


def find_one(
    loaders: Loaders, entity: Entity, alternate: str, id: Any, value: Any
) -> Awaitable[Any]:
    """The row with global ``id``, or with ``value`` in the unique ``alternate`` column."""
    if (id is None) == (value is None):
        raise InvalidInput(f"give exactly one of id and {_camel(alternate)}", field=["id"])
    if id is not None:
        return loaders.by_key(entity.name).load(parse_global_id(id, entity.name))
    return loaders.by_key(entity.name, alternate).load(value)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def computed_value(
    info: Info, build: Callable[[Sequence[Any]], Executable], key: Any, default: Any
) -> Any:
    """A batched computed value (``build`` names the loader), or ``default`` when none."""
    value = await info.context.loaders.computed(build.__name__, build).load(key)
    return default if value is None else value
