"""Purchase orders from partner systems in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

from opsgraph import models as m
from opsgraph.graph import enums
from opsgraph.graph.catalogue import (
    CREATED,
    OWNED,
    Entity,
    Relation,
    contains,
    entity,
    equals,
    one_of,
    refers_to,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "PurchaseOrder",
        table(m.PurchaseOrder),
        permission=Permission.PURCHASE_ORDER_READ,
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
