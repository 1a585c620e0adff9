"""Inbound webhooks: ``POST /v1/sales-webhook`` (a regional office reports a paid order)
and ``POST /v1/update-state-webhook/{purchase_id}`` (a manufacturer reports a state).

Both identify the caller by its API key (``Authorization: Bearer`` or ``Client-Secret``,
as everywhere), which must hold the route's scope and be bound to an office or a
manufacturer; when the source has a signing secret (``OPSGRAPH_SALES_WEBHOOK_SECRET``,
``OPSGRAPH_MANUFACTURER_WEBHOOK_SECRET``) the request must also carry a valid Standard
Webhooks signature made within 5 minutes. The rules, idempotency included, are the
services' (``opsgraph.services.webhook_receipt``); this module reads and checks the
request and maps the outcome to a status. Every answer is JSON: errors are
``{"errors": [{"message", "extensions": {"code", "field"?}}]}``, one entry per bad field
for a 422; a database that is unavailable is the app's 503 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse

from opsgraph.context import Context
from opsgraph.errors import InvalidInput, NotFound
from opsgraph.graph.ids import decode_global_id, to_global_id
from opsgraph.models import PurchaseOrder, PurchaseOrderState, ReceiptStatus
from opsgraph.permissions import Permission
from opsgraph.rest.inbound_request import (
    Refused,
    caller,
    check_signature,
    error_entry,
    error_response,
    guarded,
    parse_body,
    read_body,
    webhook_id_of,
)
from opsgraph.services.webhook_receipt import receive_sales_report, receive_state_report


class SalesReport(BaseModel):
    """A paid order a regional office reports."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    regional_office: str = Field(
        min_length=1,
        max_length=200,
        description="The office: its customer's external id or name; must be the office "
        "the API key is bound to.",
    )
    external_order_number: str = Field(
        min_length=1,
        max_length=64,
        description="The order number in the office's system: the purchase order's external id.",
    )
    car_model: str = Field(min_length=1, max_length=100, description="The model sold.")
    brand: str = Field(
        min_length=1,
        max_length=64,
        description="The brand sold: one of OPSGRAPH_WEBHOOK_BRANDS (any case).",
    )


class StateReport(BaseModel):
    """A purchase order's new state, as its manufacturer reports it."""

    model_config = ConfigDict(extra="ignore")

    state: PurchaseOrderState = Field(
        description="The purchase order's new state (any case: `in_progress`, `IN_PROGRESS`)."
    )

    @field_validator("state", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


def _brand(given: str, allowed: list[str]) -> str:
    """The brand as the settings spell it."""
    for brand in allowed:
        if brand.casefold() == given.casefold():
            return brand
    raise Refused(
        422,
        "invalid fields",
        "BAD_USER_INPUT",
        [error_entry(f"brand must be one of: {', '.join(allowed)}", "BAD_USER_INPUT", ["brand"])],
    )


@guarded
async def sales_webhook(request: Request) -> JSONResponse:
    """A regional office reports a paid order.
    ---
    summary: Report a paid order (regional office)
    description: >-
      Stored durably, then answered 202 with the receipt's id; the purchase order (the
      `external_order_number` as its external id, of the key's office) is upserted
      asynchronously; `webhookReceipts` shows the outcome. Idempotent on `webhook-id`, or
      without one on the office and order number; the same id with another body is 409.
      Needs an API key with scope `webhook:sales` bound to the office, and, when
      OPSGRAPH_SALES_WEBHOOK_SECRET is set, a Standard Webhooks signature.
    security: [{apiKey: []}]
    parameters:
      - {$ref: "#/components/parameters/WebhookId"}
      - {$ref: "#/components/parameters/WebhookTimestamp"}
      - {$ref: "#/components/parameters/WebhookSignature"}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: "#/components/schemas/SalesReport"}
    responses:
      "202":
        description: Stored (or stored before, `duplicate`); processing is queued.
        content:
          application/json:
            schema: {$ref: "#/components/schemas/SalesReceipt"}
      "401": {$ref: "#/components/responses/Unauthenticated"}
      "403": {$ref: "#/components/responses/Forbidden"}
      "409": {$ref: "#/components/responses/Conflict"}
      "413": {$ref: "#/components/responses/TooLarge"}
      "415": {$ref: "#/components/responses/UnsupportedMediaType"}
      "422": {$ref: "#/components/responses/Invalid"}
      "503": {$ref: "#/components/responses/Unavailable"}
    """
    settings = request.app.state.settings
    body = await read_body(request)
    check_signature(settings.sales_webhook_secret, body, request)
    context = Context.of(request, None)
    actor = await caller(context, Permission.WEBHOOK_SALES)
    webhook_id = webhook_id_of(request)
    report: SalesReport = parse_body(body, SalesReport)
    fields = report.model_dump()
    fields["brand"] = _brand(report.brand, settings.webhook_brands)
    async with context.transaction() as session:
        stored = await receive_sales_report(
            session, report=fields, webhook_id=webhook_id, actor=actor
        )
        answer = {
            "receiptId": to_global_id("WebhookReceipt", stored.receipt.id),
            "status": stored.receipt.status,
            "duplicate": stored.duplicate,
        }
    return JSONResponse(answer, status_code=202)


def _purchase_order_id(value: str) -> int:
    """The purchase order of a global id; anything else is 404, like another brand's."""
    try:
        type_name, pk = decode_global_id(value)
    except InvalidInput:
        type_name, pk = "", 0
    if type_name != "PurchaseOrder":
        raise NotFound("no such purchase order", field=["purchase_id"])
    return pk


def _order(order: PurchaseOrder) -> dict[str, Any]:
    return {
        "id": to_global_id("PurchaseOrder", order.id),
        "externalId": order.external_id,
        "state": order.state,
        "stateVersion": order.state_version,
        "brand": order.brand,
        "carModel": order.car_model,
    }


@guarded
async def update_state_webhook(request: Request) -> JSONResponse:
    """A manufacturer reports a purchase order's new state.
    ---
    summary: Report a purchase order's state (manufacturer)
    description: >-
      `purchase_id` is the purchase order's global id (the `id` of the
      `purchaseOrders(filter: {brand, state})` pool). Applied at once, forward only: the
      state it is in already is 200 with nothing changed; a state it can't move to (a
      late, older report) is 409 with the current state. Purchase orders of other brands
      are 404. Idempotent on `webhook-id`, or without one on the purchase order and
      state. Needs an API key with scope `webhook:manufacturer` bound to the brand, and,
      when OPSGRAPH_MANUFACTURER_WEBHOOK_SECRET is set, a Standard Webhooks signature.
    security: [{apiKey: []}]
    parameters:
      - name: purchase_id
        in: path
        required: true
        description: The purchase order's global id.
        schema: {type: string}
      - {$ref: "#/components/parameters/WebhookId"}
      - {$ref: "#/components/parameters/WebhookTimestamp"}
      - {$ref: "#/components/parameters/WebhookSignature"}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: "#/components/schemas/StateReport"}
    responses:
      "200":
        description: Applied (or already in that state); the purchase order as it is now.
        content:
          application/json:
            schema: {$ref: "#/components/schemas/StateReceipt"}
      "401": {$ref: "#/components/responses/Unauthenticated"}
      "403": {$ref: "#/components/responses/Forbidden"}
      "404": {$ref: "#/components/responses/NotFound"}
      "409":
        description: >-
          The state can't be reached from the current one (the body names it), or the
          webhook-id was used with another body.
        content:
          application/json:
            schema: {$ref: "#/components/schemas/StateConflict"}
      "413": {$ref: "#/components/responses/TooLarge"}
      "415": {$ref: "#/components/responses/UnsupportedMediaType"}
      "422": {$ref: "#/components/responses/Invalid"}
      "503": {$ref: "#/components/responses/Unavailable"}
    """
    settings = request.app.state.settings
    body = await read_body(request)
    check_signature(settings.manufacturer_webhook_secret, body, request)
    context = Context.of(request, None)
    actor = await caller(context, Permission.WEBHOOK_MANUFACTURER)
    webhook_id = webhook_id_of(request)
    purchase_order_id = _purchase_order_id(request.path_params["purchase_id"])
    report: StateReport = parse_body(body, StateReport)
    async with context.transaction() as session:
        done = await receive_state_report(
            session,
            purchase_order_id=purchase_order_id,
            state=report.state.value,
            webhook_id=webhook_id,
            actor=actor,
        )
        answer = {
            "receiptId": to_global_id("WebhookReceipt", done.receipt.id),
            "status": done.receipt.status,
            "duplicate": done.duplicate,
            "purchaseOrder": _order(done.purchase_order),
        }
        error = done.receipt.error
    if answer["status"] == ReceiptStatus.failed.value:
        message = error or "refused"
        code, _, text = message.partition(": ")
        return error_response(
            409, [error_entry(text or message, code or "CONFLICT", ["state"])], answer
        )
    return JSONResponse(answer)
