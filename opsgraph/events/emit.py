"""``emit``: one event, written in the caller's transaction, with a delivery (and its first
job) for every active webhook endpoint that wants it.

Services call it next to ``audit.record``; a rolled-back transaction (an error, a dry run)
takes its events, deliveries and jobs with it. With no endpoint subscribed it costs one
``INSERT``; otherwise one more statement for the jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asgi_correlation_id import correlation_id
from sqlalchemy import and_, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.events.catalogue import CATALOGUE
from opsgraph.events.queue import defer
from opsgraph.graph.ids import to_global_id
from opsgraph.models import Event, WebhookDelivery, WebhookEndpoint
from opsgraph.services.audit import jsonable

DELIVER_TASK = "webhooks.deliver"
DELIVERY_QUEUE = "webhooks"


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
    event = (
        insert(Event)
        .values(
            type=type_,
            entity_type=entity_type,
            entity_id=entity_id,
            customer_id=customer_id,
            data=jsonable(dict(data)),
            actor_user_id=actor.user_id if actor else None,
            actor_api_key_id=actor.api_key_id if actor else None,
            request_id=correlation_id.get(),
        )
        .returning(Event.id)
        .cte("new_event")
    )
    wanted = and_(
        WebhookEndpoint.active,
        or_(
            func.cardinality(WebhookEndpoint.event_types) == 0,
            literal(type_) == func.any(WebhookEndpoint.event_types),
        ),
        or_(WebhookEndpoint.customer_id.is_(None), WebhookEndpoint.customer_id == customer_id),
    )
    deliveries = (
        insert(WebhookDelivery)
        .from_select(
            ["event_id", "endpoint_id"],
            select(event.c.id, WebhookEndpoint.id).select_from(event).join(WebhookEndpoint, wanted),
        )
        .returning(WebhookDelivery.id)
    )
    created = (await session.execute(deliveries)).scalars().all()
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
