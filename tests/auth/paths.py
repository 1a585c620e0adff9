"""Every read path through the graph, built from the schema itself.

A path is a chain of fields from a root query field through fields that return mapped
types (or connections of them), with the arguments each needs. Nothing here names a
field: the schema's own types, fields and arguments decide, so a field added later is
covered without touching the tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)

from opsgraph.graph.catalogue import ENTITIES


@dataclass(frozen=True)
class Hop:
    field: str
    target: str  # the object type the hop lands on (the node type of a connection)
    connection: bool
    arguments: str = ""  # rendered, e.g. '(id: "...")'
    on_type: str | None = None  # for an abstract field: the type of the inline fragment


@dataclass(frozen=True)
class Path:
    hops: tuple[Hop, ...]

    @property
    def types(self) -> list[str]:
        return [hop.target for hop in self.hops]

    def selection(self) -> str:
        """The selection set of the whole path: ids at every level, totalCount on
        connections."""
        inner = ""
        for hop in reversed(self.hops):
            body = f"id {inner}" if hop.target in ENTITIES else inner
            if hop.on_type:
                body = f"... on {hop.on_type} {{ {body} }}"
            if hop.connection:
                inner = f"{hop.field}{hop.arguments} {{ totalCount edges {{ node {{ {body} }} }} }}"
            else:
                inner = f"{hop.field}{hop.arguments} {{ {body} }}"
        return inner

    def __str__(self) -> str:
        return " > ".join(f"{hop.field}{hop.arguments}" for hop in self.hops)


PAGE = "(first: 3)"


def _node_type(field: GraphQLField) -> tuple[str, bool] | None:
    """The mapped type a field reaches and whether through a connection; None if none."""
    named = get_named_type(field.type)
    if named.name in ENTITIES:
        return named.name, False
    if isinstance(named, GraphQLObjectType) and "edges" in named.fields:
        edge = get_named_type(named.fields["edges"].type)
        if isinstance(edge, GraphQLObjectType) and "node" in edge.fields:
            node = get_named_type(edge.fields["node"].type)
            if node.name in ENTITIES:
                return node.name, True
    return None


def _required(field: GraphQLField) -> list[str]:
    return [name for name, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)]


IdsOf = Callable[[str], list[str]]  # global ids of a type to try as arguments


def _argument_sets(
    field: GraphQLField, target: str, connection: bool, ids_of: IdsOf
) -> Iterator[str]:
    """The argument lists to try on a field: ids of rows (some the caller may see, some
    it may not) for id-like arguments, a wide period for dates, a small page."""
    names = set(field.args)
    if connection:
        yield PAGE
        return
    if "ids" in names:  # nodes(ids:)
        ids = ids_of(target)
        yield f"(ids: [{', '.join(f'{i!r}' for i in ids)}])".replace("'", '"')
        return
    if "customerId" in names:  # a report about one customer
        period = ""
        if "from" in names:
            period = f', from: "{dt.date(2000, 1, 1)}", to: "{dt.date(2100, 1, 1)}"'
        for value in ids_of("Customer"):
            yield f'(customerId: "{value}"{period})'
        return
    if "id" in names:  # a lookup, or node(id:)
        for value in ids_of(target):
            yield f'(id: "{value}")'
        return
    if _required(field):
        return  # arguments this generator cannot make up: not a read path
    yield ""


def generate_paths(schema: GraphQLSchema, ids_of: IdsOf, max_depth: int = 4) -> list[Path]:
    """Every path of at most ``max_depth`` hops that starts at a root query field and
    follows fields reaching mapped types, with the arguments to try."""
    query = schema.query_type
    assert query is not None
    paths: list[Path] = []

    def extend(prefix: tuple[Hop, ...], parent: GraphQLObjectType) -> None:
        if len(prefix) >= max_depth:
            return
        for name, field in parent.fields.items():
            reached = _node_type(field)
            if reached is None or (field.args and _required(field)):
                continue
            target, connection = reached
            hop = Hop(name, target, connection, PAGE if connection else "")
            path = (*prefix, hop)
            paths.append(Path(path))
            extend(path, _object(schema, target))

    for name, field in query.fields.items():
        named = get_named_type(field.type)
        if isinstance(named, GraphQLInterfaceType):  # node / nodes: every implementing type
            for possible in schema.get_possible_types(named):
                for arguments in _argument_sets(field, possible.name, False, ids_of):
                    hop = Hop(name, possible.name, False, arguments, on_type=possible.name)
                    paths.append(Path((hop,)))
                    extend((hop,), possible)
            continue
        reached = _node_type(field)
        if reached is not None:
            target, connection = reached
            for arguments in _argument_sets(field, target, connection, ids_of):
                hop = Hop(name, target, connection, arguments)
                paths.append(Path((hop,)))
                extend((hop,), _object(schema, target))
        elif isinstance(named, GraphQLObjectType):  # e.g. a report: its fields lead on
            for arguments in _argument_sets(field, named.name, False, ids_of):
                for sub_name, sub in named.fields.items():
                    sub_reached = _node_type(sub)
                    if sub_reached is None:
                        continue
                    target, connection = sub_reached
                    wrapper = Hop(name, named.name, False, arguments)
                    hop = Hop(sub_name, target, connection, PAGE if connection else "")
                    paths.append(Path((wrapper, hop)))
                    extend((wrapper, hop), _object(schema, target))
    return paths


def _object(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    found = schema.get_type(name)
    assert isinstance(found, GraphQLObjectType)
    return found


def render(paths: list[Path]) -> str:
    """One query document selecting every path under an alias ``p<n>``."""
    return "{ " + " ".join(f"p{n}: {path.selection()}" for n, path in enumerate(paths)) + " }"
