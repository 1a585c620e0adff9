"""GraphQL types for orders and their lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry

from opsgraph.schema.enums import OrderStatus
from opsgraph.schema.fields import from_row, history_of, many, node_id, one
from opsgraph.schema.node import Node
from opsgraph.services.transitions import ORDER


def _order_transitions(row: Any) -> list[str]:
    return ORDER.available(row.status)


@strawberry.type(description="An order placed by a customer.")
class Order(Node):
    id: strawberry.ID = node_id("Order")
    status: OrderStatus
    external_id: str | None = strawberry.field(description="Id in the partner system, if any.")
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    placed_at: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime

    customer = one("Order", "customer", "Who placed the order.", nullable=False)
    property = one("Order", "property", "Where the order is delivered, if given.")
    lines = many("Order", "lines", "The order's lines.")
    invoices = many("Order", "invoices", "Invoices made from this order.")
    history = history_of("Order")
    available_transitions = from_row(
        _order_transitions,
        list[OrderStatus],
        "The statuses the order can move to now (orderConfirm, orderComplete, orderCancel), "
        "from the same table that enforces them.",
    )


@strawberry.type(description="One product and quantity on an order.")
class OrderLine(Node):
    id: strawberry.ID = node_id("OrderLine")
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    created_at: dt.datetime

    order = one("OrderLine", "order", "The order the line is on.", nullable=False)
    product = one("OrderLine", "product", "The product ordered.", nullable=False)
    history = history_of("OrderLine")
