"""Properties through GraphQL: propertyCreate, propertyUpdate (moving a property to
another customer included), propertyDelete; every refusal with its code and field,
changing nothing; the audit trail (``Property.history``); a move racing invoiceCreate."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.graph.ids import to_global_id
from opsgraph.models import Invoice, Property
from tests.conftest import GraphQLClient, LiveApi
from tests.mutations.helpers import events, gid, refused
from tests.mutations.test_customer import (
    ERRORS,
    HISTORY,
    actions,
    forbidden,
    make_customer,
    make_invoice,
    make_order,
    make_property,
    ok,
    portal_writer,
    sign_in,
    state,
)

PROPERTY = "id label addressLine1 addressLine2 postalCode city country notes customer { id }"
CREATE = f"""mutation($input: PropertyCreateInput!) {{ propertyCreate(input: $input) {{
  property {{ {PROPERTY} {HISTORY} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: PropertyUpdateInput!) {{ propertyUpdate(input: $input) {{
  property {{ {PROPERTY} {HISTORY} }} {ERRORS} }} }}"""
PLAIN_CREATE = f"""mutation($input: PropertyCreateInput!) {{ propertyCreate(input: $input) {{
  property {{ {PROPERTY} }} {ERRORS} }} }}"""
PLAIN_UPDATE = f"""mutation($input: PropertyUpdateInput!) {{ propertyUpdate(input: $input) {{
  property {{ {PROPERTY} }} {ERRORS} }} }}"""
DELETE = f"""mutation($id: ID!) {{ propertyDelete(input: {{id: $id}}) {{ deletedId {ERRORS} }} }}"""
EVENTS = """query($action: String!) { auditEvents(filter: {action: $action}) {
  edges { node { entityType entityId changes } } } }"""


# --- propertyCreate -------------------------------------------------------------------------


async def test_create_cleans_up_and_audits(gql: GraphQLClient, session: AsyncSession) -> None:
    customer_id = await make_customer(session)
    body = await gql(
        CREATE,
        {
            "input": {
                "customerId": gid("Customer", customer_id),
                "label": " Head office ",
                "addressLine1": " Storgatan 1 ",
                "addressLine2": "  ",
                "postalCode": "111 22",
                "city": "Stockholm",
                "country": " se ",
            }
        },
    )
    prop = ok(body, "propertyCreate")["property"]
    assert {k: v for k, v in prop.items() if k not in ("id", "history")} == {
        "label": "Head office",
        "addressLine1": "Storgatan 1",
        "addressLine2": None,
        "postalCode": "111 22",
        "city": "Stockholm",
        "country": "SE",
        "notes": None,
        "customer": {"id": gid("Customer", customer_id)},
    }
    assert actions(prop["history"]) == [
        (
            "property.create",
            {
                "after": {
                    "customer_id": customer_id,
                    "label": "Head office",
                    "address_line1": "Storgatan 1",
                    "address_line2": None,
                    "postal_code": "111 22",
                    "city": "Stockholm",
                    "country": "SE",
                    "notes": None,
                }
            },
        )
    ]
    assert await session.scalar(select(Property.label)) == "Head office"


async def test_country_defaults_to_se(gql: GraphQLClient, session: AsyncSession) -> None:
    customer_id = await make_customer(session)
    body = await gql(
        PLAIN_CREATE, {"input": {"customerId": gid("Customer", customer_id), "label": "Site"}}
    )
    assert ok(body, "propertyCreate")["property"]["country"] == "SE"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"customerId": to_global_id("Customer", 10**12)}, "NOT_FOUND", ["customerId"]),
        ({"customerId": to_global_id("Order", 1)}, "BAD_USER_INPUT", ["customerId"]),
        ({"customerId": "%%%"}, "BAD_USER_INPUT", ["customerId"]),
        ({"label": "  "}, "BAD_USER_INPUT", ["label"]),
        ({"label": "l" * 201}, "BAD_USER_INPUT", ["label"]),
        ({"country": "XX"}, "BAD_USER_INPUT", ["country"]),
        ({"country": "Sweden"}, "BAD_USER_INPUT", ["country"]),
        ({"country": ""}, "BAD_USER_INPUT", ["country"]),
        ({"postalCode": "1" * 21}, "BAD_USER_INPUT", ["postalCode"]),
        ({"city": "c" * 101}, "BAD_USER_INPUT", ["city"]),
        ({"addressLine1": "a" * 201}, "BAD_USER_INPUT", ["addressLine1"]),
    ],
)
async def test_create_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, fields: dict[str, Any], code: str, field: list[str]
) -> None:
    customer_id = await make_customer(session)
    before = await state(session)
    body = await gql(
        CREATE,
        {"input": {"customerId": gid("Customer", customer_id), "label": "Site", **fields}},
    )
    error = refused(body, "propertyCreate", "property")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


# --- propertyUpdate -------------------------------------------------------------------------


async def test_update_changes_given_fields_only(gql: GraphQLClient, session: AsyncSession) -> None:
    customer_id = await make_customer(session)
    property_id = await make_property(session, customer_id, "Old label")
    await session.execute(
        text("UPDATE property SET city = 'Lund', notes = 'gate code 12' WHERE id = :id"),
        {"id": property_id},
    )
    body = await gql(
        UPDATE,
        {"input": {"id": gid("Property", property_id), "label": "New label", "city": None}},
    )
    prop = ok(body, "propertyUpdate")["property"]
    assert (prop["label"], prop["city"], prop["notes"]) == ("New label", None, "gate code 12")
    assert actions(prop["history"]) == [
        (
            "property.update",
            {
                "before": {"label": "Old label", "city": "Lund"},
                "after": {"label": "New label", "city": None},
            },
        )
    ]


async def test_update_that_changes_nothing_records_nothing(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer_id = await make_customer(session)
    property_id = await make_property(session, customer_id, "Same")
    before = await state(session)
    body = await gql(
        PLAIN_UPDATE,
        {
            "input": {
                "id": gid("Property", property_id),
                "label": "Same ",
                "country": "se",
                "customerId": gid("Customer", customer_id),
            }
        },
    )
    assert ok(body, "propertyUpdate")["property"]["label"] == "Same"
    assert await state(session) == before


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"label": None}, "BAD_USER_INPUT", ["label"]),
        ({"country": None}, "BAD_USER_INPUT", ["country"]),
        ({"country": "ZZ"}, "BAD_USER_INPUT", ["country"]),
        ({"customerId": None}, "BAD_USER_INPUT", ["customerId"]),
        ({"customerId": to_global_id("Customer", 10**12)}, "NOT_FOUND", ["customerId"]),
        ({"customerId": to_global_id("Property", 1)}, "BAD_USER_INPUT", ["customerId"]),
        ({"id": to_global_id("Property", 10**12)}, "NOT_FOUND", ["id"]),
        ({"id": to_global_id("Customer", 1)}, "BAD_USER_INPUT", ["id"]),
    ],
)
async def test_update_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, fields: dict[str, Any], code: str, field: list[str]
) -> None:
    customer_id = await make_customer(session)
    property_id = await make_property(session, customer_id)
    before = await state(session)
    body = await gql(UPDATE, {"input": {"id": gid("Property", property_id), **fields}})
    error = refused(body, "propertyUpdate", "property")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


# --- moving a property to another customer --------------------------------------------------

Setup = Callable[[AsyncSession, int, int], Awaitable[None]]


async def _closed_history(session: AsyncSession, customer_id: int, property_id: int) -> None:
    """Paid and void invoices, a cancelled order and an invoiced one: all history."""
    await make_invoice(session, customer_id, property_id, status="paid")
    await make_invoice(session, customer_id, property_id, status="void")
    await make_order(session, customer_id, property_id, status="cancelled")
    invoiced = await make_order(session, customer_id, property_id, status="completed")
    await make_invoice(session, customer_id, property_id, status="paid", order_id=invoiced)


async def test_move_to_another_customer(gql: GraphQLClient, session: AsyncSession) -> None:
    seller = await make_customer(session, "Seller")
    buyer = await make_customer(session, "Buyer")
    property_id = await make_property(session, seller, "Villa")
    await _closed_history(session, seller, property_id)
    body = await gql(
        UPDATE,
        {"input": {"id": gid("Property", property_id), "customerId": gid("Customer", buyer)}},
    )
    prop = ok(body, "propertyUpdate")["property"]
    assert prop["customer"] == {"id": gid("Customer", buyer)}
    assert actions(prop["history"]) == [
        ("property.update", {"before": {"customer_id": seller}, "after": {"customer_id": buyer}})
    ]
    assert await session.scalar(select(Property.customer_id)) == buyer
    # the history stays with the seller
    assert set(await session.scalars(select(Invoice.customer_id))) == {seller}


async def _draft_invoice(session: AsyncSession, customer_id: int, property_id: int) -> None:
    await make_invoice(session, customer_id, property_id, status="draft")


async def _sent_invoice(session: AsyncSession, customer_id: int, property_id: int) -> None:
    await make_invoice(session, customer_id, property_id, status="sent")


def _order(status: str, invoice: str | None = None) -> Setup:
    async def setup(session: AsyncSession, customer_id: int, property_id: int) -> None:
        order_id = await make_order(session, customer_id, property_id, status=status)
        if invoice is not None:
            await make_invoice(session, customer_id, None, status=invoice, order_id=order_id)

    return setup


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (_draft_invoice, "PROPERTY_HAS_OPEN_INVOICES"),
        (_sent_invoice, "PROPERTY_HAS_OPEN_INVOICES"),
        (_order("pending"), "HAS_DEPENDENTS"),
        (_order("confirmed"), "HAS_DEPENDENTS"),
        (_order("completed"), "HAS_DEPENDENTS"),
        (_order("completed", invoice="void"), "HAS_DEPENDENTS"),
    ],
)
async def test_move_refused_while_the_customer_has_business_on_it(
    gql: GraphQLClient, session: AsyncSession, setup: Setup, code: str
) -> None:
    seller = await make_customer(session, "Seller")
    buyer = await make_customer(session, "Buyer")
    property_id = await make_property(session, seller, "Villa")
    await _closed_history(session, seller, property_id)
    await setup(session, seller, property_id)
    before = await state(session)
    body = await gql(
        UPDATE,
        {
            "input": {
                "id": gid("Property", property_id),
                "customerId": gid("Customer", buyer),
                "label": "Renamed too",
            }
        },
    )
    error = refused(body, "propertyUpdate", "property")
    assert (error["code"], error["field"]) == (code, ["customerId"])
    assert await state(session) == before


async def test_open_invoices_dont_stop_other_changes(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer_id = await make_customer(session)
    property_id = await make_property(session, customer_id, "Villa")
    await make_invoice(session, customer_id, property_id, status="sent")
    await make_order(session, customer_id, property_id, status="pending")
    body = await gql(
        PLAIN_UPDATE,
        {
            "input": {
                "id": gid("Property", property_id),
                "customerId": gid("Customer", customer_id),
                "label": "Villa Kulla",
            }
        },
    )
    assert ok(body, "propertyUpdate")["property"]["label"] == "Villa Kulla"


# --- propertyDelete -------------------------------------------------------------------------


async def test_delete(gql: GraphQLClient, session: AsyncSession) -> None:
    customer_id = await make_customer(session)
    property_id = await make_property(session, customer_id, "Shed")
    payload = ok(await gql(DELETE, {"id": gid("Property", property_id)}), "propertyDelete")
    assert payload["deletedId"] == gid("Property", property_id)
    assert await session.scalar(select(func.count()).select_from(Property)) == 0
    data = (await gql(EVENTS, {"action": "property.delete"}))["data"]
    [event] = [edge["node"] for edge in data["auditEvents"]["edges"]]
    assert (event["entityType"], event["entityId"]) == ("Property", property_id)
    assert event["changes"]["before"]["label"] == "Shed"
    assert len(await events(session, "property.delete")) == 1


@pytest.mark.parametrize(
    ("kind", "status"), [("order", "cancelled"), ("invoice", "void"), ("invoice", "paid")]
)
async def test_delete_refused_while_referred_to(
    gql: GraphQLClient, session: AsyncSession, kind: str, status: str
) -> None:
    customer_id = await make_customer(session)
    property_id = await make_property(session, customer_id)
    if kind == "order":
        await make_order(session, customer_id, property_id, status=status)
    else:
        await make_invoice(session, customer_id, property_id, status=status)
    before = await state(session)
    error = refused(await gql(DELETE, {"id": gid("Property", property_id)}), "propertyDelete")
    assert (error["code"], error["field"]) == ("HAS_DEPENDENTS", ["id"])
    assert await state(session) == before


async def test_delete_of_an_unknown_property(gql: GraphQLClient, session: AsyncSession) -> None:
    before = await state(session)
    error = refused(await gql(DELETE, {"id": gid("Property", 10**12)}), "propertyDelete")
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["id"])
    assert await state(session) == before


# --- permissions ----------------------------------------------------------------------------


async def test_property_mutations_need_property_write(
    gql: GraphQLClient,
    session: AsyncSession,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    customer_id = await make_customer(session)
    property_id = await make_property(session, customer_id)
    headers = await sign_in(anon_client, session_factory, "helpdesk", ["support"])
    before = await state(session)
    for query, variables in [
        (PLAIN_CREATE, {"input": {"customerId": gid("Customer", customer_id), "label": "X"}}),
        (PLAIN_UPDATE, {"input": {"id": gid("Property", property_id), "label": "X"}}),
        (DELETE, {"id": gid("Property", property_id)}),
    ]:
        forbidden(await gql(query, variables, status=403, **headers))
    assert await state(session) == before


async def test_portal_writer_keeps_to_its_own_customer(
    gql: GraphQLClient,
    session: AsyncSession,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    own = await make_customer(session, "Own")
    other = await make_customer(session, "Other")
    own_site = await make_property(session, own, "Mine")
    other_site = await make_property(session, other, "Theirs")
    headers = await portal_writer(anon_client, session_factory, session, own)
    before = await state(session)
    for query, variables, mutation, field in [
        (
            PLAIN_CREATE,
            {"input": {"customerId": gid("Customer", other), "label": "X"}},
            "propertyCreate",
            ["customerId"],
        ),
        (
            PLAIN_UPDATE,
            {"input": {"id": gid("Property", other_site), "label": "X"}},
            "propertyUpdate",
            ["id"],
        ),
        (
            PLAIN_UPDATE,
            {"input": {"id": gid("Property", own_site), "customerId": gid("Customer", other)}},
            "propertyUpdate",
            ["customerId"],
        ),
        (DELETE, {"id": gid("Property", other_site)}, "propertyDelete", ["id"]),
    ]:
        error = refused(await gql(query, variables, **headers), mutation)
        assert (error["code"], error["field"]) == ("NOT_FOUND", field)
    assert await state(session) == before
    body = await gql(
        PLAIN_UPDATE, {"input": {"id": gid("Property", own_site), "city": "Malmö"}}, **headers
    )
    assert ok(body, "propertyUpdate")["property"]["city"] == "Malmö"


# --- concurrency: a move racing invoiceCreate for the property ------------------------------

INVOICE = """mutation($input: InvoiceCreateInput!) { invoiceCreate(input: $input) {
  invoice { id } errors { code field } } }"""
MOVE = """mutation($input: PropertyUpdateInput!) { propertyUpdate(input: $input) {
  property { id } errors { code field } } }"""


async def test_move_racing_invoice_create(live: LiveApi) -> None:
    """For each of 8 properties, a move to another customer and an invoice for the old one
    at once: exactly one of the two succeeds (the invoice makes the move
    PROPERTY_HAS_OPEN_INVOICES; the move makes the invoice PROPERTY_CUSTOMER_MISMATCH), and
    no invoice ends up on a property of another customer."""
    make = """mutation($n: String!) { customerCreate(input: {name: $n}) { customer { id } } }"""
    seller = (await live.data(make, {"n": "Seller"}))["customerCreate"]["customer"]["id"]
    buyer = (await live.data(make, {"n": "Buyer"}))["customerCreate"]["customer"]["id"]
    sites = []
    for i in range(8):
        created = await live.data(
            PLAIN_CREATE, {"input": {"customerId": seller, "label": f"Site {i}"}}
        )
        sites.append(created["propertyCreate"]["property"]["id"])
    calls = []
    for site in sites:
        calls.append(live.gql(MOVE, {"input": {"id": site, "customerId": buyer}}))
        calls.append(
            live.gql(
                INVOICE,
                {
                    "input": {
                        "customerId": seller,
                        "propertyId": site,
                        "periodStart": "2026-01-01",
                        "periodEnd": "2026-01-31",
                        "issuedDate": "2026-02-01",
                        "dueDate": "2026-03-01",
                        "subtotal": "100.00",
                        "tax": "25.00",
                    }
                },
            )
        )
    responses = await asyncio.gather(*calls)
    bodies = []
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        bodies.append(body["data"])
    for move, invoice in zip(bodies[::2], bodies[1::2], strict=True):
        moved, invoiced = move["propertyUpdate"]["errors"], invoice["invoiceCreate"]["errors"]
        assert (moved == []) != (invoiced == []), (moved, invoiced)  # exactly one succeeded
        if moved:
            assert moved == [{"code": "PROPERTY_HAS_OPEN_INVOICES", "field": ["customerId"]}]
        else:
            assert invoiced == [{"code": "PROPERTY_CUSTOMER_MISMATCH", "field": ["propertyId"]}]
    async with live.session_factory() as session:
        mismatched = await session.scalar(
            select(func.count())
            .select_from(Invoice)
            .join(Property, Property.id == Invoice.property_id)
            .where(Property.customer_id != Invoice.customer_id)
        )
        assert mismatched == 0
