"""Root query fields: node lookups, lists and single-row lookups. Thin by design: the
mapping and the loaders do the work."""

from __future__ import annotations

from typing import Any

import strawberry

from opsgraph.auth.guard import SIGNED_IN
from opsgraph.errors import InvalidInput
from opsgraph.graph.catalogue import ENTITIES
from opsgraph.graph.ids import decode_global_id
from opsgraph.graph.pagination import MAX_PAGE_SIZE
from opsgraph.schema.fields import lookup, root_many
from opsgraph.schema.node import Node
from opsgraph.schema.resolve import Info

# which column the global id of a type holds (its primary key)
NODE_KEYS = {"StockLevel": "product_id"}


async def _load_nodes(info: Info, ids: list[strawberry.ID]) -> list[Any]:
    """The rows of global ids, in scope; which type an id names is only known here, so its
    read permission is checked here (the guard checked the rest before execution)."""
    loaders = info.context.loaders
    principal = await info.context.require_principal()
    results = []
    for position, raw in enumerate(ids):
        field = ["ids", str(position)] if len(ids) > 1 else ["id"]
        type_name, pk = decode_global_id(raw, field=field)
        entity = ENTITIES.get(type_name)
        if entity is None:
            raise InvalidInput(f"id {raw!r} is of unknown type {type_name!r}", field=field)
        if entity.permission is not None:
            principal.require(entity.permission)
        results.append(loaders.by_key(type_name, NODE_KEYS.get(type_name, "id")).load(pk))
    return [await result for result in results]


@strawberry.type
class Query:
    @strawberry.field(
        description="Any object by its global id (its type's read permission applies).",
        metadata=SIGNED_IN,
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        [row] = await _load_nodes(info, [id])
        found: Node | None = row
        return found

    @strawberry.field(
        description=f"Objects by global id, in order (at most {MAX_PAGE_SIZE}).",
        metadata=SIGNED_IN,
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_PAGE_SIZE:
            raise InvalidInput(f"at most {MAX_PAGE_SIZE} ids at once", field=["ids"])
        return await _load_nodes(info, ids)

    customers = root_many("Customer", "Customers, a page at a time.")
    customer = lookup("Customer", "external_id", "One customer by id or external id.")
    properties = root_many("Property", "Properties of all customers.")
    products = root_many("Product", "Products.")
    product = lookup("Product", "sku", "One product by id or SKU.")
    orders = root_many("Order", "Orders.")
    order = lookup("Order", "external_id", "One order by id or external id.")
    invoices = root_many("Invoice", "Invoices.")
    invoice = lookup("Invoice", "number", "One invoice by id or number.")
    payments = root_many("Payment", "Payments.")
    tickets = root_many("Ticket", "Support tickets.")
    purchase_orders = root_many("PurchaseOrder", "Purchase orders from partner systems.")
    purchase_order = lookup("PurchaseOrder", "external_id", "One purchase order.")
    users = root_many("User", "Users.")
    roles = root_many("Role", "Roles.", permission="role:read")
    audit_events = root_many("AuditEvent", "The audit trail, newest last by default.")
