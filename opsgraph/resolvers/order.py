"""Root mutation fields of orders (orderCreate, orderConfirm, orderComplete, orderCancel).

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.ids import parse_global_id
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.order_mutations import (
    OrderCancelInput,
    OrderCancelPayload,
    OrderCompleteInput,
    OrderCompletePayload,
    OrderConfirmInput,
    OrderConfirmPayload,
    OrderCreateInput,
    OrderCreatePayload,
    OrderLineInput,
)
from opsgraph.schema.resolve import Info
from opsgraph.services import order as service
from opsgraph.services.order import LineInput


def _lines(lines: list[OrderLineInput]) -> list[LineInput]:
    """The lines with their product ids decoded; a bad id names its line."""
    return [
        LineInput(
            parse_global_id(line.product_id, "Product", field=["lines", str(i), "productId"]),
            line.quantity,
            line.unit_price,
        )
        for i, line in enumerate(lines)
    ]


@strawberry.type
class OrderMutation:
    @strawberry.mutation(
        description="Place an order (`order:write`): the customer and every product exist "
        "and are active, the property is the customer's, stock suffices for every line; "
        "the stock is taken and the order is `PENDING`.",
        metadata=requires("order:write"),
    )
    async def order_create(self, info: Info, input: OrderCreateInput) -> OrderCreatePayload:
        return await mutate(
            info,
            OrderCreatePayload,
            lambda session, actor: service.create_order(
                session,
                customer_id=parse_global_id(input.customer_id, "Customer", field="customerId"),
                property_id=None
                if input.property_id is None
                else parse_global_id(input.property_id, "Property", field="propertyId"),
                lines=_lines(input.lines),
                tax=input.tax,
                external_id=input.external_id,
                actor=actor,
            ),
            lambda order: {"order": Ref("Order", order.id)},
            dry_run=input.dry_run,
        )

    @strawberry.mutation(
        description="Confirm a pending order (`order:write`).",
        metadata=requires("order:write"),
    )
    async def order_confirm(self, info: Info, input: OrderConfirmInput) -> OrderConfirmPayload:
        return await mutate(
            info,
            OrderConfirmPayload,
            lambda session, actor: service.confirm_order(
                session, order_id=parse_global_id(input.id, "Order"), actor=actor
            ),
            lambda order: {"order": Ref("Order", order.id)},
        )

    @strawberry.mutation(
        description="Complete a confirmed order (`order:write`).",
        metadata=requires("order:write"),
    )
    async def order_complete(self, info: Info, input: OrderCompleteInput) -> OrderCompletePayload:
        return await mutate(
            info,
            OrderCompletePayload,
            lambda session, actor: service.complete_order(
                session, order_id=parse_global_id(input.id, "Order"), actor=actor
            ),
            lambda order: {"order": Ref("Order", order.id)},
        )

    @strawberry.mutation(
        description="Cancel a pending or confirmed order (`order:write`): its stock is "
        "restored and the customer's order count goes down.",
        metadata=requires("order:write"),
    )
    async def order_cancel(self, info: Info, input: OrderCancelInput) -> OrderCancelPayload:
        return await mutate(
            info,
            OrderCancelPayload,
            lambda session, actor: service.cancel_order(
                session, order_id=parse_global_id(input.id, "Order"), actor=actor
            ),
            lambda order: {"order": Ref("Order", order.id)},
        )
