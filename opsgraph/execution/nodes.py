"""The steps of a compiled read: each knows what to fetch for a level and how to write
one row's part of the response.

A plan is run in two passes. ``fetch`` goes level by level: a relation step asks the
request's loaders once for the keys of *all* the rows of its level (the same loaders and
SQL as the resolvers, so the statement count is the same), then hands the rows it got to
the next level. ``project`` then walks the rows depth first and builds the response dicts
with plain function calls: no resolver, no per-field info object, no coroutine per field.

Anything the response cannot hold as the resolvers would produce it (a null in a non-null
field, a value a scalar refuses) raises ``NotCompiled``: the operation then runs on the
resolvers, which report it the usual way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import Undefined

from opsgraph.context import Context
from opsgraph.execution.codegen import Entry, record_maker
from opsgraph.graph.catalogue import Entity, Relation
from opsgraph.graph.ids import to_global_id
from opsgraph.graph.pagination import encode_cursor
from opsgraph.graph.reads import Computed
from opsgraph.loaders import Page
from opsgraph.loaders.sql import PageSpec
from opsgraph.schema import resolve

Complete = Callable[[Any], Any]  # a resolver's value -> the response's value
Getter = Callable[[Any], Any]  # a row -> the response's value of one field
PageGetter = Callable[[Page, Any], Any]  # a page and its total count -> a response value


class NotCompiled(Exception):
    """This operation (or this response) needs the resolvers."""


def serialized(serialize: Callable[[Any], Any], non_null: bool, plain_strings: bool) -> Complete:
    """Complete a leaf value as graphql-core does: null stays null, else ``serialize``
    (``plain_strings``: the type serializes a str to itself, so skip the call)."""

    def complete(value: Any) -> Any:
        if value is None:
            if non_null:
                raise NotCompiled("null in a non-null field")
            return None
        if type(value) is str and plain_strings:
            return value  # what String and ID serialize a str to
        out = serialize(value)
        if out is None or out is Undefined:
            raise NotCompiled("a value the scalar refuses")
        return out

    return complete


def listed(item: Complete, non_null: bool) -> Complete:
    def complete(values: Any) -> Any:
        if values is None:
            if non_null:
                raise NotCompiled("null in a non-null list")
            return None
        return [item(value) for value in values]

    return complete


@dataclass(eq=False)
class ObjectPlan:
    """A selection on an entity type: response keys and how each is made from a row.

    ``seal`` turns the getters into one generated function, ``project``."""

    type_name: str
    getters: list[Entry] = field(default_factory=list)
    fetchers: list[Fetcher] = field(default_factory=list)
    project: Callable[[Any], dict[str, Any]] = field(init=False)

    def seal(self) -> ObjectPlan:
        self.project = record_maker(self.getters)
        return self

    async def fetch(self, context: Context, rows: Sequence[Any]) -> None:
        if rows:
            for fetcher in self.fetchers:
                await fetcher.fetch(context, rows)


class Fetcher:
    """A step that needs rows from the database before the response can be written."""

    async def fetch(self, context: Context, rows: Sequence[Any]) -> None:
        raise NotImplementedError


def global_id(type_name: str, key: str, complete: Complete) -> Getter:
    def get(row: Any) -> Any:
        return complete(to_global_id(type_name, getattr(row, key)))

    return get


def constant(value: Any) -> Callable[..., Any]:
    """The same value whatever it is called with (a row, or a page and its count)."""

    def get(*_: Any) -> Any:
        return value

    return get


def from_row(compute: Callable[[Any], Any], complete: Complete) -> Getter:
    def get(row: Any) -> Any:
        return complete(compute(row))

    return get


@dataclass(eq=False)
class ComputedStep(Fetcher):
    """A batched computed value (one statement for the level), then ``derive``."""

    read: Computed
    complete: Complete
    values: dict[Any, Any] = field(default_factory=dict)

    async def fetch(self, context: Context, rows: Sequence[Any]) -> None:
        keys = list(dict.fromkeys(row.id for row in rows))
        build = self.read.build
        loaders = context.loaders
        found = await loaders.load_all(loaders.computed(build.__name__, build), keys)
        self.values.update(zip(keys, found, strict=True))

    def get(self, row: Any) -> Any:
        value = self.values[row.id]
        return self.complete(self.read.derive(row, self.read.default if value is None else value))


@dataclass(eq=False)
class OneStep(Fetcher):
    """A to-one relation: the target rows of the whole level in one statement."""

    relation: Relation
    target: ObjectPlan
    non_null: bool
    found: dict[Any, Any] = field(default_factory=dict)

    async def fetch(self, context: Context, rows: Sequence[Any]) -> None:
        local = self.relation.local
        keys = list(dict.fromkeys(k for row in rows if (k := getattr(row, local)) is not None))
        loaders = context.loaders
        targets = await loaders.load_all(loaders.one(self.relation), keys)
        self.found.update(zip(keys, targets, strict=True))
        await self.target.fetch(context, [t for t in targets if t is not None])

    def get(self, row: Any) -> Any:
        key = getattr(row, self.relation.local)
        target = None if key is None else self.found[key]
        if target is None:
            if self.non_null:
                raise NotCompiled("null in a non-null relation")
            return None
        return self.target.project(target)


@dataclass(eq=False)
class ConnectionPlan:
    """The selection on a connection: edges (node, cursor), pageInfo and totalCount.

    ``seal`` turns the getters into one generated function, ``project``."""

    spec: PageSpec
    getters: list[Entry] = field(default_factory=list)
    nodes: list[ObjectPlan] = field(default_factory=list)  # one per `node` selection
    wants_count: bool = False
    project: Callable[[Page, Any], dict[str, Any]] = field(init=False)

    def seal(self) -> ConnectionPlan:
        self.project = record_maker(self.getters, "page, count")
        return self

    async def fetch(self, context: Context, pages: Sequence[Page]) -> None:
        if self.nodes:
            rows = [row for page in pages for row in page.rows]
            for node in self.nodes:
                await node.fetch(context, rows)

    def edges(self, getters: list[Entry]) -> PageGetter:
        make = record_maker(getters)

        def get(page: Page, count: Any) -> Any:
            return [make(row) for row in page.rows]

        return get

    def page_info(self, getters: list[Entry]) -> PageGetter:
        return record_maker(getters, "page, count")

    def cursor(self, complete: Complete) -> Getter:
        ordering = self.spec.ordering

        def get(row: Any) -> Any:
            return complete(encode_cursor(ordering, row))

        return get

    def boundary_cursor(self, index: int, complete: Complete) -> PageGetter:
        """startCursor (``index`` 0) or endCursor (-1): null on an empty page."""
        ordering = self.spec.ordering

        def get(page: Page, count: Any) -> Any:
            rows = page.rows
            return complete(encode_cursor(ordering, rows[index]) if rows else None)

        return get


def total_count(page: Page, count: Any) -> Any:
    return count


def page_flag(attr: str, complete: Complete) -> PageGetter:
    """``has_next`` or ``has_previous`` of the page."""

    def get(page: Page, count: Any) -> Any:
        return complete(getattr(page, attr))

    return get


@dataclass(eq=False)
class ManyStep(Fetcher):
    """A nested connection: every parent's page in one statement, counts in one more."""

    relation: Relation
    connection: ConnectionPlan
    pages: dict[Any, Page] = field(default_factory=dict)
    counts: dict[Any, int] = field(default_factory=dict)

    async def fetch(self, context: Context, rows: Sequence[Any]) -> None:
        local, spec = self.relation.local, self.connection.spec
        keys = list(dict.fromkeys(getattr(row, local) for row in rows))
        loaders = context.loaders
        pages = await loaders.load_all(loaders.children(self.relation, spec), keys)
        self.pages.update(zip(keys, pages, strict=True))
        if self.connection.wants_count:
            counts = await loaders.load_all(loaders.child_counts(self.relation, spec.filters), keys)
            self.counts.update(zip(keys, counts, strict=True))
        await self.connection.fetch(context, pages)

    def get(self, row: Any) -> Any:
        key = getattr(row, self.relation.local)
        return self.connection.project(self.pages[key], self.counts.get(key))


class RootStep:
    """A root field: fetched once, projected once."""

    async def fetch(self, context: Context) -> None:
        raise NotImplementedError

    def get(self) -> Any:
        raise NotImplementedError


@dataclass(eq=False)
class RootListStep(RootStep):
    entity: Entity
    connection: ConnectionPlan
    page: Page | None = None
    count: int | None = None

    async def fetch(self, context: Context) -> None:
        spec = self.connection.spec
        self.page = page = await resolve.root_page(context, self.entity, spec)
        if self.connection.wants_count:
            self.count = await resolve.root_count(context, self.entity, spec.filters)
        await self.connection.fetch(context, [page])

    def get(self) -> Any:
        if self.page is None:
            raise NotCompiled("not fetched")
        return self.connection.project(self.page, self.count)


@dataclass(eq=False)
class LookupStep(RootStep):
    entity: Entity
    alternate: str
    id: Any
    value: Any
    target: ObjectPlan
    row: Any = None

    async def fetch(self, context: Context) -> None:
        self.row = await resolve.find_one(
            context.loaders, self.entity, self.alternate, self.id, self.value
        )
        if self.row is not None:
            await self.target.fetch(context, [self.row])

    def get(self) -> Any:
        return None if self.row is None else self.target.project(self.row)


@dataclass(eq=False)
class RootConstant(RootStep):
    value: Any

    async def fetch(self, context: Context) -> None:
        return None

    def get(self) -> Any:
        return self.value


@dataclass(eq=False)
class QueryPlan:
    steps: list[tuple[str, RootStep]]

    async def run(self, context: Context) -> dict[str, Any]:
        for _, step in self.steps:
            await step.fetch(context)
        return {key: step.get() for key, step in self.steps}
