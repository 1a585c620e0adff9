"""The event stream: one row per business change an integration cares about, written in
the transaction of the change (a transactional outbox).

``txid`` is the id of the writing transaction (``pg_current_xact_id()``). The feed orders
by ``(txid, id)`` and shows only rows of transactions older than every transaction still
running (``pg_snapshot_xmin``), so a row committed later never sorts before a position a
poller has already passed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Index, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from opsgraph.models.base import Base, PrimaryKey

# the writing transaction's id as a plain bigint (xid8 has no SQLAlchemy type)
CURRENT_TXID = "(pg_current_xact_id()::text::bigint)"
# every transaction with a smaller id has ended (committed or rolled back)
VISIBLE_BEFORE = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)"


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_feed", "txid", "id"),
        Index("ix_event_customer_id_txid_id", "customer_id", "txid", "id"),
    )

    id: Mapped[PrimaryKey]
    # public id: "evt_" + hex; also the webhook-id of every delivery of the event
    uid: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), unique=True, server_default=text("gen_random_uuid()")
    )
    type: Mapped[str] = mapped_column(String(64), index=True)
    txid: Mapped[int] = mapped_column(BigInteger, server_default=text(CURRENT_TXID))
    occurred_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"), index=True)
    # the object the event is about: its GraphQL type name and primary key
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    # the customer whose data it is (row scoping of portal users); no foreign key, so an
    # event outlives what it describes
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]]
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_api_key_id: Mapped[int | None] = mapped_column(BigInteger)
    request_id: Mapped[str | None] = mapped_column(String(64))
