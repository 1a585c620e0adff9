"""Idempotency keys: a mutation request's ``Idempotency-Key`` and the response it got.

The row is inserted in the request's own transaction and committed with the request's
changes and its response, so a key is either unused or done, never half: a repeat waits
on the unique key while the first runs (``opsgraph.rest.idempotency``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, CreatedAt


class IdempotencyKey(Base):
    __tablename__ = "idempotency_key"
    __table_args__ = (PrimaryKeyConstraint("scope", "key", name="pk_idempotency_key"),)

    # whose key: "user:<id>" or "api_key:<id>" (keys of different callers never meet)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the operation (query, operationName, variables) the key was first used for
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]]
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[CreatedAt]
