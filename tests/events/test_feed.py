"""The ``events`` feed over committed data: pages, filters, permissions, portal scoping."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from opsgraph.events.catalogue import EVENT_TYPES
from opsgraph.models import Event
from opsgraph.services import customer as customers
from opsgraph.services import ticket
from tests.conftest import LiveApi, create_and_sign_in
from tests.events.catalogue_run import Ran, admin, run_catalogue
from tests.mutations.helpers import gid

FEED = """
query($first: Int, $after: String, $types: [String!], $since: DateTime) {
  events(first: $first, after: $after, types: $types, since: $since) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id type occurredAt objectId data } }
  }
}"""


@pytest.fixture
async def ran(live: LiveApi) -> tuple[Ran, int]:
    """The whole catalogue for one customer, and a ticket of another, committed."""
    async with live.session_factory() as session, session.begin():
        actor = await admin(session)
        done = await run_catalogue(session, actor)
    async with live.session_factory() as session, session.begin():  # a later transaction
        other = await customers.create_customer(session, name="Other AB", actor=actor)
        await ticket.create_ticket(session, customer_id=other.id, subject="Hi", actor=actor)
    return done, other.id


async def feed(live: LiveApi, headers: dict[str, str] | None = None, **variables: Any) -> Any:
    data = await live.data(FEED, variables, **(headers or {}))
    return data["events"]


async def read_all(live: LiveApi, headers: dict[str, str] | None = None, **variables: Any) -> Any:
    """Every event of the feed, following endCursor a page at a time."""
    nodes, after = [], None
    while True:
        page = await feed(live, headers, after=after, **variables)
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_pages_follow_the_cursor_oldest_first(live: LiveApi, ran: tuple[Ran, int]) -> None:
    async with live.session_factory() as session:
        rows = (await session.scalars(select(Event).order_by(Event.txid, Event.id))).all()
    expected = [f"evt_{row.uid.hex}" for row in rows]
    assert len(expected) == 18
    first = await feed(live, first=5)
    assert first["totalCount"] == 18
    assert [edge["node"]["id"] for edge in first["edges"]] == expected[:5]
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": first["edges"][-1]["cursor"]}
    nodes = await read_all(live, first=7)
    assert [node["id"] for node in nodes] == expected
    node = nodes[0]
    assert (node["type"], node["objectId"]) == (
        "customer.created",
        gid("Customer", ran[0].customer_id),
    )
    assert node["data"]["name"] == "Nordic Roofing"
    # past the end: an empty page
    last = await feed(live, after=first["edges"][-1]["cursor"], first=100)
    assert len(last["edges"]) == 13
    assert (await feed(live, after=last["pageInfo"]["endCursor"]))["edges"] == []


async def test_types_and_since_filter(live: LiveApi, ran: tuple[Ran, int]) -> None:
    paid = await read_all(live, types=["invoice.paid", "payment.recorded"])
    assert [node["type"] for node in paid] == ["payment.recorded"] * 2 + ["invoice.paid"]
    everything = await read_all(live)
    assert {node["type"] for node in everything} == set(EVENT_TYPES)
    newest = max(node["occurredAt"] for node in everything)
    later = await read_all(live, since=newest)
    # the other customer's two events, of the later transaction
    assert [node["type"] for node in later] == ["customer.created", "ticket.created"]
    assert await read_all(live, since="2999-01-01T00:00:00Z") == []
    body = (await live.gql(FEED, {"types": ["order.shipped"]})).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "order.shipped" in error["message"]
    body = (await live.gql(FEED, {"after": "not a cursor"})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = (await live.gql(FEED, {"first": 101})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_portal_user_sees_its_customers_events_only(
    live: LiveApi, ran: tuple[Ran, int]
) -> None:
    done, other = ran
    own = await create_and_sign_in(
        live.http, live.session_factory, "portal-own", ["customer"], customer_id=done.customer_id
    )
    nodes = await read_all(live, own)
    # every type of its customer's that its role reads; stock.low is no customer's
    assert {node["type"] for node in nodes} == set(EVENT_TYPES) - {"stock.low"}
    assert (await feed(live, own))["totalCount"] == len(nodes) == 15
    theirs = await create_and_sign_in(
        live.http, live.session_factory, "portal-other", ["customer"], customer_id=other
    )
    nodes = await read_all(live, theirs)
    assert [node["type"] for node in nodes] == ["customer.created", "ticket.created"]
    assert nodes[0]["objectId"] == nodes[1]["data"]["customerId"] == gid("Customer", other)
    unlinked = await create_and_sign_in(
        live.http, live.session_factory, "portal-none", ["customer"]
    )
    page = await feed(live, unlinked)
    assert (page["edges"], page["totalCount"]) == ([], 0)


async def test_a_role_sees_only_the_types_whose_objects_it_reads(
    live: LiveApi, ran: tuple[Ran, int]
) -> None:
    support = await create_and_sign_in(live.http, live.session_factory, "support", ["support"])
    seen = {node["type"] for node in await read_all(live, support)}
    assert seen == {
        "customer.created",
        "customer.updated",
        "ticket.created",
        "ticket.status_changed",
    }
    # asking for invoice events gives none, not an error
    assert await read_all(live, support, types=["invoice.paid"]) == []
