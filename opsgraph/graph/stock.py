"""Stock levels and movements in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

import datetime as dt

from opsgraph import models as m
from opsgraph.graph import enums
from opsgraph.graph.catalogue import (
    CREATED,
    HIDDEN,
    SHARED,
    Entity,
    Relation,
    date_range,
    entity,
    one_of,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "StockLevel",
        table(m.StockLevel),
        permission=Permission.STOCK_READ,
        portal=SHARED,
        orderings={"ID": "product_id"},
        default_ordering="ID",
        relations={"product": Relation("one", "Product", "product_id", "id")},
    )
)

entity(
    Entity(
        "StockMovement",
        table(m.StockMovement),
        permission=Permission.STOCK_READ,
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
