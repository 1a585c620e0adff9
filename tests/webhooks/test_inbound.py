"""The inbound webhooks over the app, each test in a rolled-back transaction: who may
call them (API keys bound to an office or a manufacturer, Standard Webhooks signatures
within 5 minutes), what a bad request gets (413, 415, 422 naming each field, 409), what a
stored sales report becomes once processed, forward-only state reports, the pool query,
the receipts log, binding keys, and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.app import create_app
from opsgraph.models import Customer, PurchaseOrder, WebhookReceipt
from opsgraph.rest.inbound_request import MAX_BODY_BYTES
from opsgraph.services.webhook_receipt import process_sales_receipt
from opsgraph.settings import Settings
from opsgraph.webhooks.signing import new_secret
from tests.conftest import create_and_sign_in, make_settings
from tests.mutations.helpers import gid
from tests.webhooks.inbound import (
    CREATE_KEY,
    SALES,
    SECRET,
    Keys,
    create_key,
    make_keys,
    report,
    signed,
    state_url,
)

RECEIPTS = """query($status: [WebhookReceiptStatus!], $source: [WebhookReceiptSource!]) {
  webhookReceipts(status: $status, source: $source, first: 10) {
    totalCount edges { node { id source status error body customerId purchaseOrderId } } } }"""
POOL = """query($brand: String!) { purchaseOrders(filter: {state: [RECEIVED], brand: $brand},
  first: 10) { edges { node { externalId brand carModel state } } } }"""


@dataclass
class Inbound:
    plain: httpx.AsyncClient  # no signing secrets configured
    signing: httpx.AsyncClient  # both sources have SECRET
    admin: dict[str, str]
    keys: Keys
    factory: async_sessionmaker[AsyncSession]

    async def receipts(self) -> list[WebhookReceipt]:
        async with self.factory() as session:
            found = await session.scalars(select(WebhookReceipt).order_by(WebhookReceipt.id))
            return list(found.all())

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.plain.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.admin
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def process_all(self) -> None:
        """What the worker does with each stored sales report (the job's service call)."""
        for receipt in await self.receipts():
            async with self.factory() as session, session.begin():
                await process_sales_receipt(session, receipt_id=receipt.id)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def inbound(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Inbound]:
    url = settings.database_url
    signing_settings = make_settings(
        url, sales_webhook_secret=SECRET, manufacturer_webhook_secret=SECRET
    )
    async with (
        _client(create_app(settings, session_factory=session_factory)) as plain,
        _client(create_app(signing_settings, session_factory=session_factory)) as signing,
    ):
        admin = await create_and_sign_in(plain, session_factory, "inbound-admin", ["admin"])
        keys = await make_keys(plain, admin, session_factory)
        yield Inbound(plain, signing, admin, keys, session_factory)


def codes(response: httpx.Response) -> list[tuple[str, list[str] | None]]:
    return [
        (error["extensions"]["code"], error["extensions"].get("field"))
        for error in response.json()["errors"]
    ]


# --- the sales webhook -----------------------------------------------------------------


async def test_a_sales_report_is_stored_answered_202_and_processed_into_a_purchase_order(
    inbound: Inbound,
) -> None:
    response = await inbound.plain.post(
        SALES, json=report(brand="bmw"), headers={**inbound.keys.sales, "webhook-id": "m-1"}
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "received"
    assert answer["duplicate"] is False
    [receipt] = await inbound.receipts()
    assert answer["receiptId"] == gid("WebhookReceipt", receipt.id)
    assert receipt.customer_id == inbound.keys.office_id
    assert receipt.body["brand"] == "BMW"  # as the settings spell it
    async with inbound.factory() as session:
        job = (
            await session.execute(
                text("SELECT task_name, queue_name, args, status FROM procrastinate_jobs")
            )
        ).one()
    assert job.task_name == "webhooks.process_receipt"
    assert job.queue_name == "inbound"
    assert job.args == {"receipt_id": receipt.id}
    assert job.status == "todo"

    await inbound.process_all()
    async with inbound.factory() as session:
        order = await session.scalar(
            select(PurchaseOrder).where(PurchaseOrder.external_id == "NO-1001")
        )
    assert order is not None
    assert (order.customer_id, order.brand, order.car_model, order.amount) == (
        inbound.keys.office_id,
        "BMW",
        "i4 eDrive40",
        0,
    )
    data = await inbound.gql(RECEIPTS, {"status": ["PROCESSED"], "source": ["SALES"]})
    [edge] = data["webhookReceipts"]["edges"]
    assert edge["node"]["purchaseOrderId"] == gid("PurchaseOrder", order.id)
    assert edge["node"]["customerId"] == gid("Customer", inbound.keys.office_id)
    assert edge["node"]["error"] is None
    # processing again (a job run twice) changes nothing
    await inbound.process_all()
    assert [r.status for r in await inbound.receipts()] == ["processed"]


async def test_a_refused_report_fails_its_receipt_with_the_reason(inbound: Inbound) -> None:
    async with inbound.factory() as session:
        other = Customer(name="Süd AB", external_id="SUED", email="sued@example.com")
        session.add(other)
        await session.flush()
        session.add(PurchaseOrder(external_id="TAKEN-1", customer_id=other.id))
        await session.commit()
    response = await inbound.plain.post(SALES, json=report("TAKEN-1"), headers=inbound.keys.sales)
    assert response.status_code == 202, response.text
    await inbound.process_all()
    [receipt] = await inbound.receipts()
    assert receipt.status == "failed"
    assert receipt.error is not None
    assert receipt.error.startswith("CONFLICT:")
    data = await inbound.gql(RECEIPTS, {"status": ["FAILED"]})
    assert data["webhookReceipts"]["totalCount"] == 1


async def test_the_same_webhook_is_applied_once_and_another_body_is_a_conflict(
    inbound: Inbound,
) -> None:
    headers = {**inbound.keys.sales, "webhook-id": "m-7"}
    first = await inbound.plain.post(SALES, json=report(), headers=headers)
    again = await inbound.plain.post(SALES, json=report(), headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["duplicate"] is True
    assert again.json()["receiptId"] == first.json()["receiptId"]
    changed = await inbound.plain.post(SALES, json=report(car_model="X5"), headers=headers)
    assert changed.status_code == 409, changed.text
    assert codes(changed) == [("CONFLICT", ["webhook-id"])]
    # without a webhook-id the office and the order number identify the report
    plain = await inbound.plain.post(SALES, json=report("NO-2"), headers=inbound.keys.sales)
    repeat = await inbound.plain.post(SALES, json=report("NO-2"), headers=inbound.keys.sales)
    assert repeat.status_code == 202
    assert repeat.json()["duplicate"] is True
    assert repeat.json()["receiptId"] == plain.json()["receiptId"]
    assert len(await inbound.receipts()) == 2
    async with inbound.factory() as session:
        jobs = await session.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
    assert jobs == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", [("BAD_USER_INPUT", None)]),
        (b"[1, 2]", [("BAD_USER_INPUT", None)]),
        (b'{"brand": NaN}', [("BAD_USER_INPUT", None)]),
        (
            b"{}",
            [
                ("BAD_USER_INPUT", ["regional_office"]),
                ("BAD_USER_INPUT", ["external_order_number"]),
                ("BAD_USER_INPUT", ["car_model"]),
                ("BAD_USER_INPUT", ["brand"]),
            ],
        ),
        (json.dumps(report(brand="Trabant")).encode(), [("BAD_USER_INPUT", ["brand"])]),
        (
            json.dumps(report(external_order_number=17, car_model="")).encode(),
            [("BAD_USER_INPUT", ["external_order_number"]), ("BAD_USER_INPUT", ["car_model"])],
        ),
        (json.dumps(report(car_model="a\u0000b")).encode(), [("BAD_USER_INPUT", ["car_model"])]),
        (
            json.dumps(report(regional_office="Süd AB")).encode(),
            [("BAD_USER_INPUT", ["regional_office"])],
        ),
        (json.dumps(report("x" * 65)).encode(), [("BAD_USER_INPUT", ["external_order_number"])]),
    ],
)
async def test_a_bad_body_is_a_422_naming_each_field(
    inbound: Inbound, body: bytes, expected: list[tuple[str, list[str] | None]]
) -> None:
    headers = {**inbound.keys.sales, "Content-Type": "application/json"}
    response = await inbound.plain.post(SALES, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert codes(response) == expected
    assert await inbound.receipts() == []


async def test_a_body_over_256_kib_is_a_413_and_not_json_a_415(inbound: Inbound) -> None:
    big = json.dumps(report(car_model="x" * MAX_BODY_BYTES)).encode()
    headers = {**inbound.keys.sales, "Content-Type": "application/json"}
    response = await inbound.plain.post(SALES, content=big, headers=headers)
    assert response.status_code == 413, response.text
    assert codes(response) == [("PAYLOAD_TOO_LARGE", None)]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    streamed = await inbound.plain.post(SALES, content=chunks(), headers=headers)
    assert streamed.status_code == 413, streamed.text
    form = await inbound.plain.post(SALES, data={"a": "b"}, headers=inbound.keys.sales)
    assert form.status_code == 415
    assert codes(form) == [("UNSUPPORTED_MEDIA_TYPE", None)]


async def test_credentials_401_without_or_with_a_bad_key_403_without_scope_or_binding(
    inbound: Inbound,
) -> None:
    nobody = await inbound.plain.post(SALES, json=report())
    assert nobody.status_code == 401
    assert codes(nobody) == [("UNAUTHENTICATED", None)]
    assert nobody.headers["www-authenticate"] == "Bearer"
    forged = await inbound.plain.post(
        SALES, json=report(), headers={"Authorization": "Bearer og_MadeUp1234_" + "x" * 43}
    )
    assert forged.status_code == 401
    # the manufacturer's key lacks webhook:sales
    other_scope = await inbound.plain.post(SALES, json=report(), headers=inbound.keys.manufacturer)
    assert other_scope.status_code == 403
    assert codes(other_scope)[0][0] == "FORBIDDEN"
    # an admin's token holds webhook:sales but speaks for no office
    unbound = await inbound.plain.post(SALES, json=report(), headers=inbound.admin)
    assert unbound.status_code == 403, unbound.text
    unbound_key = await create_key(
        inbound.plain, inbound.admin, name="loose", scopes=["webhook:sales"]
    )
    loose = await inbound.plain.post(
        SALES, json=report(), headers={"Authorization": f"Bearer {unbound_key}"}
    )
    assert loose.status_code == 403, loose.text
    assert await inbound.receipts() == []


async def test_a_signature_is_needed_when_the_source_has_a_secret(inbound: Inbound) -> None:
    key = inbound.keys.sales
    now = dt.datetime.now(dt.UTC)

    async def send(raw: bytes, headers: dict[str, str]) -> httpx.Response:
        return await inbound.signing.post(SALES, content=raw, headers={**key, **headers})

    raw, headers = signed(report(), message_id="sig-1")
    assert (await send(raw, headers)).status_code == 202
    unsigned = await send(raw, {"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert codes(unsigned) == [("INVALID_SIGNATURE", None)]
    _, wrong = signed(report(), message_id="sig-1", secret=new_secret())
    assert (await send(raw, wrong)).status_code == 401
    tampered = json.dumps(report(car_model="X7")).encode()
    assert (await send(tampered, headers)).status_code == 401
    stale_raw, stale = signed(report("NO-3"), message_id="sig-3", at=now - dt.timedelta(minutes=6))
    assert (await send(stale_raw, stale)).status_code == 401
    early_raw, early = signed(report("NO-4"), message_id="sig-4", at=now + dt.timedelta(minutes=6))
    assert (await send(early_raw, early)).status_code == 401
    recent_raw, recent = signed(
        report("NO-5"), message_id="sig-5", at=now - dt.timedelta(minutes=4)
    )
    assert (await send(recent_raw, recent)).status_code == 202
    # a valid signature does not stand in for the key
    nobody = await inbound.signing.post(SALES, content=raw, headers=headers)
    assert nobody.status_code == 401
    assert codes(nobody) == [("UNAUTHENTICATED", None)]
    assert len(await inbound.receipts()) == 2


# --- the manufacturer's state webhook and the pool ----------------------------------------


async def _order(inbound: Inbound, number: str, brand: str) -> int:
    async with inbound.factory() as session:
        order = PurchaseOrder(
            external_id=number, customer_id=inbound.keys.office_id, brand=brand, car_model="M"
        )
        session.add(order)
        await session.commit()
        return order.id


async def test_states_move_forward_only_and_a_late_older_one_is_a_409(inbound: Inbound) -> None:
    order = await _order(inbound, "BMW-1", "BMW")
    key = inbound.keys.manufacturer

    async def report_state(state: str, message_id: str) -> httpx.Response:
        return await inbound.plain.post(
            state_url(order), json={"state": state}, headers={**key, "webhook-id": message_id}
        )

    approved = await report_state("approved", "s-1")
    assert approved.status_code == 200, approved.text
    assert approved.json()["purchaseOrder"]["state"] == "approved"
    assert approved.json()["purchaseOrder"]["stateVersion"] == 2
    started = await report_state("IN_PROGRESS", "s-2")
    assert started.json()["purchaseOrder"]["state"] == "in_progress"
    late = await report_state("approved", "s-3")
    assert late.status_code == 409, late.text
    assert codes(late) == [("INVALID_TRANSITION", ["state"])]
    assert late.json()["purchaseOrder"]["state"] == "in_progress"
    # the same report again: the same answer, nothing applied twice
    assert (await report_state("IN_PROGRESS", "s-2")).json()["duplicate"] is True
    again = await report_state("approved", "s-3")
    assert again.status_code == 409
    assert again.json()["duplicate"] is True
    reused = await report_state("completed", "s-2")
    assert reused.status_code == 409
    assert codes(reused) == [("CONFLICT", ["webhook-id"])]
    # already there, without a webhook-id: 200, nothing changes
    same = await inbound.plain.post(state_url(order), json={"state": "in_progress"}, headers=key)
    assert same.status_code == 200
    assert same.json()["purchaseOrder"]["stateVersion"] == 3
    statuses = [(r.source, r.status) for r in await inbound.receipts()]
    assert statuses == [("manufacturer", "processed")] * 2 + [("manufacturer", "failed")] + [
        ("manufacturer", "processed")
    ]


async def test_a_manufacturer_sees_only_its_brand(inbound: Inbound) -> None:
    audi = await _order(inbound, "AUDI-1", "Audi")
    key = inbound.keys.manufacturer
    other = await inbound.plain.post(state_url(audi), json={"state": "approved"}, headers=key)
    assert other.status_code == 404
    assert codes(other) == [("NOT_FOUND", ["purchase_id"])]
    for junk in ("nonsense", gid("Customer", inbound.keys.office_id), gid("PurchaseOrder", 99999)):
        missing = await inbound.plain.post(
            f"/v1/update-state-webhook/{junk}", json={"state": "approved"}, headers=key
        )
        assert missing.status_code == 404, missing.text
    bad = await inbound.plain.post(state_url(audi), json={"state": "shipped"}, headers=key)
    assert bad.status_code == 422
    assert codes(bad) == [("BAD_USER_INPUT", ["state"])]
    sales_key = await inbound.plain.post(
        state_url(audi), json={"state": "approved"}, headers=inbound.keys.sales
    )
    assert sales_key.status_code == 403
    async with inbound.factory() as session:
        state = await session.scalar(select(PurchaseOrder.state).where(PurchaseOrder.id == audi))
    assert state == "received"


async def test_a_signed_state_report(inbound: Inbound) -> None:
    order = await _order(inbound, "BMW-2", "BMW")
    raw, headers = signed({"state": "approved"}, message_id="st-1")
    ok = await inbound.signing.post(
        state_url(order), content=raw, headers={**inbound.keys.manufacturer, **headers}
    )
    assert ok.status_code == 200, ok.text
    unsigned = await inbound.signing.post(
        state_url(order), json={"state": "in_progress"}, headers=inbound.keys.manufacturer
    )
    assert unsigned.status_code == 401


async def test_the_pool_is_a_brand_and_state_filter(inbound: Inbound) -> None:
    await _order(inbound, "BMW-3", "BMW")
    started = await _order(inbound, "BMW-4", "BMW")
    await _order(inbound, "AUDI-2", "Audi")
    await inbound.plain.post(
        state_url(started), json={"state": "approved"}, headers=inbound.keys.manufacturer
    )
    data = await inbound.gql(POOL, {"brand": "BMW"})
    nodes = [edge["node"] for edge in data["purchaseOrders"]["edges"]]
    assert nodes == [{"externalId": "BMW-3", "brand": "BMW", "carModel": "M", "state": "RECEIVED"}]


# --- binding keys, the receipts log's guard, the OpenAPI document ---------------------------


async def test_only_admins_bind_keys_to_an_existing_office_or_a_manufacturer(
    inbound: Inbound,
) -> None:
    async def create(headers: dict[str, str], **input: Any) -> dict[str, Any]:
        response = await inbound.plain.post(
            "/graphql",
            json={"query": CREATE_KEY, "variables": {"input": {"name": "k", **input}}},
            headers=headers,
        )
        body = response.json()
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["apiKeyCreate"]
        return payload

    office = gid("Customer", inbound.keys.office_id)
    bound = await create(inbound.admin, scopes=["webhook:sales"], customerId=office)
    assert bound["apiKey"]["customerId"] == office
    assert bound["apiKey"]["manufacturer"] is None
    missing = await create(
        inbound.admin, scopes=["webhook:sales"], customerId=gid("Customer", 99999)
    )
    assert [e["code"] for e in missing["errors"]] == ["NOT_FOUND"]
    both = await create(
        inbound.admin, scopes=["webhook:sales"], customerId=office, manufacturer="BMW"
    )
    assert [e["code"] for e in both["errors"]] == ["BAD_USER_INPUT"]
    integration = await create_and_sign_in(
        inbound.plain, inbound.factory, "erp-user", ["integration"]
    )
    refused = await inbound.plain.post(
        "/graphql",
        json={
            "query": CREATE_KEY,
            "variables": {
                "input": {"name": "k", "scopes": ["webhook:sales"], "customerId": office}
            },
        },
        headers=integration,
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own = await create(integration, scopes=["webhook:sales"])
    assert own["errors"] == []


async def test_the_receipts_log_needs_webhook_manage(inbound: Inbound) -> None:
    staff = await create_and_sign_in(inbound.plain, inbound.factory, "staffer", ["staff"])
    response = await inbound.plain.post("/graphql", json={"query": RECEIPTS}, headers=staff)
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_openapi_document_covers_the_rest_routes(inbound: Inbound) -> None:
    response = await inbound.plain.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert set(paths) == {
        "/health",
        "/ready",
        "/auth/token",
        "/auth/revoke",
        "/v1/sales-webhook",
        "/v1/update-state-webhook/{purchase_id}",
    }
    sales = paths["/v1/sales-webhook"]["post"]
    assert set(sales["responses"]) == {"202", "401", "403", "409", "413", "415", "422", "503"}
    schemas = document["components"]["schemas"]
    assert set(schemas["SalesReport"]["required"]) == {
        "regional_office",
        "external_order_number",
        "car_model",
        "brand",
    }
    # every reference points at something the document defines
    text_ = json.dumps(document)
    for ref in {part.split('"')[0] for part in text_.split('"$ref": "#/')[1:]}:
        node: Any = document
        for step in ref.split("/"):
            node = node[step]
        assert node, ref
