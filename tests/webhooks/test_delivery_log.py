"""The webhook delivery log (newest first, by endpoint and status, a page at a time) and
webhookDeliveryRetry: one new job as the next attempt, never for a pending delivery."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.events.emit import emit, public_id
from opsgraph.graph.ids import to_global_id
from opsgraph.models import Event, WebhookDelivery, WebhookEndpoint
from tests.resolvers.accounts import (
    Api,
    Caller,
    admin,
    api,
    audit_events,
    make_api,
    sign_in,
    top_code,
)

__all__ = ["admin", "api", "make_api"]  # fixtures

DELIVERY = """id status attempts lastStatusCode lastError lastAttemptAt nextAttemptAt createdAt
  endpointId event { id type occurredAt objectId }"""
LOG = f"""query($endpoint: ID, $status: [WebhookDeliveryStatus!], $first: Int, $after: String) {{
  webhookDeliveries(endpointId: $endpoint, status: $status, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }}
    edges {{ cursor node {{ {DELIVERY} }} }} }} }}"""
RETRY = f"""mutation($id: ID!) {{ webhookDeliveryRetry(input: {{id: $id}}) {{
  webhookDelivery {{ {DELIVERY} }} errors {{ code message field }} }} }}"""
JOBS = """SELECT args FROM procrastinate_jobs
  WHERE task_name = 'webhooks.deliver' AND queue_name = 'webhooks'
    AND (args->>'delivery_id')::bigint = :id ORDER BY id"""


async def endpoint(session: AsyncSession, url: str, *, active: bool = True) -> int:
    row = WebhookEndpoint(url=url, secret="whsec_x", active=active)
    session.add(row)
    await session.flush()
    return row.id


async def deliveries(session: AsyncSession, endpoint_id: int) -> list[WebhookDelivery]:
    found = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id)
        .execution_options(populate_existing=True)
    )
    return list(found.all())


async def emit_stock_low(session: AsyncSession, product_id: int) -> None:
    await emit(
        session,
        "stock.low",
        entity_type="Product",
        entity_id=product_id,
        customer_id=None,
        data={"quantity": 1},
        actor=None,
    )


async def jobs(session: AsyncSession, delivery_id: int) -> list[Any]:
    return list((await session.execute(text(JOBS), {"id": delivery_id})).scalars().all())


def gid(delivery_id: int) -> str:
    return to_global_id("WebhookDelivery", delivery_id)


async def test_the_log_filters_by_endpoint_and_status_newest_first(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    first = await endpoint(session, "https://one.example.com/in")
    second = await endpoint(session, "https://two.example.com/in")
    for product_id in (1, 2, 3):
        await emit_stock_low(session, product_id)
    mine = await deliveries(session, first)
    theirs = await deliveries(session, second)
    assert len(mine) == len(theirs) == 3
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == mine[0].id)
        .values(status="dead", attempts=8, last_status_code=500, last_error="HTTP 500")
    )
    await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == mine[1].id).values(status="succeeded")
    )

    everything = await api.data(LOG, token=admin.token)
    log = everything["webhookDeliveries"]
    assert log["totalCount"] == 6
    ids = [edge["node"]["id"] for edge in log["edges"]]
    assert ids == [gid(d.id) for d in sorted(mine + theirs, key=lambda d: -d.id)]

    endpoint_gid = to_global_id("WebhookEndpoint", first)
    of_one = (await api.data(LOG, {"endpoint": endpoint_gid}, token=admin.token))[
        "webhookDeliveries"
    ]
    assert [edge["node"]["id"] for edge in of_one["edges"]] == [gid(d.id) for d in mine[::-1]]
    assert {edge["node"]["endpointId"] for edge in of_one["edges"]} == {endpoint_gid}

    variables = {"endpoint": endpoint_gid, "status": ["DEAD", "FAILED"]}
    dead = (await api.data(LOG, variables, token=admin.token))["webhookDeliveries"]
    assert dead["totalCount"] == 1
    [node] = [edge["node"] for edge in dead["edges"]]
    assert (node["status"], node["attempts"], node["lastStatusCode"], node["lastError"]) == (
        "DEAD",
        8,
        500,
        "HTTP 500",
    )
    event = await session.get_one(Event, mine[0].event_id)
    assert node["event"] == {
        "id": public_id(event),
        "type": "STOCK_LOW",
        "occurredAt": node["event"]["occurredAt"],
        "objectId": to_global_id("Product", 1),
    }
    assert node["event"]["occurredAt"].startswith(event.occurred_at.date().isoformat())

    pending = {"status": ["PENDING"]}
    assert (await api.data(LOG, pending, token=admin.token))["webhookDeliveries"]["totalCount"] == 4


async def test_the_log_pages_with_cursors(api: Api, admin: Caller, session: AsyncSession) -> None:
    endpoint_id = await endpoint(session, "https://one.example.com/in")
    for product_id in range(5):
        await emit_stock_low(session, product_id)
    expected = [gid(d.id) for d in (await deliveries(session, endpoint_id))[::-1]]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = await api.data(LOG, {"first": 2, "after": after}, token=admin.token)
        page = data["webhookDeliveries"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert (seen, pages) == (expected, 3)
    body = await api(LOG, {"first": 101}, token=admin.token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api(LOG, {"after": "nonsense"}, token=admin.token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_retry_defers_exactly_one_job(api: Api, admin: Caller, session: AsyncSession) -> None:
    endpoint_id = await endpoint(session, "https://one.example.com/in")
    await emit_stock_low(session, 7)
    [delivery] = await deliveries(session, endpoint_id)
    assert await jobs(session, delivery.id) == [{"delivery_id": delivery.id, "attempt": 1}]
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(status="dead", attempts=3, next_attempt_at=None)
    )

    payload = (await api.data(RETRY, {"id": gid(delivery.id)}, token=admin.token))[
        "webhookDeliveryRetry"
    ]
    assert payload["errors"] == []
    node = payload["webhookDelivery"]
    assert (node["id"], node["status"], node["attempts"]) == (gid(delivery.id), "PENDING", 3)
    assert node["nextAttemptAt"] is not None
    assert node["event"]["type"] == "STOCK_LOW"
    assert await jobs(session, delivery.id) == [
        {"delivery_id": delivery.id, "attempt": 1},
        {"delivery_id": delivery.id, "attempt": 4},
    ]
    [event] = await audit_events(session, "webhook_delivery.retry")
    assert event.changes == {
        "before": {"status": "dead"},
        "after": {"status": "pending"},
        "attempt": 4,
    }

    # now pending: a second retry is refused and defers nothing
    again = (await api.data(RETRY, {"id": gid(delivery.id)}, token=admin.token))[
        "webhookDeliveryRetry"
    ]
    [error] = again["errors"]
    assert (error["code"], error["field"]) == ("INVALID_STATE", ["id"])
    assert again["webhookDelivery"] is None
    assert len(await jobs(session, delivery.id)) == 2


@pytest.mark.parametrize("status", ["succeeded", "failed"])
async def test_a_succeeded_or_failed_delivery_may_be_sent_again(
    api: Api, admin: Caller, session: AsyncSession, status: str
) -> None:
    endpoint_id = await endpoint(session, "https://one.example.com/in")
    await emit_stock_low(session, 7)
    [delivery] = await deliveries(session, endpoint_id)
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(status=status, attempts=1, last_status_code=204)
    )
    payload = (await api.data(RETRY, {"id": gid(delivery.id)}, token=admin.token))[
        "webhookDeliveryRetry"
    ]
    assert payload["webhookDelivery"]["status"] == "PENDING"
    assert (await jobs(session, delivery.id))[-1] == {"delivery_id": delivery.id, "attempt": 2}


async def test_retry_refuses_an_inactive_endpoint_and_unknown_ids(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    endpoint_id = await endpoint(session, "https://one.example.com/in")
    await emit_stock_low(session, 7)
    [delivery] = await deliveries(session, endpoint_id)
    await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(status="dead")
    )
    await session.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(active=False)
    )
    payload = (await api.data(RETRY, {"id": gid(delivery.id)}, token=admin.token))[
        "webhookDeliveryRetry"
    ]
    assert payload["errors"][0]["code"] == "INACTIVE"
    assert len(await jobs(session, delivery.id)) == 1
    [row] = await deliveries(session, endpoint_id)
    assert row.status == "dead"

    missing = (await api.data(RETRY, {"id": gid(10**9)}, token=admin.token))["webhookDeliveryRetry"]
    assert missing["errors"][0]["code"] == "NOT_FOUND"
    wrong_type = await api.data(
        RETRY, {"id": to_global_id("WebhookEndpoint", endpoint_id)}, token=admin.token
    )
    assert wrong_type["webhookDeliveryRetry"]["errors"][0]["code"] == "BAD_USER_INPUT"


async def test_the_log_and_retry_need_webhook_manage(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    endpoint_id = await endpoint(session, "https://one.example.com/in")
    await emit_stock_low(session, 7)
    [delivery] = await deliveries(session, endpoint_id)
    await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(status="dead")
    )
    staff = await sign_in(api, session, "sam", ["staff"])
    assert top_code(await api(LOG, token=staff.token)) == "FORBIDDEN"
    assert top_code(await api(RETRY, {"id": gid(delivery.id)}, token=staff.token)) == "FORBIDDEN"
    assert len(await jobs(session, delivery.id)) == 1
