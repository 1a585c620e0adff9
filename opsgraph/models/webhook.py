"""Webhooks: outbound endpoints and their deliveries, inbound receipts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt, PrimaryKey, UpdatedAt, fk, one_of


class WebhookEndpoint(Base):
    """A receiver of signed deliveries: the URL, which event types (none listed: all), the
    signing secret and, during a rotation, the previous one until it expires."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (CheckConstraint("length(btrim(url)) > 0", name="url_not_blank"),)

    id: Mapped[PrimaryKey]
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(Text, server_default="")
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    active: Mapped[bool] = mapped_column(server_default="true", index=True)
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128))
    previous_secret_expires_at: Mapped[dt.datetime | None]
    # why it was turned off by the server (410 Gone), if it was
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # the customer whose events it receives (an endpoint of a regional office); None: all
    customer_id: Mapped[int | None] = fk("customer.id", ondelete="CASCADE", nullable=True)
    created_by: Mapped[int | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class DeliveryStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"  # a failed attempt; another is scheduled
    dead = "dead"  # the last attempt failed, or the endpoint is gone


class WebhookDelivery(Base):
    """One event on its way to one endpoint: every attempt is a job on the queue."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        one_of("status", DeliveryStatus),
        Index("ix_webhook_delivery_endpoint_id_status", "endpoint_id", "status"),
    )

    id: Mapped[PrimaryKey]
    event_id: Mapped[int] = fk("event.id", ondelete="CASCADE")
    endpoint_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), server_default=DeliveryStatus.pending.value)
    attempts: Mapped[int] = mapped_column(server_default="0")
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(server_default=text("now()"))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class ReceiptStatus(StrEnum):
    received = "received"  # stored; processing is queued
    processed = "processed"
    failed = "failed"  # processing refused it (the error says why)


class WebhookReceipt(Base):
    """An inbound webhook, stored before it is answered and processed from the queue."""

    __tablename__ = "webhook_receipt"
    __table_args__ = (
        one_of("status", ReceiptStatus),
        one_of("source", ("sales", "manufacturer")),
        # the idempotency key: the sender's webhook-id, or what identifies the message
        Index("uq_webhook_receipt_source_dedup_key", "source", "dedup_key", unique=True),
    )

    id: Mapped[PrimaryKey]
    source: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(300))
    # a hash of the body: the same key with another body is a conflict
    body_sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]]
    customer_id: Mapped[int | None] = fk("customer.id", ondelete="SET NULL", nullable=True)
    api_key_id: Mapped[int | None] = fk("api_key.id", ondelete="SET NULL", nullable=True)
    status: Mapped[str] = mapped_column(String(16), server_default=ReceiptStatus.received.value)
    error: Mapped[str | None] = mapped_column(Text)
    purchase_order_id: Mapped[int | None] = fk(
        "purchase_order.id", ondelete="SET NULL", nullable=True
    )
    processed_at: Mapped[dt.datetime | None]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
