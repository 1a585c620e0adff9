"""Inputs and payloads of the order mutations: orderCreate, orderConfirm, orderComplete,
orderCancel."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from opsgraph.schema.errors import UserError, changed_field, dry_run_field, errors_field
from opsgraph.schema.order import Order


@strawberry.input(description="One product and quantity of a new order.")
class OrderLineInput:
    product_id: strawberry.ID = strawberry.field(description="An active product.")
    quantity: int = strawberry.field(
        description="1 or more; lines of one product together need that much stock."
    )
    unit_price: Decimal | None = strawberry.field(
        default=None,
        description="Two decimals at most, not negative; null: the product's unit price.",
    )


@strawberry.input(
    description="A new order, `PENDING`: its lines' stock is taken (a `SALE` movement per "
    "line) and the customer's order count goes up, all together or not at all."
)
class OrderCreateInput:
    customer_id: strawberry.ID
    property_id: strawberry.ID | None = strawberry.field(
        default=None, description="A property of that customer to deliver to, if any."
    )
    lines: list[OrderLineInput] = strawberry.field(description="1-200 lines.")
    tax: Decimal = strawberry.field(
        default=Decimal("0"),
        description="Two decimals at most, not negative; total = sum of the lines + tax.",
    )
    external_id: str | None = strawberry.field(
        default=None, description="Id in the partner system, unique, 1-64 characters."
    )
    dry_run: bool = dry_run_field()


@strawberry.type(description="The result of `orderCreate`.")
class OrderCreatePayload:
    order: Order | None = changed_field("The order placed (or, in a dry run, that would be).")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A pending order: it becomes `CONFIRMED` (see `Order.availableTransitions`)."
)
class OrderConfirmInput:
    id: strawberry.ID


@strawberry.type(description="The result of `orderConfirm`.")
class OrderConfirmPayload:
    order: Order | None = changed_field("The order, confirmed.")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A confirmed order: it becomes `COMPLETED` (see `Order.availableTransitions`)."
)
class OrderCompleteInput:
    id: strawberry.ID


@strawberry.type(description="The result of `orderComplete`.")
class OrderCompletePayload:
    order: Order | None = changed_field("The order, completed.")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A pending or confirmed order: it becomes `CANCELLED`, its stock is restored "
    "(a `CANCELLATION` movement per line) and the customer's order count goes down (see "
    "`Order.availableTransitions`)."
)
class OrderCancelInput:
    id: strawberry.ID


@strawberry.type(description="The result of `orderCancel`.")
class OrderCancelPayload:
    order: Order | None = changed_field("The order, cancelled.")
    errors: list[UserError] = errors_field()
