"""What an operation costs, computed from its selection before anything runs.

The cost of an operation is the most its response can hold, counted on the selection as
execution sees it (graphql-core's field collection: fragments, aliases, ``@skip`` and
``@include`` with the request's variables):

* every object in the response costs ``OBJECT`` (1): a row, an edge, a ``pageInfo``, a
  mutation's payload;
* a list multiplies the cost of what it holds by its size: a connection's ``edges`` by the
  page asked for (``first`` or ``last``; the default page size when neither is given; never
  more than the maximum page size), ``nodes(ids)`` by the number of ids, any other list of
  objects by ``LIST_SIZES`` or ``DEFAULT_LIST_SIZE``;
* scalars, enums and ``__typename`` cost ``LEAF`` (0): they are columns of a row already
  counted;
* a computed value - a connection's ``totalCount``, or a field the mapping computes from
  other rows (``Customer.lifetimeValue``, ``Invoice.balanceDue``, ``User.permissions``) -
  costs ``COMPUTED`` (2) for every object that holds it;
* a report (``REPORTS``) costs ``REPORT`` (50) plus what it selects;
* each mutation costs ``MUTATION`` (10) plus its payload.

Where a field can return several types (``node``), the most expensive selection counts.
One pass over the collected selection, each field once: linear in its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationType,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.language import OperationDefinitionNode
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from opsgraph.auth.guard import DEFINITION
from opsgraph.graph import reads
from opsgraph.graph.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# --- the weights -------------------------------------------------------------------------

LEAF: Final = 0
OBJECT: Final = 1
COMPUTED: Final = 2
REPORT: Final = 50
MUTATION: Final = 10
DEFAULT_LIST_SIZE: Final = DEFAULT_PAGE_SIZE
# lists of these item types hold at most this many (a mutation reports a few errors)
LIST_SIZES: Final = {"UserError": 5}
# root fields that aggregate many rows into one object
REPORTS: Final = frozenset({("Query", "customerStatement"), ("Query", "dailyKpis")})
# list fields whose size is the length of one of their arguments
SIZED_BY: Final = {("Query", "nodes"): "ids"}

META_FIELDS: Final = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}

Details = Sequence[FieldDetails]


class OperationCost:
    """The cost of one operation, from the executor's state (document, fragments,
    coerced variables)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        variable_values: VariableValues,
        operation: OperationDefinitionNode,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variable_values = variable_values
        self.operation = operation

    def total(self) -> int:
        root = self.schema.get_root_type(self.operation.operation)
        if root is None:
            return 0
        collected = collect_fields(
            self.schema, self.fragments, self.variable_values, root, self.operation
        )
        mutation = self.operation.operation is OperationType.MUTATION
        return sum(
            self.field(root, details, root=True, mutation=mutation)
            for details in collected.grouped_field_set.values()
        )

    def field(
        self,
        parent: GraphQLObjectType,
        details: Details,
        *,
        page: int | None = None,
        root: bool = False,
        mutation: bool = False,
    ) -> int:
        """The cost of one response key: its weight and what it holds, times its size.
        ``page`` is the page size of the connection ``parent`` is (for its edges)."""
        name = details[0].node.name.value
        definition = parent.fields.get(name) or (META_FIELDS.get(name) if root else None)
        if definition is None:  # __typename
            return LEAF
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return COMPUTED if computed(name, definition) else LEAF
        weight = OBJECT
        if mutation:
            weight = MUTATION
        elif root and (parent.name, name) in REPORTS:
            weight = REPORT
        inner_page = self.page_size(definition, details) if is_connection(definition) else None
        if isinstance(named, GraphQLObjectType):
            held = self.children(named, details, inner_page)
        else:  # an interface or a union: the costliest of its types
            abstract: Any = named
            held = max(
                (
                    self.children(possible, details, inner_page)
                    for possible in self.schema.get_possible_types(abstract)
                ),
                default=0,
            )
        return self.size(parent, definition, details, page) * (weight + held)

    def children(self, parent: GraphQLObjectType, details: Details, page: int | None) -> int:
        collected = collect_subfields(
            self.schema, self.fragments, self.variable_values, self.operation, parent, list(details)
        )
        return sum(
            self.field(parent, sub, page=page) for sub in collected.grouped_field_set.values()
        )

    def size(
        self,
        parent: GraphQLObjectType,
        definition: GraphQLField,
        details: Details,
        page: int | None,
    ) -> int:
        """How many objects the field can return: 1, or the size of its list."""
        if not is_list(definition.type):
            return 1
        if page is not None:  # a connection's edges
            return page
        argument = SIZED_BY.get((parent.name, details[0].node.name.value))
        if argument is not None:
            given = self.arguments(definition, details).get(argument)
            return min(len(given), MAX_PAGE_SIZE) if isinstance(given, list) else 0
        return LIST_SIZES.get(get_named_type(definition.type).name, DEFAULT_LIST_SIZE)

    def page_size(self, definition: GraphQLField, details: Details) -> int:
        """The rows a connection can return: ``first`` or ``last`` (the larger when both
        are given), else the default page size; at most the maximum page size."""
        arguments = self.arguments(definition, details)
        asked = [
            value
            for value in (arguments.get("first"), arguments.get("last"))
            if isinstance(value, int)
        ]
        size = max(asked) if asked else DEFAULT_PAGE_SIZE
        return max(0, min(size, MAX_PAGE_SIZE))

    def arguments(self, definition: GraphQLField, details: Details) -> dict[str, Any]:
        try:
            return get_argument_values(definition, details[0].node, self.variable_values)
        except GraphQLError:  # execution reports it; the defaults count meanwhile
            return {}


def operation_cost(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDetails],
    variable_values: VariableValues,
    operation: OperationDefinitionNode,
) -> int:
    """The cost of ``operation`` with these fragments and (coerced) variables."""
    return OperationCost(schema, fragments, variable_values, operation).total()


def is_list(output: GraphQLOutputType) -> bool:
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    return isinstance(inner, GraphQLList)


def is_connection(definition: GraphQLField) -> bool:
    """A cursor connection: paged by ``first``/``last``, holding ``edges``."""
    named = get_named_type(definition.type)
    return (
        isinstance(named, GraphQLObjectType)
        and "edges" in named.fields
        and ("first" in definition.args or "last" in definition.args)
    )


def computed(name: str, definition: GraphQLField) -> bool:
    """A value made from other rows: a connection's ``totalCount``, or a field whose
    resolver declares a computed read (``opsgraph.graph.reads.Computed``)."""
    if name == "totalCount":
        return True
    field = (definition.extensions or {}).get(DEFINITION)
    resolver = getattr(field, "base_resolver", None)
    if resolver is None:
        return False
    return isinstance(reads.declared(resolver.wrapped_func), reads.Computed)
