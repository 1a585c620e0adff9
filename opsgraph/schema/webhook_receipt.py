"""GraphQL types of inbound webhooks: the WebhookReceipt type of the ``webhookReceipts``
log, and its status and source enums."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from opsgraph import models as m
from opsgraph.graph.ids import to_global_id
from opsgraph.schema.enums import graphql_enum
from opsgraph.schema.fields import from_row, node_id


class ReceiptSource(StrEnum):
    sales = "sales"  # POST /v1/sales-webhook
    manufacturer = "manufacturer"  # POST /v1/update-state-webhook/{purchase_id}


WebhookReceiptStatus: Any = graphql_enum(
    "WebhookReceiptStatus", m.ReceiptStatus, "Where an inbound webhook is."
)
WebhookReceiptSource: Any = graphql_enum(
    "WebhookReceiptSource", ReceiptSource, "Which inbound webhook received it."
)


def _gid(type_name: str, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else strawberry.ID(to_global_id(type_name, pk))


@strawberry.type(
    description="An inbound webhook as it was stored, before it was processed, and what "
    "became of it."
)
class WebhookReceipt:
    id: strawberry.ID = node_id("WebhookReceipt")
    source = from_row(
        lambda row: WebhookReceiptSource(row.source),
        WebhookReceiptSource,
        "Which webhook received it.",
    )
    status = from_row(
        lambda row: WebhookReceiptStatus(row.status), WebhookReceiptStatus, "Where it is."
    )
    error: str | None = strawberry.field(description="Why processing refused it (failed).")
    body: JSON = strawberry.field(description="The fields as accepted.")
    customer_id = from_row(
        lambda row: _gid("Customer", row.customer_id),
        strawberry.ID | None,
        "The regional office (a Customer) it concerns.",
    )
    api_key_id = from_row(
        lambda row: _gid("ApiKey", row.api_key_id),
        strawberry.ID | None,
        "The API key that sent it.",
    )
    purchase_order_id = from_row(
        lambda row: _gid("PurchaseOrder", row.purchase_order_id),
        strawberry.ID | None,
        "The purchase order it created, updated or moved.",
    )
    created_at: dt.datetime = strawberry.field(description="When it was stored (answered).")
    processed_at: dt.datetime | None = strawberry.field(
        description="When it was processed or failed."
    )
