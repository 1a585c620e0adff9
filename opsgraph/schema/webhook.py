"""GraphQL types of outbound webhooks: the WebhookEndpoint and WebhookDelivery types, and
the inputs and payloads of the endpoint and delivery mutations.

An endpoint's signing secret is in the payloads of ``webhookEndpointCreate`` and
``webhookEndpointRotateSecret`` only; the type shows no more than its last characters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from opsgraph.graph.ids import to_global_id
from opsgraph.schema.enums import EventType, WebhookDeliveryStatus
from opsgraph.schema.errors import UserError, changed_field, errors_field
from opsgraph.schema.fields import from_row, node_id
from opsgraph.schema.pagination import Connection, Edge, PageInfo
from opsgraph.schema.resolve import Info
from opsgraph.webhooks.signing import SECRET_PREFIX

if TYPE_CHECKING:
    from opsgraph.models import WebhookEndpoint as WebhookEndpointModel
    from opsgraph.schema.customer import Customer

CustomerType = Annotated["Customer", strawberry.lazy("opsgraph.schema.customer")]
KEEP = "Left out: kept as it is."
SHOWN_ONCE = (
    "The signing secret (`whsec_...`), shown this once: receivers verify the "
    "`webhook-signature` header with it (Standard Webhooks)."
)


def secret_preview(secret: str) -> str:
    """Enough of a secret to tell which one a receiver holds: its last 4 characters."""
    return f"{SECRET_PREFIX}...{secret.rstrip('=')[-4:]}"


@strawberry.type(
    description="A receiver of signed event deliveries. Its secret is never shown again "
    "after `webhookEndpointCreate` and `webhookEndpointRotateSecret`."
)
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    event_types: list[EventType] = strawberry.field(
        description="The event types it receives; empty: every type."
    )
    active: bool = strawberry.field(description="Whether events are delivered to it.")
    disabled_reason: str | None = strawberry.field(
        description="Why the server turned it off (the receiver answered 410 Gone), if it did."
    )
    secret_preview: str = strawberry.field(
        description="The current secret's last characters, to tell it apart."
    )
    rotating: bool = strawberry.field(
        description="Whether deliveries are still signed with the previous secret as well."
    )
    previous_secret_expires_at: dt.datetime | None = strawberry.field(
        description="While `rotating`: when the previous secret stops signing deliveries."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    customer_pk: strawberry.Private[int | None]

    @strawberry.field(
        description="The customer whose events alone it receives; null: every customer's."
    )
    async def customer(self, info: Info) -> CustomerType | None:
        if self.customer_pk is None:
            return None
        row: Any = await info.context.loaders.by_key("Customer").load(self.customer_pk)
        return cast("Customer | None", row)  # rows stand in for the type (schema/resolve.py)

    @classmethod
    def of(cls, endpoint: WebhookEndpointModel, now: dt.datetime | None = None) -> WebhookEndpoint:
        moment = now or dt.datetime.now(dt.UTC)
        expires = endpoint.previous_secret_expires_at
        rotating = endpoint.previous_secret is not None and expires is not None and moment < expires
        return cls(
            id=strawberry.ID(to_global_id("WebhookEndpoint", endpoint.id)),
            url=endpoint.url,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            active=endpoint.active,
            disabled_reason=endpoint.disabled_reason,
            secret_preview=secret_preview(endpoint.secret),
            rotating=rotating,
            previous_secret_expires_at=expires if rotating else None,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
            customer_pk=endpoint.customer_id,
        )


@strawberry.type(description="The event a delivery carries, as its receiver sees it.")
class DeliveredEvent:
    id: str = strawberry.field(description="The public event id (`evt_...`), the `webhook-id`.")
    type: EventType
    occurred_at: dt.datetime
    object_id: strawberry.ID = strawberry.field(
        description="The global id of the object the event is about."
    )


def _event(row: Any) -> DeliveredEvent:
    return DeliveredEvent(
        id=f"evt_{row.event_uid.hex}",
        type=row.event_type,
        occurred_at=row.event_occurred_at,
        object_id=strawberry.ID(to_global_id(row.event_entity_type, row.event_entity_id)),
    )


def _endpoint_id(row: Any) -> strawberry.ID:
    return strawberry.ID(to_global_id("WebhookEndpoint", row.endpoint_id))


@strawberry.type(description="One event on its way to one endpoint, with its attempts so far.")
class WebhookDelivery:
    id: strawberry.ID = node_id("WebhookDelivery")
    status: WebhookDeliveryStatus
    attempts: int = strawberry.field(description="Attempts made so far.")
    last_status_code: int | None = strawberry.field(
        description="The HTTP status of the last attempt's answer, if there was one."
    )
    last_error: str | None = strawberry.field(description="What went wrong the last time.")
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime | None = strawberry.field(
        description="When the next attempt is due (pending or failed deliveries)."
    )
    created_at: dt.datetime
    event = from_row(_event, DeliveredEvent, "The event delivered.")
    endpoint_id = from_row(_endpoint_id, strawberry.ID, "The endpoint it is sent to.")


DELIVERY_CURSOR = "id"  # the delivery log is newest first: cursors hold the id


def delivery_connection(
    rows: Sequence[Any], has_next: bool, *, after: str | None, count: Callable[[], Awaitable[int]]
) -> Connection[WebhookDelivery]:
    """A page of the delivery log (rows of ``services.webhook.list_webhook_deliveries``)."""
    return Connection(
        edges=[Edge(node=row, sort_column=DELIVERY_CURSOR) for row in rows],
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            first=rows[0] if rows else None,
            last=rows[-1] if rows else None,
            sort_column=DELIVERY_CURSOR,
        ),
        count=count,
    )


# --- inputs and payloads -------------------------------------------------------------------


@strawberry.input(description="A new webhook endpoint.")
class WebhookEndpointCreateInput:
    url: str = strawberry.field(
        description="https://, at most 2048 characters, of a public address (UNSAFE_URL)."
    )
    event_types: list[EventType] = strawberry.field(
        default_factory=list, description="The event types to receive; empty: every type."
    )
    description: str = strawberry.field(default="", description="At most 500 characters.")
    active: bool = True
    customer_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Receive only this customer's events (a regional office's endpoint); "
        "null: every customer's.",
    )


@strawberry.input(description="Changes to a webhook endpoint; a field left out is kept.")
class WebhookEndpointUpdateInput:
    id: strawberry.ID
    url: strawberry.Maybe[str | None] = strawberry.field(description=KEEP)
    event_types: strawberry.Maybe[list[EventType] | None] = strawberry.field(
        description=f"The whole new list; empty: every type. {KEEP}"
    )
    description: strawberry.Maybe[str | None] = strawberry.field(description=KEEP)
    active: strawberry.Maybe[bool | None] = strawberry.field(
        description=f"true turns it on again and clears `disabledReason`. {KEEP}",
    )
    customer_id: strawberry.Maybe[strawberry.ID | None] = strawberry.field(
        description=f"Null: every customer's events. {KEEP}"
    )


@strawberry.input(description="The webhook endpoint to delete, with its deliveries.")
class WebhookEndpointDeleteInput:
    id: strawberry.ID


@strawberry.input(description="The webhook endpoint whose secret to replace.")
class WebhookEndpointRotateSecretInput:
    id: strawberry.ID
    keep_previous: bool = strawberry.field(
        default=True,
        description="Sign deliveries with the previous secret too for the overlap "
        "(OPSGRAPH_WEBHOOKS_SECRET_OVERLAP_HOURS, 24 by default), so receivers can switch; "
        "false: it stops at once (a leaked secret).",
    )


@strawberry.input(description="The webhook delivery to send again.")
class WebhookDeliveryRetryInput:
    id: strawberry.ID


@strawberry.type(description="The result of `webhookEndpointCreate`.")
class WebhookEndpointCreatePayload:
    webhook_endpoint: WebhookEndpoint | None = changed_field("The new endpoint.")
    secret: str | None = strawberry.field(default=None, description=SHOWN_ONCE)
    errors: list[UserError] = errors_field()


@strawberry.type(description="The result of `webhookEndpointUpdate`.")
class WebhookEndpointUpdatePayload:
    webhook_endpoint: WebhookEndpoint | None = changed_field("The endpoint, as changed.")
    errors: list[UserError] = errors_field()


@strawberry.type(description="The result of `webhookEndpointDelete`.")
class WebhookEndpointDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The global id the endpoint had."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The result of `webhookEndpointRotateSecret`.")
class WebhookEndpointRotateSecretPayload:
    webhook_endpoint: WebhookEndpoint | None = changed_field("The endpoint, as changed.")
    secret: str | None = strawberry.field(default=None, description=SHOWN_ONCE)
    errors: list[UserError] = errors_field()


@strawberry.type(description="The result of `webhookDeliveryRetry`.")
class WebhookDeliveryRetryPayload:
    webhook_delivery: WebhookDelivery | None = changed_field("The delivery, queued again.")
    errors: list[UserError] = errors_field()
