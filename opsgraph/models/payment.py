"""Payments against invoices."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt, Money, PrimaryKey, fk, non_blank, one_of


class PaymentMethod(StrEnum):
    card = "card"
    bank_transfer = "bank_transfer"
    cash = "cash"
    other = "other"


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (
        one_of("method", PaymentMethod),
        CheckConstraint("amount > 0", name="amount_positive"),
        non_blank("reference"),
        UniqueConstraint("invoice_id", "reference", name="uq_payment_invoice_reference"),
    )

    id: Mapped[PrimaryKey]
    invoice_id: Mapped[int] = fk("invoice.id")
    amount: Mapped[Money]
    paid_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[int | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    created_at: Mapped[CreatedAt]
