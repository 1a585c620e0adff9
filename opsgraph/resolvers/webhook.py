"""Root fields of outbound webhooks, each needing `webhook:manage`: webhookEndpointCreate,
webhookEndpointUpdate, webhookEndpointDelete, webhookEndpointRotateSecret,
webhookDeliveryRetry, and the webhookEndpoints and webhookDeliveries lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.auth.permissions import WEBHOOK_MANAGE
from opsgraph.graph.ids import parse_global_id, to_global_id
from opsgraph.graph.pagination import decode_cursor, window
from opsgraph.resolvers.mutate import mutate
from opsgraph.schema.enums import WebhookDeliveryStatus
from opsgraph.schema.pagination import Connection
from opsgraph.schema.patch import patch
from opsgraph.schema.resolve import Info
from opsgraph.schema.webhook import (
    DELIVERY_CURSOR,
    WebhookDelivery,
    WebhookDeliveryRetryInput,
    WebhookDeliveryRetryPayload,
    WebhookEndpoint,
    WebhookEndpointCreateInput,
    WebhookEndpointCreatePayload,
    WebhookEndpointDeleteInput,
    WebhookEndpointDeletePayload,
    WebhookEndpointRotateSecretInput,
    WebhookEndpointRotateSecretPayload,
    WebhookEndpointUpdateInput,
    WebhookEndpointUpdatePayload,
    delivery_connection,
)
from opsgraph.services import webhook as service
from opsgraph.services.patch import mapped
from opsgraph.webhooks.addresses import MAX_URL


def _customer_pk(value: strawberry.ID) -> int:
    return parse_global_id(value, "Customer", field="customerId")


def _type_names(values: list[Any]) -> list[str]:
    return [str(value.value) for value in values]


def _customer(value: strawberry.ID | None) -> int | None:
    return None if value is None else _customer_pk(value)


def _types(values: list[Any] | None) -> list[str] | None:
    return None if values is None else _type_names(values)


def _endpoint_pk(value: strawberry.ID) -> int:
    return parse_global_id(value, "WebhookEndpoint")


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="Register a webhook endpoint (`webhook:manage`); the secret is in this "
        f"payload only. UNSAFE_URL: not https, over {MAX_URL} characters, or not a public "
        "address. Event types must be ones whose objects you may read.",
        metadata=requires(WEBHOOK_MANAGE),
    )
    async def webhook_endpoint_create(
        self, info: Info, input: WebhookEndpointCreateInput
    ) -> WebhookEndpointCreatePayload:
        allow_insecure = info.context.settings.webhooks_allow_insecure
        return await mutate(
            info,
            WebhookEndpointCreatePayload,
            lambda session, actor: service.create_webhook_endpoint(
                session,
                url=input.url,
                event_types=_types(input.event_types) or [],
                description=input.description,
                active=input.active,
                customer_id=_customer(input.customer_id),
                allow_insecure=allow_insecure,
                actor=actor,
            ),
            lambda done: {
                "webhook_endpoint": WebhookEndpoint.of(done.endpoint),
                "secret": done.secret,
            },
        )

    @strawberry.mutation(
        description="Change a webhook endpoint (`webhook:manage`); turning it on again "
        "clears `disabledReason`. UNSAFE_URL as for `webhookEndpointCreate`.",
        metadata=requires(WEBHOOK_MANAGE),
    )
    async def webhook_endpoint_update(
        self, info: Info, input: WebhookEndpointUpdateInput
    ) -> WebhookEndpointUpdatePayload:
        allow_insecure = info.context.settings.webhooks_allow_insecure
        return await mutate(
            info,
            WebhookEndpointUpdatePayload,
            lambda session, actor: service.update_webhook_endpoint(
                session,
                endpoint_id=_endpoint_pk(input.id),
                url=patch(input.url),
                event_types=mapped(patch(input.event_types), _type_names),
                description=patch(input.description),
                active=patch(input.active),
                customer_id=mapped(patch(input.customer_id), _customer_pk),
                allow_insecure=allow_insecure,
                actor=actor,
            ),
            lambda done: {"webhook_endpoint": WebhookEndpoint.of(done)},
        )

    @strawberry.mutation(
        description="Delete a webhook endpoint and its delivery log (`webhook:manage`); "
        "nothing more is sent to it.",
        metadata=requires(WEBHOOK_MANAGE),
    )
    async def webhook_endpoint_delete(
        self, info: Info, input: WebhookEndpointDeleteInput
    ) -> WebhookEndpointDeletePayload:
        return await mutate(
            info,
            WebhookEndpointDeletePayload,
            lambda session, actor: service.delete_webhook_endpoint(
                session, endpoint_id=_endpoint_pk(input.id), actor=actor
            ),
            lambda deleted: {"deleted_id": strawberry.ID(to_global_id("WebhookEndpoint", deleted))},
        )

    @strawberry.mutation(
        description="Give a webhook endpoint a new secret, in this payload only "
        "(`webhook:manage`). The previous one keeps signing deliveries (a second "
        "signature) for the overlap, unless `keepPrevious` is false.",
        metadata=requires(WEBHOOK_MANAGE),
    )
    async def webhook_endpoint_rotate_secret(
        self, info: Info, input: WebhookEndpointRotateSecretInput
    ) -> WebhookEndpointRotateSecretPayload:
        hours = info.context.settings.webhooks_secret_overlap_hours
        return await mutate(
            info,
            WebhookEndpointRotateSecretPayload,
            lambda session, actor: service.rotate_webhook_endpoint_secret(
                session,
                endpoint_id=_endpoint_pk(input.id),
                keep_previous=input.keep_previous,
                overlap=dt.timedelta(hours=hours),
                actor=actor,
            ),
            lambda done: {
                "webhook_endpoint": WebhookEndpoint.of(done.endpoint),
                "secret": done.secret,
            },
        )

    @strawberry.mutation(
        description="Send a failed, dead or succeeded webhook delivery again, as its next "
        "attempt (`webhook:manage`). INVALID_STATE: it is pending (queued already); "
        "INACTIVE: its endpoint is off.",
        metadata=requires(WEBHOOK_MANAGE),
    )
    async def webhook_delivery_retry(
        self, info: Info, input: WebhookDeliveryRetryInput
    ) -> WebhookDeliveryRetryPayload:
        return await mutate(
            info,
            WebhookDeliveryRetryPayload,
            lambda session, actor: service.retry_webhook_delivery(
                session, delivery_id=parse_global_id(input.id, "WebhookDelivery"), actor=actor
            ),
            lambda row: {"webhook_delivery": row},
        )


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="Webhook endpoints, oldest first, without their secrets (`webhook:manage`).",
        metadata=requires(WEBHOOK_MANAGE),
    )
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        actor = await info.context.require_principal()
        async with info.context.read_session() as session:
            endpoints = await service.list_webhook_endpoints(session, actor=actor)
        now = dt.datetime.now(dt.UTC)
        return [WebhookEndpoint.of(endpoint, now) for endpoint in endpoints]

    @strawberry.field(
        description="The webhook delivery log, newest first (`webhook:manage`): of one "
        "endpoint and in some statuses if given.",
        metadata=requires(WEBHOOK_MANAGE),
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: strawberry.ID | None = None,
        status: list[WebhookDeliveryStatus] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookDelivery]:
        actor = await info.context.require_principal()
        page = window(first, after, None, None)
        before_id = decode_cursor(after, DELIVERY_CURSOR, int, field="after").id if after else None
        endpoint = (
            None
            if endpoint_id is None
            else parse_global_id(endpoint_id, "WebhookEndpoint", field="endpointId")
        )
        statuses = [str(value.value) for value in status or []]
        async with info.context.read_session() as session:
            found = await service.list_webhook_deliveries(
                session,
                endpoint_id=endpoint,
                statuses=statuses,
                before_id=before_id,
                limit=page.limit,
                actor=actor,
            )

        async def count() -> int:
            async with info.context.read_session() as session:
                return await service.count_webhook_deliveries(
                    session, endpoint_id=endpoint, statuses=statuses, actor=actor
                )

        return delivery_connection(found.rows, found.has_next, after=after, count=count)
