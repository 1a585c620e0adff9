"""Customers in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

import datetime as dt

from opsgraph import models as m
from opsgraph.graph.catalogue import (
    CREATED,
    Entity,
    Portal,
    Relation,
    contains,
    date_range,
    entity,
    equals,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "Customer",
        table(m.Customer),
        permission=Permission.CUSTOMER_READ,
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
                "many", "Payment", "id", "customer_id", via=(table(m.Invoice), "id", "invoice_id")
            ),
            "tickets": Relation("many", "Ticket", "id", "customer_id"),
            "purchase_orders": Relation("many", "PurchaseOrder", "id", "customer_id"),
        },
    )
)
