"""Events, their deliveries and their jobs commit with the change or not at all: a
rolled-back change and a dry run leave none; a committed one leaves exactly one delivery
and one ``webhooks.deliver`` job per event for an active endpoint."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.errors import InvalidInput
from opsgraph.events.emit import DELIVER_TASK, DELIVERY_QUEUE
from opsgraph.models import Event, WebhookDelivery, WebhookEndpoint
from opsgraph.services import customer as customers
from opsgraph.services import product as products
from tests.conftest import GraphQLClient
from tests.events.catalogue_run import admin
from tests.mutations.helpers import gid, payload_of


async def endpoint(session: AsyncSession, **values: Any) -> int:
    row = WebhookEndpoint(
        url="https://hooks.example.com/opsgraph", secret="whsec_" + "a" * 32, **values
    )
    session.add(row)
    await session.flush()
    return row.id


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    """Events, deliveries and delivery jobs there are."""
    events = await session.scalar(select(func.count()).select_from(Event))
    deliveries = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    jobs = await session.scalar(
        text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task"),
        {"task": DELIVER_TASK},
    )
    return int(events or 0), int(deliveries or 0), int(jobs or 0)


async def test_a_rolled_back_change_leaves_no_event_delivery_or_job(
    session: AsyncSession,
) -> None:
    actor = await admin(session)
    await endpoint(session)
    before = await counts(session)
    written = None

    async def change_then_fail() -> None:
        nonlocal written
        async with session.begin_nested():
            await customers.create_customer(session, name="Gone Again", actor=actor)
            written = await counts(session)
            raise InvalidInput("a business rule broken after the change")

    with pytest.raises(InvalidInput):
        await change_then_fail()
    # the event, its delivery and its job were written in the transaction, and went with it
    assert written == tuple(n + 1 for n in before)
    assert await counts(session) == before


CREATE_ORDER = """
mutation($input: OrderCreateInput!) {
  orderCreate(input: $input) { order { id status } errors { code message } }
}"""


async def test_a_dry_run_leaves_no_event_delivery_or_job(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    actor = await admin(session)
    await endpoint(session)
    customer = await customers.create_customer(session, name="Dry Run AB", actor=actor)
    product = await products.create_product(
        session,
        sku="DRY-RUN-1",
        name="Dry",
        unit_price=Decimal("5.00"),
        initial_stock=3,
        actor=actor,
    )
    await session.commit()  # a savepoint of the test's transaction: the app sees them
    before = await counts(session)
    body = await gql(
        CREATE_ORDER,
        {
            "input": {
                "customerId": gid("Customer", customer.id),
                "lines": [{"productId": gid("Product", product.id), "quantity": 3}],
                "dryRun": True,
            }
        },
    )
    payload = payload_of(body, "orderCreate")
    assert payload["errors"] == []
    assert payload["order"]["status"] == "PENDING"
    assert await counts(session) == before
    # for real, the same order leaves its events (order.created, stock.low at 0)
    body = await gql(
        CREATE_ORDER,
        {
            "input": {
                "customerId": gid("Customer", customer.id),
                "lines": [{"productId": gid("Product", product.id), "quantity": 3}],
            }
        },
    )
    assert payload_of(body, "orderCreate")["errors"] == []
    assert await counts(session) == tuple(n + 2 for n in before)


CREATE_CUSTOMER = """
mutation($name: String!) {
  customerCreate(input: {name: $name}) { customer { id } errors { code } }
}"""


async def test_a_committed_change_leaves_one_delivery_and_job_per_event(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await admin(session)
    wanted = await endpoint(session, event_types=["customer.created"])
    await endpoint(session, event_types=["order.created"])  # not this event
    await endpoint(session, active=False)  # not active
    await session.commit()
    before = await counts(session)
    body = await gql(CREATE_CUSTOMER, {"name": "Delivered AB"})
    customer_id = payload_of(body, "customerCreate")["customer"]["id"]
    assert await counts(session) == (before[0] + 1, before[1] + 1, before[2] + 1)
    event = await session.scalar(select(Event).order_by(Event.id.desc()).limit(1))
    assert event is not None
    assert (event.type, gid(event.entity_type, event.entity_id)) == (
        "customer.created",
        customer_id,
    )
    delivery = await session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)
    )
    assert delivery is not None
    assert (delivery.endpoint_id, delivery.status) == (wanted, "pending")
    job = (
        await session.execute(
            text(
                "SELECT queue_name, args FROM procrastinate_jobs "
                "WHERE task_name = :task ORDER BY id DESC LIMIT 1"
            ),
            {"task": DELIVER_TASK},
        )
    ).one()
    assert job.queue_name == DELIVERY_QUEUE
    assert job.args == {"delivery_id": delivery.id, "attempt": 1}
