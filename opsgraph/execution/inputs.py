"""Every string an operation passes in is checked before anything runs.

Arguments and the fields of input objects, written in the document or sent as
variables, at any depth, lists included: a NUL (which PostgreSQL text cannot hold) or an
unpaired UTF-16 surrogate (which UTF-8 cannot encode) refuses the whole operation with
one ``BAD_USER_INPUT`` error naming the argument's path, e.g.
``customers.filter.search``. Nothing is read or written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLError
from graphql.execution.values import get_argument_values

from opsgraph.auth.guard import Path, SelectionWalk
from opsgraph.services.checks import check_characters


def strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Every string in a coerced argument value (input objects are dicts by their GraphQL
    field names, lists are lists), with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from strings(item, (*path, str(index)))


def check_input_values(walk: SelectionWalk) -> None:
    """Raise ``InvalidInput`` for the first string argument value no text may hold."""
    for selected in walk.selected:
        definition = selected.definition
        if definition is None or not definition.args:
            continue
        for details in selected.details:
            if not details.node.arguments:
                continue  # only the schema's own defaults
            try:
                values = get_argument_values(definition, details.node, walk.variable_values)
            except GraphQLError:
                continue  # a bad argument: execution reports it, as it always has
            for path, text in strings(values, selected.path):
                check_characters(text, field=path)
