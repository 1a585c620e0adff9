"""Properties (a customer's sites) in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

from opsgraph import models as m
from opsgraph.graph.catalogue import (
    CREATED,
    OWNED,
    Entity,
    Relation,
    contains,
    entity,
    refers_to,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "Property",
        table(m.Property),
        permission=Permission.PROPERTY_READ,
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
