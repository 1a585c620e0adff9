"""``emit``: one event, written in the caller's transaction, with a delivery (and its first
job) for every active webhook endpoint that wants it.

Services call it next to ``audit.record``; a rolled-back transaction (an error, a dry run)
takes its events, deliveries and jobs with it. With no endpoint subscribed it costs one
``INSERT``; otherwise one more statement for the jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from asgi_correlation_id import correlation_id
from sqlalchemy import (
    BigInteger,
    Executable,
    String,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.events.catalogue import CATALOGUE
from opsgraph.events.queue import defer
from opsgraph.graph.ids import to_global_id
from opsgraph.models import Event, WebhookDelivery, WebhookEndpoint
from opsgraph.services.audit import jsonable

DELIVER_TASK = "webhooks.deliver"
DELIVERY_QUEUE = "webhooks"


def _statement() -> Executable:
    """One statement: the event (a CTE) and a delivery per active endpoint that wants it.
    Built once, with bind parameters, on the tables (Core, not the ORM): building and
    compiling it per call cost several times what PostgreSQL spends running it."""
    event_table = cast(Table, Event.__table__)
    endpoint = cast(Table, WebhookEndpoint.__table__)
    delivery = cast(Table, WebhookDelivery.__table__)
    type_ = bindparam("p_type", type_=String)
    customer_id = bindparam("p_customer_id", type_=BigInteger)
    event = (
        insert(event_table)
        .values(
            type=type_,
            entity_type=bindparam("p_entity_type", type_=String),
            entity_id=bindparam("p_entity_id", type_=BigInteger),
            customer_id=customer_id,
            data=bindparam("p_data", type_=JSONB),
            actor_user_id=bindparam("p_actor_user_id", type_=BigInteger),
            actor_api_key_id=bindparam("p_actor_api_key_id", type_=BigInteger),
            request_id=bindparam("p_request_id", type_=String),
        )
        .returning(event_table.c.id)
        .cte("new_event")
    )
    wanted = and_(
        endpoint.c.active,
        or_(
            func.cardinality(endpoint.c.event_types) == 0,
            type_ == func.any(endpoint.c.event_types),
        ),
        or_(endpoint.c.customer_id.is_(None), endpoint.c.customer_id == customer_id),
    )
    return (
        insert(delivery)
        .from_select(
            ["event_id", "endpoint_id"],
            select(event.c.id, endpoint.c.id).select_from(event).join(endpoint, wanted),
        )
        .returning(delivery.c.id)
    )


EMIT = _statement()


async def emit(
    session: AsyncSession,
    type_: str,
    *,
    entity_type: str,
    entity_id: int,
    customer_id: int | None,
    data: Mapping[str, Any],
    actor: Principal | None,
) -> None:
    """Record the event ``type_`` about ``entity_type`` ``entity_id`` (a GraphQL type name
    and primary key), whose data belongs to ``customer_id`` (None: to no customer).
    ``data``: what a receiver needs without calling back, made JSON-safe here."""
    if type_ not in CATALOGUE:
        raise ValueError(f"unknown event type {type_!r}")
    params = {
        "p_type": type_,
        "p_entity_type": entity_type,
        "p_entity_id": entity_id,
        "p_customer_id": customer_id,
        "p_data": jsonable(dict(data)),
        "p_actor_user_id": actor.user_id if actor else None,
        "p_actor_api_key_id": actor.api_key_id if actor else None,
        "p_request_id": correlation_id.get(),
    }
    created = (await session.execute(EMIT, params)).scalars().all()
    await defer(
        session,
        DELIVER_TASK,
        [{"delivery_id": delivery_id, "attempt": 1} for delivery_id in created],
        queue=DELIVERY_QUEUE,
    )


def public_id(event: Event) -> str:
    """The id receivers see (and the ``webhook-id`` of its deliveries)."""
    return f"evt_{event.uid.hex}"


def envelope(event: Event) -> dict[str, Any]:
    """The event as receivers and the feed see it."""
    return {
        "id": public_id(event),
        "type": event.type,
        "occurredAt": jsonable(event.occurred_at),
        "objectId": to_global_id(event.entity_type, event.entity_id),
        "data": event.data,
    }
