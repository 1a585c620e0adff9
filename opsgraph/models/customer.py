"""Customers and the properties (sites, addresses) they own."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opsgraph.models.base import (
    EMAIL_PATTERN,
    Base,
    CreatedAt,
    PrimaryKey,
    UpdatedAt,
    fk,
    non_blank,
)


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (
        non_blank("name"),
        CheckConstraint(f"email ~ '{EMAIL_PATTERN}'", name="email_format"),
        CheckConstraint("order_count >= 0", name="order_count_non_negative"),
        Index("ix_customer_lower_name", text("lower(name)")),
        Index("ix_customer_lower_email", text("lower(email)")),
    )

    id: Mapped[PrimaryKey]
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    org_no: Mapped[str | None] = mapped_column(String(32), index=True)
    order_count: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    properties: Mapped[list[Property]] = relationship(back_populates="customer", lazy="raise")


class Property(Base):
    __tablename__ = "property"
    __table_args__ = (
        non_blank("label"),
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_iso2"),
    )

    id: Mapped[PrimaryKey]
    customer_id: Mapped[int] = fk("customer.id", ondelete="CASCADE")
    label: Mapped[str] = mapped_column(String(200))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100), index=True)
    country: Mapped[str] = mapped_column(String(2), server_default="SE")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    customer: Mapped[Customer] = relationship(back_populates="properties", lazy="raise")
