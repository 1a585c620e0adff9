"""Products in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

from opsgraph import models as m
from opsgraph.graph.catalogue import (
    CREATED,
    SHARED,
    Entity,
    Relation,
    contains,
    entity,
    equals,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "Product",
        table(m.Product),
        permission=Permission.PRODUCT_READ,
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
