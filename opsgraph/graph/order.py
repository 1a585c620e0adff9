"""Orders and their lines in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

import datetime as dt

from opsgraph import models as m
from opsgraph.graph import enums
from opsgraph.graph.catalogue import (
    CREATED,
    OWNED,
    Entity,
    Portal,
    Relation,
    date_range,
    entity,
    equals,
    one_of,
    refers_to,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "Order",
        table(m.Order),
        permission=Permission.ORDER_READ,
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
        table(m.OrderLine),
        permission=Permission.ORDER_READ,
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
