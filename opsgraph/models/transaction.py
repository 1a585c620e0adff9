"""Financial transactions: the bookkeeping side of payments and expenses."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt, Money, PrimaryKey, fk, one_of


class TransactionKind(StrEnum):
    income = "income"
    expense = "expense"
    transfer = "transfer"


class FinancialTransaction(Base):
    __tablename__ = "financial_transaction"
    __table_args__ = (
        one_of("kind", TransactionKind),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("payment_id IS NULL OR kind = 'income'", name="payment_is_income"),
    )

    id: Mapped[PrimaryKey]
    kind: Mapped[str] = mapped_column(String(20), index=True)
    amount: Mapped[Money]
    occurred_on: Mapped[dt.date] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(Text, server_default="")
    created_by: Mapped[int | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    # a payment is booked once
    payment_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("payment.id"), unique=True
    )
    created_at: Mapped[CreatedAt]
