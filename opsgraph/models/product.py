"""Products, their stock level and every movement of stock."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import (
    Base,
    CreatedAt,
    Money,
    PrimaryKey,
    UpdatedAt,
    fk,
    non_blank,
    one_of,
)

# SKU format: 3-32 characters, upper-case letters, digits and hyphens, starting with a
# letter or digit and not ending with a hyphen (e.g. "SNOW-SHOVEL-01").
SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,30}[A-Z0-9]$"


class StockReason(StrEnum):
    initial = "initial"
    sale = "sale"
    cancellation = "cancellation"
    adjustment = "adjustment"
    receipt = "receipt"


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint(f"sku ~ '{SKU_PATTERN}'", name="sku_format"),
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
        non_blank("name"),
        Index("ix_product_lower_name", text("lower(name)")),
    )

    id: Mapped[PrimaryKey]
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    unit_price: Mapped[Money]
    active: Mapped[bool] = mapped_column(server_default="true", index=True)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class StockLevel(Base):
    __tablename__ = "stock_level"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        CheckConstraint("reorder_level >= 0", name="reorder_level_non_negative"),
    )

    product_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(server_default="0")
    # at or below this, the product needs reordering: stock falling to it is ``stock.low``
    reorder_level: Mapped[int] = mapped_column(server_default="0")
    updated_at: Mapped[UpdatedAt]


class StockMovement(Base):
    __tablename__ = "stock_movement"
    __table_args__ = (
        one_of("reason", StockReason),
        CheckConstraint("quantity_after >= 0", name="quantity_after_non_negative"),
        CheckConstraint("delta <> 0 OR reason = 'initial'", name="delta_non_zero"),
        CheckConstraint(
            "order_id IS NOT NULL OR reason NOT IN ('sale', 'cancellation')",
            name="order_for_sale",
        ),
    )

    id: Mapped[PrimaryKey]
    product_id: Mapped[int] = fk("product.id", ondelete="CASCADE")
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(String(20))
    quantity_after: Mapped[int]
    order_id: Mapped[int | None] = fk("order.id", nullable=True)
    actor_id: Mapped[int | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
