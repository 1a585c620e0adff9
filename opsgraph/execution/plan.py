"""Turning a validated query into a plan of compiled read steps.

The plan is made per request from the executor's state (document, fragments, coerced
variables) with graphql-core's own field collection, so fragments, aliases, ``@skip`` and
``@include`` select exactly what the resolvers would. Each field is compiled from what
its resolver declares (``opsgraph.graph.reads``) or, for a plain attribute, from the
field itself. A field the planner does not know - one with a resolver that declares
nothing, a field extension (a permission check, say), an abstract type, introspection -
raises ``NotCompiled`` and the operation runs on the resolvers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
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
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from opsgraph.execution import nodes
from opsgraph.execution.codegen import Column, Entry
from opsgraph.execution.nodes import (
    Complete,
    ConnectionPlan,
    Getter,
    NotCompiled,
    ObjectPlan,
    QueryPlan,
    RootStep,
)
from opsgraph.graph import reads
from opsgraph.graph.catalogue import ENTITIES, Entity
from opsgraph.graph.pagination import window
from opsgraph.loaders import Page
from opsgraph.schema import resolve
from opsgraph.schema.node import Node
from opsgraph.schema.pagination import Connection, Edge, PageInfo

Details = Sequence[FieldDetails]

DEFINITION = "strawberry-definition"  # where Strawberry links a GraphQL field to its own
PAGE_FLAGS = {"hasNextPage": "has_next", "hasPreviousPage": "has_previous"}
# scalars whose serializer returns a str unchanged (checked against the schema's own)
PLAIN_STRINGS = {"String": GraphQLString.serialize, "ID": GraphQLID.serialize}


class Planner:
    """Plans one operation; built from the executor that would otherwise run it."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        variable_values: VariableValues,
        operation: OperationDefinitionNode,
    ) -> None:
        strawberry_schema = getattr(schema, "_strawberry_schema", None)
        if strawberry_schema is None or schema.query_type is None:
            raise NotCompiled("not a Strawberry schema with a query type")
        self.schema = schema
        self.fragments = fragments
        self.variable_values = variable_values
        self.operation = operation
        self.scalar_registry = strawberry_schema.schema_converter.scalar_registry
        self.config = strawberry_schema.config

    def plan(self) -> QueryPlan:
        root = self.schema.query_type
        if root is None:  # pragma: no cover - checked in __init__
            raise NotCompiled("no query type")
        collected = collect_fields(
            self.schema, self.fragments, self.variable_values, root, self.operation
        )
        return QueryPlan(
            [(key, self.root_step(root, sub)) for key, sub in collected.grouped_field_set.items()]
        )

    def root_step(self, root: GraphQLObjectType, details: Details) -> RootStep:
        if details[0].node.name.value == "__typename":
            return nodes.RootConstant(root.name)
        field, definition, read = self.field(root, details)
        if isinstance(read, reads.RootList):
            connection = self.connection(definition, field, details, read.entity)
            return nodes.RootListStep(read.entity, connection)
        if isinstance(read, reads.Lookup):
            args = self.args(definition, field, details)
            target = self.object(definition.type, details)
            value = args.get(read.alternate)
            return nodes.LookupStep(read.entity, read.alternate, args.get("id"), value, target)
        raise NotCompiled(f"root field {root.name}.{details[0].node.name.value}")

    # --- fields ------------------------------------------------------------------------------

    def selections(self, parent: GraphQLObjectType, details: Details) -> dict[str, Details]:
        collected = collect_subfields(
            self.schema, self.fragments, self.variable_values, self.operation, parent, list(details)
        )
        return dict(collected.grouped_field_set)

    def field(
        self, parent: GraphQLObjectType, details: Details
    ) -> tuple[StrawberryField, GraphQLField, reads.Read | None]:
        """The Strawberry field behind a selection and what its resolver declares
        (None: a plain attribute)."""
        field, definition = self.checked(parent, details)
        if field.base_resolver is None:
            return field, definition, None
        read = reads.declared(field.base_resolver.wrapped_func)
        if read is None:
            name = details[0].node.name.value
            raise NotCompiled(f"{parent.name}.{name} has a resolver that declares no read")
        return field, definition, read

    def checked(
        self, parent: GraphQLObjectType, details: Details
    ) -> tuple[StrawberryField, GraphQLField]:
        """The field of a selection, when nothing but its resolver stands in the way:
        no field extension (a permission check, say), no ``@defer``, not introspection."""
        for detail in details:
            if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                raise NotCompiled("@defer or fragment arguments")
        name = details[0].node.name.value
        definition = parent.fields.get(name)
        if definition is None:
            raise NotCompiled(f"{parent.name}.{name}")  # introspection
        field = (definition.extensions or {}).get(DEFINITION)
        if not isinstance(field, StrawberryField) or field.extensions:
            raise NotCompiled(f"{parent.name}.{name} has field extensions")
        return field, definition

    def args(
        self, definition: GraphQLField, field: StrawberryField, details: Details
    ) -> dict[str, Any]:
        """The arguments as the field's resolver receives them (Strawberry's conversion)."""
        raw = get_argument_values(definition, details[0].node, self.variable_values)
        converted: dict[str, Any] = convert_arguments(
            raw, field.arguments, scalar_registry=self.scalar_registry, config=self.config
        )
        return converted

    # --- entity types ------------------------------------------------------------------------

    def object(self, output: GraphQLOutputType, details: Details) -> ObjectPlan:
        object_type = _object_type(output, Node)
        plan = ObjectPlan(object_type.name)
        for key, sub in self.selections(object_type, details).items():
            plan.getters.append((key, self.object_field(plan, object_type, sub)))
        return plan.seal()

    def object_field(self, plan: ObjectPlan, parent: GraphQLObjectType, details: Details) -> Getter:
        if details[0].node.name.value == "__typename":
            return nodes.constant(parent.name)
        field, definition, read = self.field(parent, details)
        output = definition.type
        if read is None:
            return Column(field.python_name, completer(output), str_as_is(output))
        if isinstance(read, reads.GlobalId):
            return nodes.global_id(read.type_name, read.key, completer(output))
        if isinstance(read, reads.FromRow):
            return nodes.from_row(read.compute, completer(output))
        step: nodes.ComputedStep | nodes.OneStep | nodes.ManyStep
        if isinstance(read, reads.Computed):
            step = nodes.ComputedStep(read, completer(output))
        elif isinstance(read, reads.One):
            non_null = isinstance(output, GraphQLNonNull)
            step = nodes.OneStep(read.relation, self.object(output, details), non_null)
        elif isinstance(read, reads.Many):
            target = ENTITIES[read.relation.target]
            step = nodes.ManyStep(
                read.relation, self.connection(definition, field, details, target)
            )
        else:
            raise NotCompiled(f"{parent.name}.{details[0].node.name.value}")
        plan.fetchers.append(step)
        return step.get

    # --- connections ---------------------------------------------------------------------

    def connection(
        self, definition: GraphQLField, field: StrawberryField, details: Details, entity: Entity
    ) -> ConnectionPlan:
        args = self.args(definition, field, details)
        page = window(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
        plan = ConnectionPlan(
            resolve.page_spec(entity, page, args.get("order_by"), args.get("filter"))
        )
        connection_type = _object_type(definition.type, Connection)
        for key, sub in self.selections(connection_type, details).items():
            name = sub[0].node.name.value
            getter: Callable[[Page, Any], Any]
            if name == "__typename":
                plan.getters.append((key, nodes.constant(connection_type.name)))
                continue
            self.checked(connection_type, sub)
            if name == "totalCount":
                plan.wants_count = True
                getter = nodes.total_count
            elif name == "pageInfo":
                getter = self.page_info(plan, connection_type, sub)
            elif name == "edges":
                getter = plan.edges(self.edge(plan, connection_type, sub))
            else:
                raise NotCompiled(f"{connection_type.name}.{name}")
            plan.getters.append((key, getter))
        return plan.seal()

    def edge(
        self, plan: ConnectionPlan, connection_type: GraphQLObjectType, details: Details
    ) -> list[tuple[str, Getter]]:
        edge_type = _object_type(connection_type.fields["edges"].type, Edge)
        getters: list[Entry] = []
        for key, sub in self.selections(edge_type, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                getters.append((key, nodes.constant(edge_type.name)))
            elif name == "cursor":
                complete = completer(self.checked(edge_type, sub)[1].type)
                getters.append((key, plan.cursor(complete)))
            elif name == "node":
                self.checked(edge_type, sub)
                node = self.object(edge_type.fields["node"].type, sub)
                plan.nodes.append(node)
                getters.append((key, node.project))
            else:
                raise NotCompiled(f"{edge_type.name}.{name}")
        return getters

    def page_info(
        self, plan: ConnectionPlan, connection_type: GraphQLObjectType, details: Details
    ) -> Callable[[Page, Any], Any]:
        info_type = _object_type(connection_type.fields["pageInfo"].type, PageInfo)
        getters: list[Entry] = []
        for key, sub in self.selections(info_type, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                getters.append((key, nodes.constant(info_type.name)))
                continue
            complete = completer(self.checked(info_type, sub)[1].type)
            if name in PAGE_FLAGS:
                getters.append((key, nodes.page_flag(PAGE_FLAGS[name], complete)))
            elif name == "startCursor":
                getters.append((key, plan.boundary_cursor(0, complete)))
            elif name == "endCursor":
                getters.append((key, plan.boundary_cursor(-1, complete)))
            else:
                raise NotCompiled(f"{info_type.name}.{name}")
        return plan.page_info(getters)


def _object_type(output: GraphQLOutputType, origin: type) -> GraphQLObjectType:
    """The object type inside ``output`` (non-null unwrapped), defined by ``origin``."""
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    if isinstance(inner, GraphQLList):  # a list of objects: the edges
        inner = (
            inner.of_type.of_type if isinstance(inner.of_type, GraphQLNonNull) else inner.of_type
        )
    if not isinstance(inner, GraphQLObjectType):
        raise NotCompiled(f"{output} is abstract")
    definition = (inner.extensions or {}).get(DEFINITION)
    if definition is None or not issubclass(definition.origin, origin):
        raise NotCompiled(f"{inner.name} is not a {origin.__name__}")
    return inner


def str_as_is(output: GraphQLOutputType) -> bool:
    """Whether the (leaf) type serializes a ``str`` to itself: String and ID."""
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    serialize = PLAIN_STRINGS.get(getattr(inner, "name", ""))
    return serialize is not None and getattr(inner, "serialize", None) is serialize


def completer(output: GraphQLOutputType) -> Complete:
    """How graphql-core completes a value of a leaf type or a list of leaves."""
    non_null = isinstance(output, GraphQLNonNull)
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    if isinstance(inner, GraphQLList):
        return nodes.listed(completer(inner.of_type), non_null)
    if is_leaf_type(inner):
        return nodes.serialized(inner.serialize, non_null, str_as_is(output))
    raise NotCompiled(f"{output} is not a leaf type")
