"""Sign-in state: refresh tokens (stored hashed, rotated per family) and login attempts."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, Index, String, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt, PrimaryKey, fk


class RefreshToken(Base):
    """One refresh token. A login starts a family; each refresh spends the token
    (``used_at``) and issues the next of the same family. A spent token presented again
    means it was stolen: the whole family is revoked."""

    __tablename__ = "refresh_token"

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = fk("user.id", ondelete="CASCADE")
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256, hex
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]


class LoginAttempt(Base):
    """A login attempt, for throttling: failures per username and per client address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_client_at", "client_address", "at"),
    )

    id: Mapped[PrimaryKey]
    username: Mapped[str] = mapped_column(String(320))
    client_address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
