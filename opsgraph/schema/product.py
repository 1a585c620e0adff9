"""GraphQL types for products and stock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from opsgraph.loaders import computed
from opsgraph.schema.enums import StockReason
from opsgraph.schema.fields import batched, history_of, many, node_id, one
from opsgraph.schema.node import Node


@strawberry.type(description="Something the business sells and keeps in stock.")
class Product(Node):
    id: strawberry.ID = node_id("Product")
    sku: str = strawberry.field(description="Stock keeping unit: A-Z, 0-9 and '-', 3-32 long.")
    name: str
    description: str
    unit_price: Decimal
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    stock_level = one("Product", "stock_level", "Current stock level.")
    movements = many("Product", "movements", "Every change of stock, oldest first by default.")
    order_lines = many("Product", "order_lines", "Order lines for this product.")
    quantity_on_hand = batched(
        computed.product_quantity_on_hand,
        int,
        "Units in stock now.",
        default=0,
        needs="stock:read",
    )
    history = history_of("Product")


@strawberry.type(description="How many units of a product are in stock.")
class StockLevel(Node):
    id: strawberry.ID = node_id("StockLevel", key="product_id")
    quantity: int
    reorder_level: int = strawberry.field(
        description="At or below this the product needs reordering (`stock.low`)."
    )
    updated_at: dt.datetime

    product = one("StockLevel", "product", "The product.", nullable=False)
    history = history_of("StockLevel")


@strawberry.type(description="One change of a product's stock, with the level after it.")
class StockMovement(Node):
    id: strawberry.ID = node_id("StockMovement")
    delta: int
    reason: StockReason
    quantity_after: int
    note: str | None
    created_at: dt.datetime

    product = one("StockMovement", "product", "The product.", nullable=False)
    order = one("StockMovement", "order", "The order, for sales and cancellations.")
    actor = one("StockMovement", "actor", "Who moved the stock, if known.")
    history = history_of("StockMovement")
