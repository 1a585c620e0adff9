"""Users, roles, permissions and API keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import (
    EMAIL_PATTERN,
    Base,
    CreatedAt,
    PrimaryKey,
    UpdatedAt,
    fk,
)

PERMISSION_PATTERN = r"^[a-z_]+:[a-z_]+$"


class User(Base):
    __tablename__ = "user"
    __table_args__ = (
        # stored folded, so uniqueness is case-insensitive with a plain unique index
        CheckConstraint("username = lower(username)", name="username_lower"),
        CheckConstraint(r"username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'", name="username_format"),
        CheckConstraint("email = lower(email)", name="email_lower"),
        CheckConstraint(f"email ~ '{EMAIL_PATTERN}'", name="email_format"),
    )

    id: Mapped[PrimaryKey]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), server_default="")
    password_hash: Mapped[str] = mapped_column(String(128))
    is_active: Mapped[bool] = mapped_column(server_default="true")
    customer_id: Mapped[int | None] = fk("customer.id", ondelete="SET NULL", nullable=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Role(Base):
    __tablename__ = "role"
    __table_args__ = (CheckConstraint(r"name ~ '^[a-z][a-z0-9_-]{1,63}$'", name="name_format"),)

    id: Mapped[PrimaryKey]
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class RolePermission(Base):
    __tablename__ = "role_permission"
    __table_args__ = (
        CheckConstraint(f"permission ~ '{PERMISSION_PATTERN}'", name="permission_format"),
    )

    role_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("role.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    created_at: Mapped[CreatedAt]


class ApiKey(Base):
    __tablename__ = "api_key"
    __table_args__ = (
        CheckConstraint(r"prefix ~ '^[A-Za-z0-9_]{6,16}$'", name="prefix_format"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
    )

    id: Mapped[PrimaryKey]
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    created_by: Mapped[int] = fk("user.id", ondelete="CASCADE")
    # who the key speaks for, to inbound webhooks: a regional office (a customer) or a
    # manufacturer (a brand name)
    customer_id: Mapped[int | None] = fk("customer.id", ondelete="CASCADE", nullable=True)
    manufacturer: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]
