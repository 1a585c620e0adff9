"""How GraphQL types map onto tables: columns, sort orders, filters and relations.

This is the one declarative description of the graph. The loaders build their SQL from it
(and a compiled read path can later do the same); resolvers only name an entry here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

import strawberry
from sqlalchemy import ColumnElement, Table, literal

from opsgraph import models as m
from opsgraph.schema import enums
from opsgraph.schema.node import parse_global_id


class FilterOp(StrEnum):
    eq = "eq"
    any_of = "any_of"
    gte = "gte"
    lte = "lte"
    lt = "lt"
    contains = "contains"  # case-insensitive substring


@dataclass(frozen=True)
class Filter:
    """One field of an entity's filter input: applies ``op`` to ``column``."""

    column: str
    op: FilterOp
    graphql_type: Any
    description: str
    # how the input value becomes a SQL value (e.g. a global id becomes a key)
    convert: Callable[[Any], Any] | None = None


def _ref(type_name: str, name: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> int:
        return parse_global_id(str(value), type_name, field=name)

    return convert


def contains(column: str, what: str) -> Filter:
    return Filter(column, FilterOp.contains, str, f"Case-insensitive substring of the {what}.")


def equals(column: str, graphql_type: Any, what: str) -> Filter:
    return Filter(column, FilterOp.eq, graphql_type, f"Exactly this {what}.")


def one_of(column: str, enum: Any, what: str) -> Filter:
    return Filter(column, FilterOp.any_of, list[enum], f"Any of these {what} values.")


def refers_to(column: str, type_name: str, name: str) -> Filter:
    return Filter(
        column,
        FilterOp.eq,
        strawberry.ID,
        f"Only rows of this {type_name} (global id).",
        _ref(type_name, name),
    )


def date_range(column: str, graphql_type: Any, what: str) -> dict[str, Filter]:
    stem = column.removesuffix("_at").removesuffix("_on").removesuffix("_date")
    return {
        f"{stem}_from": Filter(column, FilterOp.gte, graphql_type, f"{what} on or after this."),
        f"{stem}_to": Filter(column, FilterOp.lte, graphql_type, f"{what} on or before this."),
    }


@dataclass(frozen=True)
class Relation:
    """A relation field of an entity.

    ``one``: the parent's ``local`` column holds the target's ``remote`` column value.
    ``many``: the target's ``remote`` column holds the parent's ``local`` column value;
    ``through`` names a link table ``(table, parent column, target column)`` instead.
    """

    kind: Literal["one", "many"]
    target: str
    local: str
    remote: str
    through: tuple[Table, str, str] | None = None
    # for relations reached through a join, e.g. customer.payments via invoice
    via: tuple[Table, str, str] | None = None
    # constant conditions on the target's columns, e.g. the audit events of one entity
    # type: (("entity_type", "Order"),)
    where: tuple[tuple[str, Any], ...] = ()

    @property
    def loader_name(self) -> str:
        return f"{self.target}:{self.kind}:{self.remote}:{self.local}"


@dataclass(frozen=True)
class Portal:
    """Which rows of an entity a customer-portal user sees (``opsgraph.loaders.sql``
    turns this into the WHERE clause of every statement): those whose ``column`` holds
    their customer's id, or whose ``via`` row (a to-one relation) they see; every row when
    ``shared`` (catalog data); only their own row when ``own_user``; none otherwise."""

    column: str | None = None
    via: str | None = None
    shared: bool = False
    own_user: bool = False


HIDDEN = Portal()
SHARED = Portal(shared=True)
OWNED = Portal(column="customer_id")


@dataclass(frozen=True)
class Entity:
    name: str  # GraphQL type name
    table: Table
    # orderBy enum value -> (column, default direction descending?)
    orderings: Mapping[str, str]
    default_ordering: str
    filters: Mapping[str, Filter] = field(default_factory=dict)
    relations: Mapping[str, Relation] = field(default_factory=dict)
    # what reading a row of this type needs, wherever it is reached (opsgraph.auth.guard);
    # None: nothing more than the field that reaches it (every root field declares its own)
    permission: str | None = None
    portal: Portal = HIDDEN

    def columns(self) -> list[ColumnElement[Any]]:
        """Every column of the table plus the type name that ``Node.resolve_type`` reads."""
        return [*self.table.c, literal(self.name).label("graph_type")]


def _t(model: Any) -> Table:
    table: Table = model.__table__
    return table


ENTITIES: dict[str, Entity] = {}


HISTORY = "history"


def entity(e: Entity) -> Entity:
    """Register an entity. Every one but AuditEvent gets the ``history`` relation: its own
    audit events, newest first by default (read permission: AuditEvent's, `audit:read`)."""
    if e.name != "AuditEvent":
        key = next(iter(e.table.primary_key.columns)).name
        history = Relation("many", "AuditEvent", key, "entity_id", where=(("entity_type", e.name),))
        e = replace(e, relations={**e.relations, HISTORY: history})
    ENTITIES[e.name] = e
    return e


CREATED = {"CREATED_AT": "created_at", "ID": "id"}

entity(
    Entity(
        "Customer",
        _t(m.Customer),
        permission="customer:read",
        portal=Portal(column="id"),
        filters={
            "search": contains("name", "name"),
            "email": contains("email", "e-mail address"),
            "external_id": equals("external_id", str, "external id"),
            **date_range("created_at", dt.datetime, "Created"),
        },
        orderings={**CREATED, "NAME": "name", "ORDER_COUNT": "order_count"},
        default_ordering="ID",
        relations={
            "properties": Relation("many", "Property", "id", "customer_id"),
            "orders": Relation("many", "Order", "id", "customer_id"),
            "invoices": Relation("many", "Invoice", "id", "customer_id"),
            "payments": Relation(
                "many", "Payment", "id", "customer_id", via=(_t(m.Invoice), "id", "invoice_id")
            ),
            "tickets": Relation("many", "Ticket", "id", "customer_id"),
            "purchase_orders": Relation("many", "PurchaseOrder", "id", "customer_id"),
        },
    )
)
entity(
    Entity(
        "Property",
        _t(m.Property),
        permission="property:read",
        portal=OWNED,
        filters={
            "search": contains("label", "label"),
            "city": contains("city", "city"),
            "customer_id": refers_to("customer_id", "Customer", "customerId"),
        },
        orderings={**CREATED, "LABEL": "label", "CITY": "city"},
        default_ordering="ID",
        relations={
            "customer": Relation("one", "Customer", "customer_id", "id"),
            "orders": Relation("many", "Order", "id", "property_id"),
            "invoices": Relation("many", "Invoice", "id", "property_id"),
        },
    )
)
entity(
    Entity(
        "Product",
        _t(m.Product),
        permission="product:read",
        portal=SHARED,
        filters={
            "search": contains("name", "name"),
            "sku": equals("sku", str, "SKU"),
            "active": equals("active", bool, "active flag"),
        },
        orderings={**CREATED, "SKU": "sku", "NAME": "name", "UNIT_PRICE": "unit_price"},
        default_ordering="ID",
        relations={
            "stock_level": Relation("one", "StockLevel", "id", "product_id"),
            "movements": Relation("many", "StockMovement", "id", "product_id"),
            "order_lines": Relation("many", "OrderLine", "id", "product_id"),
        },
    )
)
entity(
    Entity(
        "StockLevel",
        _t(m.StockLevel),
        permission="stock:read",
        portal=SHARED,
        orderings={"ID": "product_id"},
        default_ordering="ID",
        relations={"product": Relation("one", "Product", "product_id", "id")},
    )
)
entity(
    Entity(
        "StockMovement",
        _t(m.StockMovement),
        permission="stock:read",
        portal=HIDDEN,
        filters={
            "reason": one_of("reason", enums.StockReason, "reason"),
            **date_range("created_at", dt.datetime, "Made"),
        },
        orderings={**CREATED},
        default_ordering="ID",
        relations={
            "product": Relation("one", "Product", "product_id", "id"),
            "order": Relation("one", "Order", "order_id", "id"),
            "actor": Relation("one", "User", "actor_id", "id"),
        },
    )
)
entity(
    Entity(
        "Order",
        _t(m.Order),
        permission="order:read",
        portal=OWNED,
        filters={
            "status": one_of("status", enums.OrderStatus, "status"),
            "customer_id": refers_to("customer_id", "Customer", "customerId"),
            "external_id": equals("external_id", str, "external id"),
            **date_range("placed_at", dt.datetime, "Placed"),
        },
        orderings={**CREATED, "PLACED_AT": "placed_at", "TOTAL": "total"},
        default_ordering="ID",
        relations={
            "customer": Relation("one", "Customer", "customer_id", "id"),
            "property": Relation("one", "Property", "property_id", "id"),
            "lines": Relation("many", "OrderLine", "id", "order_id"),
            "invoices": Relation("many", "Invoice", "id", "order_id"),
        },
    )
)
entity(
    Entity(
        "OrderLine",
        _t(m.OrderLine),
        permission="order:read",
        portal=Portal(via="order"),
        filters={"product_id": refers_to("product_id", "Product", "productId")},
        orderings={"ID": "id"},
        default_ordering="ID",
        relations={
            "order": Relation("one", "Order", "order_id", "id"),
            "product": Relation("one", "Product", "product_id", "id"),
        },
    )
)
entity(
    Entity(
        "Invoice",
        _t(m.Invoice),
        permission="invoice:read",
        portal=OWNED,
        filters={
            "status": one_of("status", enums.InvoiceStatus, "status"),
            "customer_id": refers_to("customer_id", "Customer", "customerId"),
            "number": equals("number", str, "invoice number"),
            **date_range("issued_date", dt.date, "Issued"),
            **date_range("due_date", dt.date, "Due"),
        },
        orderings={
            **CREATED,
            "NUMBER": "number",
            "ISSUED_DATE": "issued_date",
            "DUE_DATE": "due_date",
            "TOTAL": "total",
        },
        default_ordering="ID",
        relations={
            "customer": Relation("one", "Customer", "customer_id", "id"),
            "order": Relation("one", "Order", "order_id", "id"),
            "property": Relation("one", "Property", "property_id", "id"),
            "payments": Relation("many", "Payment", "id", "invoice_id"),
            # invoices have no lines of their own: those of the order invoiced
            "lines": Relation("many", "OrderLine", "order_id", "order_id"),
        },
    )
)
entity(
    Entity(
        "Payment",
        _t(m.Payment),
        permission="payment:read",
        portal=Portal(via="invoice"),
        filters={
            "method": one_of("method", enums.PaymentMethod, "method"),
            "reference": equals("reference", str, "reference"),
            **date_range("paid_at", dt.datetime, "Paid"),
        },
        orderings={**CREATED, "PAID_AT": "paid_at", "AMOUNT": "amount"},
        default_ordering="ID",
        relations={"invoice": Relation("one", "Invoice", "invoice_id", "id")},
    )
)
entity(
    Entity(
        "Ticket",
        _t(m.Ticket),
        permission="ticket:read",
        portal=OWNED,
        filters={
            "status": one_of("status", enums.TicketStatus, "status"),
            "priority": one_of("priority", enums.TicketPriority, "priority"),
            "search": contains("subject", "subject"),
            "customer_id": refers_to("customer_id", "Customer", "customerId"),
            "assignee_id": refers_to("assignee_id", "User", "assigneeId"),
            **date_range("created_at", dt.datetime, "Opened"),
        },
        orderings={**CREATED, "UPDATED_AT": "updated_at", "PRIORITY": "priority"},
        default_ordering="ID",
        relations={
            "customer": Relation("one", "Customer", "customer_id", "id"),
            "assignee": Relation("one", "User", "assignee_id", "id"),
            "time_entries": Relation("many", "TimeEntry", "id", "ticket_id"),
        },
    )
)
entity(
    Entity(
        "TimeEntry",
        _t(m.TimeEntry),
        permission="time_entry:read",
        portal=Portal(via="ticket"),
        filters={
            "billable": equals("billable", bool, "billable flag"),
            **date_range("started_at", dt.datetime, "Started"),
        },
        orderings={**CREATED, "STARTED_AT": "started_at", "MINUTES": "minutes"},
        default_ordering="ID",
        relations={
            "ticket": Relation("one", "Ticket", "ticket_id", "id"),
            "user": Relation("one", "User", "user_id", "id"),
        },
    )
)
entity(
    Entity(
        "PurchaseOrder",
        _t(m.PurchaseOrder),
        permission="purchase_order:read",
        portal=OWNED,
        filters={
            "state": one_of("state", enums.PurchaseOrderState, "state"),
            "external_id": equals("external_id", str, "external id"),
            "source": contains("source", "source"),
            "brand": equals("brand", str, "brand"),
            "customer_id": refers_to("customer_id", "Customer", "customerId"),
        },
        orderings={**CREATED, "EXTERNAL_ID": "external_id", "AMOUNT": "amount"},
        default_ordering="ID",
        relations={"customer": Relation("one", "Customer", "customer_id", "id")},
    )
)
entity(
    Entity(
        "FinancialTransaction",
        _t(m.FinancialTransaction),
        permission="transaction:read",
        portal=HIDDEN,
        filters={
            "kind": one_of("kind", enums.TransactionKind, "kind"),
            "created_by": refers_to("created_by", "User", "createdBy"),
            **date_range("occurred_on", dt.date, "Occurred"),
        },
        orderings={**CREATED, "OCCURRED_ON": "occurred_on", "AMOUNT": "amount"},
        default_ordering="ID",
        relations={
            "created_by": Relation("one", "User", "created_by", "id"),
            "payment": Relation("one", "Payment", "payment_id", "id"),
        },
    )
)
entity(
    Entity(
        "User",
        _t(m.User),
        permission="user:read",
        portal=Portal(own_user=True),
        filters={
            "search": contains("username", "username"),
            "email": contains("email", "e-mail address"),
            "is_active": equals("is_active", bool, "active flag"),
        },
        orderings={**CREATED, "USERNAME": "username"},
        default_ordering="ID",
        relations={
            "roles": Relation(
                "many", "Role", "id", "user_id", through=(_t(m.UserRole), "user_id", "role_id")
            ),
            "assigned_tickets": Relation("many", "Ticket", "id", "assignee_id"),
            "customer": Relation("one", "Customer", "customer_id", "id"),
        },
    )
)
entity(
    Entity(
        "Role",
        _t(m.Role),
        permission=None,
        portal=SHARED,
        filters={"search": contains("name", "name")},
        orderings={**CREATED, "NAME": "name"},
        default_ordering="ID",
        relations={
            "users": Relation(
                "many", "User", "id", "role_id", through=(_t(m.UserRole), "role_id", "user_id")
            ),
        },
    )
)
entity(
    Entity(
        "AuditEvent",
        _t(m.AuditEvent),
        permission="audit:read",
        portal=HIDDEN,
        filters={
            "action": equals("action", str, "action"),
            "entity_type": equals("entity_type", str, "entity type"),
            **date_range("created_at", dt.datetime, "Recorded"),
        },
        orderings={**CREATED},
        default_ordering="ID",
        relations={"actor": Relation("one", "User", "actor_user_id", "id")},
    )
)
