"""Factories for the fields every type repeats, all read from the mapping.

``many`` makes a nested connection field (first/after/last/before, filter, orderBy),
``one`` a to-one relation, ``node_id`` the global id; ``filter_input`` and
``order_input`` derive the input types from an entity's declared filters and orderings.
"""

import inspect
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import Executable

from opsgraph.auth import guard
from opsgraph.graph import reads
from opsgraph.graph.catalogue import ENTITIES, NodeId
from opsgraph.graph.ids import to_global_id
from opsgraph.graph.pagination import window
from opsgraph.schema import (
    enums,  # noqa: F401  (the graph's enums become GraphQL enums)
    resolve,
)
from opsgraph.schema.pagination import Connection, Direction

# type name -> module that defines it (for lazy references across modules)
TYPE_MODULES = {
    "Customer": "opsgraph.schema.customer",
    "Property": "opsgraph.schema.customer",
    "Product": "opsgraph.schema.product",
    "StockLevel": "opsgraph.schema.product",
    "StockMovement": "opsgraph.schema.product",
    "Order": "opsgraph.schema.order",
    "OrderLine": "opsgraph.schema.order",
    "Invoice": "opsgraph.schema.invoice",
    "Payment": "opsgraph.schema.invoice",
    "FinancialTransaction": "opsgraph.schema.invoice",
    "Ticket": "opsgraph.schema.ticket",
    "TimeEntry": "opsgraph.schema.ticket",
    "PurchaseOrder": "opsgraph.schema.ticket",
    "User": "opsgraph.schema.user",
    "Role": "opsgraph.schema.user",
    "AuditEvent": "opsgraph.schema.user",
}

_inputs: dict[str, Any] = {}


def typed(resolver: Any, returns: Any) -> Any:
    """Give a resolver a return annotation that only exists at run time (lazy types)."""
    resolver.__annotations__["return"] = returns
    return resolver


def connection_of(type_name: str) -> Any:
    generic: Any = Connection
    return generic[lazy(type_name)]


def lazy(type_name: str) -> Any:
    return Annotated[type_name, strawberry.lazy(TYPE_MODULES[type_name])]


def order_input(entity_name: str) -> Any:
    key = f"{entity_name}Order"
    if key not in _inputs:
        entity = ENTITIES[entity_name]
        values: Any = Enum(f"{entity_name}OrderField", dict(entity.orderings))  # type: ignore[misc]
        field_enum = strawberry.enum(
            values,
            description=f"What {entity_name} lists can be sorted by (the id breaks ties).",
        )
        namespace = {
            "__annotations__": {"field": field_enum, "direction": Direction},
            "direction": Direction.ASC,
        }
        _inputs[key] = strawberry.input(
            type(key, (), namespace), description=f"Sort order for {entity_name} lists."
        )
    return _inputs[key]


def _graphql(value_type: Any) -> Any:
    """The GraphQL type of a filter's values (a global id is an ``ID``)."""
    return strawberry.ID if value_type is NodeId else value_type


def filter_input(entity_name: str) -> Any:
    key = f"{entity_name}Filter"
    if key not in _inputs:
        entity = ENTITIES[entity_name]
        annotations = {
            name: _graphql(spec.value_type) | None for name, spec in entity.filters.items()
        }
        namespace: dict[str, Any] = {"__annotations__": annotations}
        for name, spec in entity.filters.items():
            namespace[name] = strawberry.field(default=None, description=spec.description)
        _inputs[key] = strawberry.input(
            type(key, (), namespace),
            description=f"Conditions on {entity_name} lists; all given conditions must hold.",
        )
    return _inputs[key]


def list_arguments(entity_name: str) -> dict[str, Any]:
    """Annotations of the arguments every connection field takes."""
    return {
        "first": int | None,
        "after": str | None,
        "last": int | None,
        "before": str | None,
        "filter": filter_input(entity_name) | None,
        "order_by": order_input(entity_name) | None,
    }


def _connection_field(
    target: str,
    description: str,
    load: Callable[..., Awaitable[Any]],
    read: reads.Read,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """A connection field of ``target`` rows with the shared list arguments; ``load``
    receives (info, root, window, order_by, filter)."""

    async def resolver(
        root: Any,
        info: resolve.Info,
        first: Any = None,
        after: Any = None,
        last: Any = None,
        before: Any = None,
        filter: Any = None,
        order_by: Any = None,
    ) -> Any:
        return await load(info, root, window(first, after, last, before), order_by, filter)

    resolver.__annotations__ = {
        "root": Any,
        "info": resolve.Info,
        **list_arguments(target),
        "return": connection_of(target),
    }
    return strawberry.field(
        resolver=reads.declare(resolver, read), description=description, metadata=metadata
    )


def many(owner: str, name: str, description: str) -> Any:
    """A nested connection: this parent's page of a to-many relation."""
    relation = ENTITIES[owner].relations[name]

    async def load(info: resolve.Info, root: Any, *page: Any) -> Any:
        return await resolve.children(info, root, relation, *page)

    return _connection_field(relation.target, description, load, reads.Many(relation))


def one(owner: str, name: str, description: str, *, nullable: bool = True) -> Any:
    relation = ENTITIES[owner].relations[name]

    async def resolver(root: Any, info: resolve.Info) -> Any:
        return await resolve.one(info, root, relation)

    target = lazy(relation.target)
    resolver.__annotations__ = {
        "root": Any,
        "info": resolve.Info,
        "return": target | None if nullable else target,
    }
    read = reads.One(relation)
    return strawberry.field(resolver=reads.declare(resolver, read), description=description)


def node_id(type_name: str, key: str = "id") -> Any:
    def resolver(root: Any) -> strawberry.ID:
        return strawberry.ID(to_global_id(type_name, getattr(root, key)))

    read = reads.GlobalId(type_name, key)
    return strawberry.field(
        resolver=reads.declare(resolver, read), description="Opaque global id (Relay)."
    )


def _same(root: Any, value: Any) -> Any:
    return value


def batched(
    build: Callable[[Sequence[Any]], Executable],
    returns: Any,
    description: str,
    *,
    default: Any,
    derive: Callable[[Any, Any], Any] = _same,
    needs: str | None = None,
) -> Any:
    """A computed field: ``build`` selects ``(row id, value)`` for all the rows of a level
    in one statement; ``derive(row, value)`` makes the field's value (``value`` is
    ``default`` where the statement found none). ``needs``: the permission it takes when
    the value is made of another domain's rows (a customer's balance is invoices)."""

    async def resolver(root: Any, info: resolve.Info) -> Any:
        return derive(root, await resolve.computed_value(info, build, root.id, default))

    resolver.__annotations__ = {"root": Any, "info": resolve.Info, "return": returns}
    read = reads.Computed(build, default, derive)
    return strawberry.field(
        resolver=reads.declare(resolver, read),
        description=description,
        metadata=guard.requires(needs) if needs else None,
    )


def from_row(compute: Callable[[Any], Any], returns: Any, description: str) -> Any:
    """A field computed from the row alone."""

    def resolver(root: Any) -> Any:
        return compute(root)

    resolver.__annotations__ = {"root": Any, "return": returns}
    read = reads.FromRow(compute)
    return strawberry.field(resolver=reads.declare(resolver, read), description=description)


def _read_guard(entity_name: str, permission: str | None) -> dict[str, Any]:
    needed = permission or ENTITIES[entity_name].permission
    if needed is None:
        raise ValueError(f"root fields of {entity_name} must name their permission")
    return guard.requires(needed)


def root_many(entity_name: str, description: str, *, permission: str | None = None) -> Any:
    """A root connection over every row of an entity (visible to the caller). It needs
    ``permission``, by default the entity's read permission."""
    entity = ENTITIES[entity_name]

    async def load(info: resolve.Info, root: Any, *page: Any) -> Any:
        return await resolve.root_list(info, entity, *page)

    metadata = _read_guard(entity_name, permission)
    return _connection_field(entity_name, description, load, reads.RootList(entity), metadata)


def lookup(entity_name: str, alternate: str, description: str) -> Any:
    """A root field finding one row by global ``id`` or by a unique ``alternate`` column."""
    entity = ENTITIES[entity_name]

    async def resolver(info: resolve.Info, id: Any = None, **alternate_value: Any) -> Any:
        return await resolve.find_one(
            info.context.loaders, entity, alternate, id, alternate_value.get(alternate)
        )

    # Strawberry reads the signature: spell the alternate argument out
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("info", keyword, annotation=resolve.Info),
        inspect.Parameter("id", keyword, default=None, annotation=strawberry.ID | None),
        inspect.Parameter(alternate, keyword, default=None, annotation=str | None),
    ]
    returns = lazy(entity_name) | None
    resolver.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=returns
    )
    resolver.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    read = reads.Lookup(entity, alternate)
    return strawberry.field(
        resolver=reads.declare(resolver, read),
        description=description,
        metadata=_read_guard(entity_name, None),
    )


def history_of(owner: str) -> Any:
    """The ``history`` connection every Node type has: its audit events."""
    return many(
        owner, "history", f"What was done to this {owner}: its audit events (`audit:read`)."
    )
