"""Root mutation fields of products and stock:
productCreate, productUpdate, productDeactivate, stockAdjust.

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.ids import parse_global_id
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.patch import patch
from opsgraph.schema.product_mutations import (
    ProductCreateInput,
    ProductCreatePayload,
    ProductDeactivateInput,
    ProductDeactivatePayload,
    ProductUpdateInput,
    ProductUpdatePayload,
    StockAdjustInput,
    StockAdjustPayload,
)
from opsgraph.schema.resolve import Info
from opsgraph.services import product as service
from opsgraph.services import stock


@strawberry.type
class ProductMutation:
    @strawberry.mutation(
        description="Create a product with its stock level and an `initial` stock movement "
        "(`product:write`). SKU: `INVALID_SKU`, `DUPLICATE_SKU`.",
        metadata=requires("product:write"),
    )
    async def product_create(self, info: Info, input: ProductCreateInput) -> ProductCreatePayload:
        return await mutate(
            info,
            ProductCreatePayload,
            lambda session, actor: service.create_product(
                session,
                sku=input.sku,
                name=input.name,
                description=input.description,
                unit_price=input.unit_price,
                initial_stock=input.initial_stock,
                reorder_level=input.reorder_level,
                actor=actor,
            ),
            lambda product: {"product": Ref("Product", product.id)},
        )

    @strawberry.mutation(
        description="Change a product's SKU, name, description or unit price (`product:write`).",
        metadata=requires("product:write"),
    )
    async def product_update(self, info: Info, input: ProductUpdateInput) -> ProductUpdatePayload:
        return await mutate(
            info,
            ProductUpdatePayload,
            lambda session, actor: service.update_product(
                session,
                product_id=parse_global_id(input.id, "Product"),
                sku=patch(input.sku),
                name=patch(input.name),
                description=patch(input.description),
                unit_price=patch(input.unit_price),
                reorder_level=patch(input.reorder_level),
                actor=actor,
            ),
            lambda product: {"product": Ref("Product", product.id)},
        )

    @strawberry.mutation(
        description="Deactivate a product: it can't be ordered any more (`product:write`; "
        "`INVALID_STATE` when it already is inactive).",
        metadata=requires("product:write"),
    )
    async def product_deactivate(
        self, info: Info, input: ProductDeactivateInput
    ) -> ProductDeactivatePayload:
        return await mutate(
            info,
            ProductDeactivatePayload,
            lambda session, actor: service.deactivate_product(
                session, product_id=parse_global_id(input.id, "Product"), actor=actor
            ),
            lambda product: {"product": Ref("Product", product.id)},
        )

    @strawberry.mutation(
        description="Add or remove stock of a product, written as a movement "
        "(`stock:write`). Never below zero: `INSUFFICIENT_STOCK`.",
        metadata=requires("stock:write"),
    )
    async def stock_adjust(self, info: Info, input: StockAdjustInput) -> StockAdjustPayload:
        return await mutate(
            info,
            StockAdjustPayload,
            lambda session, actor: stock.adjust_stock(
                session,
                product_id=parse_global_id(input.product_id, "Product", field="productId"),
                delta=input.delta,
                reason=input.reason.value,
                note=input.note,
                actor=actor,
            ),
            lambda done: {
                "product": Ref("Product", done.product_id),
                "movement": Ref("StockMovement", done.movement_id),
            },
            dry_run=input.dry_run,
        )
