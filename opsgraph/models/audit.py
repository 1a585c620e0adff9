"""The audit trail: who changed what, when, from which request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt, PrimaryKey, fk


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("length(btrim(action)) > 0", name="action_not_blank"),
        CheckConstraint("jsonb_typeof(changes) = 'object'", name="changes_is_object"),
        Index("ix_audit_event_entity", "entity_type", "entity_id", "created_at"),
    )

    id: Mapped[PrimaryKey]
    actor_user_id: Mapped[int | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    actor_api_key_id: Mapped[int | None] = fk("api_key.id", ondelete="SET NULL", nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    changes: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[CreatedAt]
