"""Purchase orders that partner systems (regional offices, ERPs) send in."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt, Money, PrimaryKey, UpdatedAt, fk, one_of


class PurchaseOrderState(StrEnum):
    """Forward only: received -> approved -> in_progress -> completed; or cancelled while open."""

    received = "received"
    approved = "approved"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


class PurchaseOrder(Base):
    __tablename__ = "purchase_order"
    __table_args__ = (
        one_of("state", PurchaseOrderState),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("state_version >= 1", name="state_version_positive"),
        CheckConstraint("length(btrim(external_id)) > 0", name="external_id_not_blank"),
    )

    id: Mapped[PrimaryKey]
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = fk("customer.id")
    source: Mapped[str] = mapped_column(String(100), server_default="", index=True)
    state: Mapped[str] = mapped_column(
        String(20), server_default=PurchaseOrderState.received.value, index=True
    )
    description: Mapped[str] = mapped_column(Text, server_default="")
    # what a regional office's sales webhook reports: the model sold and its brand
    brand: Mapped[str | None] = mapped_column(String(64), index=True)
    car_model: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[Money] = mapped_column(server_default="0")
    state_version: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
