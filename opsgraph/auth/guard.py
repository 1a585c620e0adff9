"""Guards: what each field of the graph needs, declared, and checked before execution.

Declaring. Every root query and mutation field names its requirement in its Strawberry
``metadata``: ``guarded(Permission.INVOICE_READ, "... ({needs}) ...")`` (which also
writes the permission into the description where ``{needs}`` stands), ``SIGNED_IN`` or
``PUBLIC``; a test walks the schema and fails on a root field with none. Any other field
that returns one of the mapped types (or a connection of them) needs that type's read
permission, from the mapping (``Entity.permission``); a field may declare its own
requirement instead (a computed value that reads another domain, or ``me`` returning
the caller's own user).

Checking. Before an operation runs, ``check_operation`` walks every field it selects,
with graphql-core's own field collection (fragments, aliases, ``@skip``/``@include``
exactly as execution sees them), and compares the requirements with the caller's
permissions. A request that selects anything the caller may not read is refused as a
whole: ``data`` is null and one top-level error (``UNAUTHENTICATED`` or ``FORBIDDEN``)
names every field at fault and what it needs. Nothing is read, so nothing leaks, and the
same rule holds on the compiled read path and on the resolvers. What a field returns that
depends on the row (``node(id)``: which type the id names) is checked where it is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypedDict

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    get_named_type,
    is_abstract_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from graphql.language import OperationDefinitionNode

from opsgraph.auth.permissions import PERMISSIONS
from opsgraph.errors import Forbidden, Unauthenticated
from opsgraph.permissions import Permission

if TYPE_CHECKING:
    from opsgraph.auth.principal import Principal
    from opsgraph.settings import Settings

METADATA_KEY: Final = "opsgraph_requires"
DEFINITION: Final = "strawberry-definition"  # where Strawberry links a GraphQL field to its own


@dataclass(frozen=True)
class Requirement:
    """What a field needs: a permission, or only a signed-in caller, or nothing.

    ``public_if`` names a boolean setting that, when true, makes the field public (open
    self-signup, say); the resolver then checks what else it must. ``open_if`` names one
    that, when true, makes the field need nothing (introspection outside production).
    """

    permission: str | None = None
    signed_in: bool = True
    public_if: str | None = None
    open_if: str | None = None

    def opened_by(self, settings: Settings) -> bool:
        """True when the setting ``open_if`` waives the requirement altogether: the field
        then needs nothing, and the caller's credentials are not looked at for it."""
        return self.open_if is not None and bool(getattr(settings, self.open_if))

    def met_by(self, principal: Principal | None, settings: Settings) -> bool:
        if self.public_if is not None and getattr(settings, self.public_if):
            return True
        if not self.signed_in:
            return True
        if principal is None:
            return False
        return self.permission is None or principal.can(self.permission)

    def needs_principal(self, settings: Settings) -> bool:
        return self.signed_in and not (
            self.public_if is not None and getattr(settings, self.public_if)
        )

    def describe(self) -> str:
        return self.permission or "signing in"


def requires(permission: str, *, public_if: str | None = None) -> dict[str, Requirement]:
    """Field metadata: the field needs ``permission`` (unless the setting ``public_if``
    is on). ``guarded`` is the same with the field's description."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return {METADATA_KEY: Requirement(permission, public_if=public_if)}


NEEDS: Final = "{needs}"


class Guarded(TypedDict):
    """Keyword arguments of a Strawberry field: its description and guard metadata."""

    description: str | None
    metadata: dict[str, Requirement]


def guarded(
    permission: Permission, description: str | None = None, *, public_if: str | None = None
) -> Guarded:
    """A field that needs ``permission``, as keyword arguments for ``strawberry.field`` or
    ``strawberry.mutation``: ``@strawberry.mutation(**guarded(Permission.ORDER_WRITE,
    "Confirm a pending order ({needs})."))``. Where the description says ``{needs}`` it
    names the permission, as ``order:write`` in backticks; no other text there is read
    as a placeholder."""
    if description is not None:
        description = description.replace(NEEDS, f"`{permission}`")
    return {"description": description, "metadata": requires(permission, public_if=public_if)}


PUBLIC: Final = {METADATA_KEY: Requirement(signed_in=False)}
SIGNED_IN: Final = {METADATA_KEY: Requirement()}
# A root field with no declaration: refused to everyone (the schema-walk test names it).
UNDECLARED: Final = Requirement(permission="undeclared")
# __schema and __type: open in development or with OPSGRAPH_INTROSPECTION=true, else for
# callers holding Permission.INTROSPECT
INTROSPECTION_FIELDS: Final = frozenset({"__schema", "__type"})
INTROSPECTION: Final = Requirement(permission=Permission.INTROSPECT, open_if="introspection_open")


def declared(field: GraphQLField) -> Requirement | None:
    """The requirement a field declares in its Strawberry metadata, if any."""
    strawberry_field = (field.extensions or {}).get(DEFINITION)
    metadata: Mapping[str, Any] = getattr(strawberry_field, "metadata", None) or {}
    requirement = metadata.get(METADATA_KEY)
    return requirement if isinstance(requirement, Requirement) else None


def type_permission(output: GraphQLOutputType) -> str | None:
    """The read permission of the mapped type a field returns (through lists, non-null
    and connections), None for anything else."""
    from opsgraph.graph.catalogue import ENTITIES

    named = get_named_type(output)
    entity = ENTITIES.get(named.name)
    if entity is not None:
        return entity.permission
    if isinstance(named, GraphQLObjectType) and "edges" in named.fields:
        edge = get_named_type(named.fields["edges"].type)
        if isinstance(edge, GraphQLObjectType) and "node" in edge.fields:
            return type_permission(edge.fields["node"].type)
    return None


def field_requirement(parent: GraphQLObjectType, field: GraphQLField, *, root: bool) -> Requirement:
    requirement = declared(field)
    if requirement is not None:
        return requirement
    if root:
        return UNDECLARED
    permission = type_permission(field.type)
    return Requirement(permission) if permission is not None else PUBLIC[METADATA_KEY]


Path = tuple[str, ...]


@dataclass(frozen=True)
class Selected:
    """One field an operation selects: its response path, its definition (None for the
    introspection fields ``__schema`` and ``__type``), the nodes that select it, and what
    it needs."""

    path: Path
    definition: GraphQLField | None
    details: Sequence[FieldDetails]
    requirement: Requirement


class SelectionWalk:
    """Every field an operation selects, with its response path and requirement."""

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
        self._selected: list[Selected] | None = None

    @property
    def selected(self) -> list[Selected]:
        """The fields, walked once however many checks read them."""
        if self._selected is None:
            self._selected = list(self._walk())
        return self._selected

    def __iter__(self) -> Iterator[tuple[Path, Requirement]]:
        for selected in self.selected:
            yield selected.path, selected.requirement

    def _walk(self) -> Iterator[Selected]:
        root = self.schema.get_root_type(self.operation.operation)
        if root is None:
            return
        collected = collect_fields(
            self.schema, self.fragments, self.variable_values, root, self.operation
        )
        for key, details in collected.grouped_field_set.items():
            yield from self.field(root, (key,), details, root=True)

    def field(
        self,
        parent: GraphQLObjectType,
        path: Path,
        details: Sequence[FieldDetails],
        *,
        root: bool = False,
    ) -> Iterator[Selected]:
        name = details[0].node.name.value
        if name.startswith("__"):
            if root and name in INTROSPECTION_FIELDS:
                yield Selected(path, None, details, INTROSPECTION)
            return  # __typename is free; what introspection returns is not walked
        definition = parent.fields[name]
        yield Selected(path, definition, details, field_requirement(parent, definition, root=root))
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLObjectType):
            yield from self.children(named, path, details)
        elif is_abstract_type(named):
            abstract: Any = named
            for possible in self.schema.get_possible_types(abstract):
                yield from self.children(possible, path, details)

    def children(
        self, parent: GraphQLObjectType, path: Path, details: Sequence[FieldDetails]
    ) -> Iterator[Selected]:
        collected = collect_subfields(
            self.schema, self.fragments, self.variable_values, self.operation, parent, list(details)
        )
        for key, sub in collected.grouped_field_set.items():
            yield from self.field(parent, (*path, key), sub)


async def check_operation(walk: SelectionWalk, context: Any) -> None:
    """Refuse the operation (``Unauthenticated`` / ``Forbidden``) unless the caller may
    read and do everything it selects. ``context`` is the request's ``Context``."""
    settings: Settings = context.settings
    requirements = [(path, need) for path, need in walk if not need.opened_by(settings)]
    if not any(requirement.needs_principal(settings) for _, requirement in requirements):
        if any(requirement.public_if for _, requirement in requirements):
            # public by a setting (self-signup), yet a signed-in caller may do more
            await context.principal()
        else:
            context.anonymous()  # public fields only: credentials are not even looked at
        return
    principal = await context.principal()
    if principal is None:
        raise Unauthenticated()
    missing: dict[str, list[str]] = {}
    for path, requirement in requirements:
        if not requirement.met_by(principal, settings):
            missing.setdefault(requirement.describe(), []).append(".".join(path))
    if missing:
        raise Forbidden(
            "Not allowed: "
            + "; ".join(
                f"{', '.join(paths)} needs the permission {permission}"
                for permission, paths in sorted(missing.items())
            )
        )
