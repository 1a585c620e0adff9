"""Orders and their lines."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opsgraph.models.base import Base, CreatedAt, Money, PrimaryKey, UpdatedAt, fk, one_of


class OrderStatus(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    completed = "completed"
    cancelled = "cancelled"


class Order(Base):
    __tablename__ = "order"
    __table_args__ = (
        one_of("status", OrderStatus),
        CheckConstraint("subtotal >= 0 AND tax >= 0", name="amounts_non_negative"),
        CheckConstraint("total = subtotal + tax", name="total_is_sum"),
        # lets an invoice reference (order, customer) together, so both agree
        UniqueConstraint("id", "customer_id", name="uq_order_id_customer"),
        Index("ix_order_customer_id_placed_at", "customer_id", "placed_at", "id"),
    )

    id: Mapped[PrimaryKey]
    customer_id: Mapped[int] = fk("customer.id")
    property_id: Mapped[int | None] = fk("property.id", nullable=True)
    status: Mapped[str] = mapped_column(
        String(20), server_default=OrderStatus.pending.value, index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    subtotal: Mapped[Money] = mapped_column(server_default="0")
    tax: Mapped[Money] = mapped_column(server_default="0")
    total: Mapped[Money] = mapped_column(server_default="0")
    placed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", lazy="raise")


class OrderLine(Base):
    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
        CheckConstraint("line_total = quantity * unit_price", name="line_total_is_product"),
    )

    id: Mapped[PrimaryKey]
    order_id: Mapped[int] = fk("order.id", ondelete="CASCADE")
    product_id: Mapped[int] = fk("product.id")
    quantity: Mapped[int]
    unit_price: Mapped[Money]
    line_total: Mapped[Money]
    created_at: Mapped[CreatedAt]

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")
