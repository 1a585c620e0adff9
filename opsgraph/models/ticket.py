"""Support tickets and the time logged on them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt, PrimaryKey, UpdatedAt, fk, non_blank, one_of


class TicketStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


class TicketPriority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        one_of("status", TicketStatus),
        one_of("priority", TicketPriority),
        non_blank("subject"),
        # resolved_at is set exactly while the ticket is resolved or closed
        CheckConstraint(
            "(status IN ('resolved', 'closed')) = (resolved_at IS NOT NULL)",
            name="resolved_at_matches_status",
        ),
        CheckConstraint("resolved_at >= created_at", name="resolved_after_created"),
        Index("ix_ticket_lower_subject", text("lower(subject)")),
    )

    id: Mapped[PrimaryKey]
    customer_id: Mapped[int] = fk("customer.id")
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(
        String(20), server_default=TicketStatus.open.value, index=True
    )
    priority: Mapped[str] = mapped_column(
        String(20), server_default=TicketPriority.medium.value, index=True
    )
    assignee_id: Mapped[int | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_by: Mapped[int | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class TimeEntry(Base):
    __tablename__ = "time_entry"
    __table_args__ = (
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint("minutes <= 1440", name="minutes_at_most_a_day"),
    )

    id: Mapped[PrimaryKey]
    ticket_id: Mapped[int] = fk("ticket.id", ondelete="CASCADE")
    user_id: Mapped[int] = fk("user.id")
    minutes: Mapped[int]
    billable: Mapped[bool] = mapped_column(server_default="true")
    note: Mapped[str] = mapped_column(Text, server_default="")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[CreatedAt]
