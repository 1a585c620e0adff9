"""Invoices."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt, Money, PrimaryKey, UpdatedAt, fk, one_of


class InvoiceStatus(StrEnum):
    draft = "draft"
    sent = "sent"
    paid = "paid"
    void = "void"


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        one_of("status", InvoiceStatus),
        CheckConstraint("period_start <= period_end", name="period_ordered"),
        CheckConstraint("due_date >= issued_date", name="due_after_issue"),
        CheckConstraint("subtotal >= 0 AND tax >= 0", name="amounts_non_negative"),
        CheckConstraint("total = subtotal + tax", name="total_is_sum"),
        CheckConstraint("length(btrim(number)) > 0", name="number_not_blank"),
        # an invoice for an order belongs to that order's customer
        ForeignKeyConstraint(
            ["order_id", "customer_id"],
            ["order.id", "order.customer_id"],
            name="fk_invoice_order_customer",
        ),
        # one live invoice per order (a voided one may be replaced)
        Index(
            "uq_invoice_order_id_live",
            "order_id",
            unique=True,
            postgresql_where=text("order_id IS NOT NULL AND status <> 'void'"),
        ),
        Index("ix_invoice_customer_id_issued_date", "customer_id", "issued_date", "id"),
    )

    id: Mapped[PrimaryKey]
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = fk("customer.id")
    order_id: Mapped[int | None] = fk("order.id", nullable=True)
    property_id: Mapped[int | None] = fk("property.id", nullable=True)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    issued_date: Mapped[dt.date] = mapped_column(index=True)
    due_date: Mapped[dt.date] = mapped_column(index=True)
    subtotal: Mapped[Money]
    tax: Mapped[Money]
    total: Mapped[Money]
    status: Mapped[str] = mapped_column(
        String(20), server_default=InvoiceStatus.draft.value, index=True
    )
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class InvoiceNumberCounter(Base):
    """The last invoice number given out per year. Taking the next one locks the year's
    row until the transaction ends, and a rollback gives the number back: numbers are
    unique and without gaps, however many invoices are made at once."""

    __tablename__ = "invoice_number_counter"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_non_negative"),)

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(server_default="0")
