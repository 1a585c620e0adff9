"""Inputs and payloads of the product and stock mutations: productCreate, productUpdate,
productDeactivate, stockAdjust."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from opsgraph.schema.enums import StockReason
from opsgraph.schema.errors import UserError, changed_field, dry_run_field, errors_field
from opsgraph.schema.product import Product, StockMovement

SKU = (
    "3-32 characters: upper-case letters A-Z, digits and '-', starting with a letter or "
    "digit and not ending with '-'; unique."
)
PRICE = "Two decimals at most, not negative."
REORDER_LEVEL = (
    "Stock at or below this needs reordering: a movement falling to it emits `stock.low`. "
    "0 or more."
)


@strawberry.input(description="A new product, with its stock level and an `initial` movement.")
class ProductCreateInput:
    sku: str = strawberry.field(description=SKU)
    name: str = strawberry.field(description="Not blank, at most 200 characters.")
    unit_price: Decimal = strawberry.field(description=PRICE)
    description: str = ""
    initial_stock: int = strawberry.field(default=0, description="Units in stock, 0 or more.")
    reorder_level: int = strawberry.field(default=0, description=REORDER_LEVEL)


@strawberry.type(description="The result of `productCreate`.")
class ProductCreatePayload:
    product: Product | None = changed_field("The product made.")
    errors: list[UserError] = errors_field()


@strawberry.input(description="Fields of a product to change; null leaves a field as it is.")
class ProductUpdateInput:
    id: strawberry.ID
    sku: str | None = strawberry.field(default=None, description=SKU)
    name: str | None = None
    description: str | None = None
    unit_price: Decimal | None = strawberry.field(
        default=None, description=f"{PRICE} Orders already placed keep their prices."
    )
    reorder_level: int | None = strawberry.field(default=None, description=REORDER_LEVEL)


@strawberry.type(description="The result of `productUpdate`.")
class ProductUpdatePayload:
    product: Product | None = changed_field("The product, as changed.")
    errors: list[UserError] = errors_field()


@strawberry.input(description="An active product that can't be ordered any more.")
class ProductDeactivateInput:
    id: strawberry.ID


@strawberry.type(description="The result of `productDeactivate`.")
class ProductDeactivatePayload:
    product: Product | None = changed_field("The product, now inactive.")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A change of a product's stock, written as a movement. Stock never goes "
    "below zero (`INSUFFICIENT_STOCK`)."
)
class StockAdjustInput:
    product_id: strawberry.ID
    delta: int = strawberry.field(
        description="Units added (positive) or removed (negative); not 0. A receipt adds."
    )
    reason: StockReason = strawberry.field(
        description="`ADJUSTMENT` or `RECEIPT`: the other reasons are written by the system."
    )
    note: str | None = strawberry.field(default=None, description="At most 1000 characters.")
    dry_run: bool = dry_run_field()


@strawberry.type(description="The result of `stockAdjust`.")
class StockAdjustPayload:
    product: Product | None = changed_field("The product; its `stockLevel` is the new level.")
    movement: StockMovement | None = changed_field("The movement written.")
    errors: list[UserError] = errors_field()
