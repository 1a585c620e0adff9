"""Trusted documents: GraphQL documents stored by their SHA-256, for persisted queries.

A row comes from ``opsgraph documents register`` (``source`` ``cli``: trusted, runs in the
allow-list mode) or from an automatic persisted query a signed-in client sent (``apq``:
saves bandwidth in the open mode, never trusted by the allow-list).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt, one_of


class DocumentSource(StrEnum):
    cli = "cli"  # registered by an operator: trusted
    apq = "apq"  # registered automatically by a signed-in client


class TrustedDocument(Base):
    __tablename__ = "trusted_document"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        one_of("source", DocumentSource),
    )

    # lowercase hex SHA-256 of ``document`` (UTF-8), as Apollo's persisted queries send it
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    # the operation's name (None: an anonymous operation, or an automatic registration)
    name: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(8), index=True)
    # "cli", or whose request registered it: "user:<id>" / "api_key:<id>"
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[CreatedAt]
