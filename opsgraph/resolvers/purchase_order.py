"""Root mutation fields of purchase orders (purchaseOrderUpsert, purchaseOrderChangeState).

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.ids import parse_global_id
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.resolve import Info
from opsgraph.schema.ticket_mutations import (
    PurchaseOrderChangeStateInput,
    PurchaseOrderChangeStatePayload,
    PurchaseOrderUpsertInput,
    PurchaseOrderUpsertPayload,
)
from opsgraph.services import purchase_order as service


@strawberry.type
class PurchaseOrderMutation:
    @strawberry.mutation(
        description="Create or update a purchase order by its external id "
        "(`purchase_order:write`).",
        metadata=requires("purchase_order:write"),
    )
    async def purchase_order_upsert(
        self, info: Info, input: PurchaseOrderUpsertInput
    ) -> PurchaseOrderUpsertPayload:
        return await mutate(
            info,
            PurchaseOrderUpsertPayload,
            lambda session, actor: service.upsert_purchase_order(
                session,
                external_id=input.external_id,
                customer_external_id=input.customer_external_id,
                amount=input.amount,
                source=input.source,
                description=input.description,
                brand=input.brand,
                car_model=input.car_model,
                actor=actor,
            ),
            lambda done: {
                "purchase_order": Ref("PurchaseOrder", done.purchase_order.id),
                "created": done.created,
            },
        )

    @strawberry.mutation(
        description="Move a purchase order forward, from the version you read "
        "(`purchase_order:write`).",
        metadata=requires("purchase_order:write"),
    )
    async def purchase_order_change_state(
        self, info: Info, input: PurchaseOrderChangeStateInput
    ) -> PurchaseOrderChangeStatePayload:
        return await mutate(
            info,
            PurchaseOrderChangeStatePayload,
            lambda session, actor: service.change_purchase_order_state(
                session,
                purchase_order_id=None
                if input.id is None
                else parse_global_id(input.id, "PurchaseOrder"),
                external_id=input.external_id,
                state=str(input.state.value),
                expected_version=input.expected_version,
                actor=actor,
            ),
            lambda order: {"purchase_order": Ref("PurchaseOrder", order.id)},
        )
