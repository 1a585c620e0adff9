"""Customers through GraphQL: customerCreate, customerUpdate, customerUpsert and
customerDelete; every refusal with its code and field, changing nothing; the audit trail
(``Customer.history``); concurrent upserts and creates of one external id.

The helpers here (``state``, ``make_customer``, ``make_order``, ``make_invoice``, ...) are
shared with the property and transaction tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.auth.permissions import PORTAL_SCOPED
from opsgraph.graph.ids import to_global_id
from opsgraph.models import (
    Customer,
    Invoice,
    Order,
    Property,
    PurchaseOrder,
    Role,
    RolePermission,
    Ticket,
)
from tests.conftest import GraphQLClient, LiveApi, create_and_sign_in
from tests.mutations.helpers import events, gid, refused

ERRORS = "errors { code message field }"
CUSTOMER = "id externalId name email phone orgNo orderCount"
HISTORY = "history { edges { node { action changes } } }"
CREATE = f"""mutation($input: CustomerCreateInput!) {{ customerCreate(input: $input) {{
  customer {{ {CUSTOMER} {HISTORY} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: CustomerUpdateInput!) {{ customerUpdate(input: $input) {{
  customer {{ {CUSTOMER} {HISTORY} }} {ERRORS} }} }}"""
UPSERT = f"""mutation($input: CustomerUpsertInput!) {{ customerUpsert(input: $input) {{
  customer {{ {CUSTOMER} }} created {ERRORS} }} }}"""
DELETE = f"""mutation($id: ID!) {{ customerDelete(input: {{id: $id}}) {{ deletedId {ERRORS} }} }}"""
PLAIN_UPDATE = f"""mutation($input: CustomerUpdateInput!) {{ customerUpdate(input: $input) {{
  customer {{ {CUSTOMER} }} {ERRORS} }} }}"""
PLAIN_CREATE = f"""mutation($input: CustomerCreateInput!) {{ customerCreate(input: $input) {{
  customer {{ {CUSTOMER} }} {ERRORS} }} }}"""
READ = f"""query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER} {HISTORY} }} }}"""
EVENTS = """query($action: String!) { auditEvents(filter: {action: $action}) {
  edges { node { action entityType entityId changes } } } }"""

STATE_QUERIES = {
    "customers": "SELECT id, external_id, name, email, phone, org_no, order_count, updated_at "
    "FROM customer",
    "properties": "SELECT id, customer_id, label, address_line1, address_line2, postal_code, "
    "city, country, notes, updated_at FROM property",
    "orders": 'SELECT id, customer_id, property_id, status FROM "order"',
    "invoices": "SELECT id, customer_id, property_id, status FROM invoice",
    "tickets": "SELECT id, customer_id FROM ticket",
    "purchase_orders": "SELECT id, customer_id FROM purchase_order",
    "users": 'SELECT id, customer_id FROM "user"',
    "transactions": "SELECT id, kind, amount, occurred_on, description, payment_id "
    "FROM financial_transaction",
    "audit": "SELECT id, action, entity_type, entity_id FROM audit_event",
}


async def state(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a customer, property or transaction mutation could touch: equal before
    and after a refused mutation."""
    found = {}
    for name, query in STATE_QUERIES.items():
        rows = await session.execute(text(f"{query} ORDER BY 1"))
        found[name] = [tuple(row) for row in rows]
    return found


def ok(body: dict[str, Any], mutation: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][mutation]
    assert payload["errors"] == [], payload
    return payload


def forbidden(body: dict[str, Any]) -> None:
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN", body


def actions(history: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(edge["node"]["action"], edge["node"]["changes"]) for edge in history["edges"]]


# --- test data, written straight to the database --------------------------------------------


async def make_customer(session: AsyncSession, name: str = "Acme AB", **fields: Any) -> int:
    customer_id = await session.scalar(
        insert(Customer).values(name=name, **fields).returning(Customer.id)
    )
    assert customer_id is not None
    return customer_id


async def make_property(session: AsyncSession, customer_id: int, label: str = "HQ") -> int:
    property_id = await session.scalar(
        insert(Property).values(customer_id=customer_id, label=label).returning(Property.id)
    )
    assert property_id is not None
    return property_id


async def make_order(
    session: AsyncSession,
    customer_id: int,
    property_id: int | None = None,
    status: str = "pending",
) -> int:
    order_id = await session.scalar(
        insert(Order)
        .values(customer_id=customer_id, property_id=property_id, status=status)
        .returning(Order.id)
    )
    assert order_id is not None
    return order_id


async def make_invoice(
    session: AsyncSession,
    customer_id: int,
    property_id: int | None = None,
    status: str = "draft",
    order_id: int | None = None,
    total: Decimal = Decimal("100.00"),
) -> int:
    count = await session.scalar(select(func.count()).select_from(Invoice))
    invoice_id = await session.scalar(
        insert(Invoice)
        .values(
            number=f"T-{count}-{customer_id}-{status}",
            customer_id=customer_id,
            property_id=property_id,
            order_id=order_id,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 1, 31),
            issued_date=dt.date(2026, 2, 1),
            due_date=dt.date(2026, 3, 1),
            subtotal=total,
            tax=Decimal("0.00"),
            total=total,
            status=status,
        )
        .returning(Invoice.id)
    )
    assert invoice_id is not None
    return invoice_id


async def sign_in(
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    username: str,
    roles: list[str],
    customer_id: int | None = None,
) -> dict[str, str]:
    return await create_and_sign_in(
        anon_client, session_factory, username, roles, customer_id=customer_id
    )


async def portal_writer(
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    customer_id: int,
) -> dict[str, str]:
    """A portal user of ``customer_id`` whose (custom, ``portal:scoped``) role may write
    customers and properties: it still acts only on its own customer."""
    role_id = await session.scalar(
        insert(Role).values(name="portal-writer", description="").returning(Role.id)
    )
    await session.execute(
        insert(RolePermission),
        [
            {"role_id": role_id, "permission": permission}
            for permission in (
                PORTAL_SCOPED,
                "customer:read",
                "customer:write",
                "property:read",
                "property:write",
            )
        ],
    )
    await session.commit()
    return await sign_in(anon_client, session_factory, "portal", ["portal-writer"], customer_id)


# --- customerCreate -------------------------------------------------------------------------


async def test_create_normalises_and_audits(gql: GraphQLClient, session: AsyncSession) -> None:
    body = await gql(
        CREATE,
        {
            "input": {
                "name": "  Acme AB ",
                "externalId": " ERP-1 ",
                "email": " Info@ACME.Example ",
                "phone": " +46 8 123 ",
                "orgNo": "556677-8899",
            }
        },
    )
    customer = ok(body, "customerCreate")["customer"]
    assert {k: v for k, v in customer.items() if k not in ("id", "history")} == {
        "externalId": "ERP-1",
        "name": "Acme AB",
        "email": "info@acme.example",
        "phone": "+46 8 123",
        "orgNo": "556677-8899",
        "orderCount": 0,
    }
    after = {
        "external_id": "ERP-1",
        "name": "Acme AB",
        "email": "info@acme.example",
        "phone": "+46 8 123",
        "org_no": "556677-8899",
    }
    assert actions(customer["history"]) == [("customer.create", {"after": after})]
    row = (await session.execute(select(Customer.name, Customer.email))).one()
    assert tuple(row) == ("Acme AB", "info@acme.example")


async def test_create_without_optional_fields(gql: GraphQLClient) -> None:
    customer = ok(await gql(CREATE, {"input": {"name": "Solo"}}), "customerCreate")["customer"]
    assert (customer["externalId"], customer["email"], customer["phone"]) == (None, None, None)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"name": "   "}, "BAD_USER_INPUT", ["name"]),
        ({"name": "n" * 201}, "BAD_USER_INPUT", ["name"]),
        ({"email": "not-an-address"}, "INVALID_EMAIL", ["email"]),
        ({"email": "anna@localhost"}, "INVALID_EMAIL", ["email"]),
        ({"email": "two@@example.com"}, "INVALID_EMAIL", ["email"]),
        ({"externalId": "ERP-TAKEN"}, "DUPLICATE_EXTERNAL_ID", ["externalId"]),
        ({"externalId": "  "}, "BAD_USER_INPUT", ["externalId"]),
        ({"externalId": "x" * 65}, "BAD_USER_INPUT", ["externalId"]),
        ({"phone": "1" * 41}, "BAD_USER_INPUT", ["phone"]),
        ({"orgNo": "1" * 33}, "BAD_USER_INPUT", ["orgNo"]),
    ],
)
async def test_create_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, fields: dict[str, Any], code: str, field: list[str]
) -> None:
    await make_customer(session, "Taken", external_id="ERP-TAKEN")
    before = await state(session)
    body = await gql(CREATE, {"input": {"name": "New", **fields}})
    error = refused(body, "customerCreate", "customer")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


# --- customerUpdate -------------------------------------------------------------------------


async def test_update_changes_given_fields_only(gql: GraphQLClient, session: AsyncSession) -> None:
    customer_id = await make_customer(
        session, "Old Name", email="old@example.com", phone="123", org_no="1"
    )
    body = await gql(
        UPDATE,
        {"input": {"id": gid("Customer", customer_id), "name": "New Name", "phone": None}},
    )
    customer = ok(body, "customerUpdate")["customer"]
    assert (customer["name"], customer["email"], customer["phone"], customer["orgNo"]) == (
        "New Name",
        "old@example.com",
        None,
        "1",
    )
    assert actions(customer["history"]) == [
        (
            "customer.update",
            {
                "before": {"name": "Old Name", "phone": "123"},
                "after": {"name": "New Name", "phone": None},
            },
        )
    ]


async def test_update_that_changes_nothing_records_nothing(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer_id = await make_customer(session, "Same", email="same@example.com")
    before = await state(session)
    body = await gql(
        UPDATE,
        {
            "input": {
                "id": gid("Customer", customer_id),
                "name": " Same ",
                "email": "SAME@example.com",
            }
        },
    )
    assert ok(body, "customerUpdate")["customer"]["name"] == "Same"
    assert await state(session) == before


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"name": None}, "BAD_USER_INPUT", ["name"]),
        ({"name": ""}, "BAD_USER_INPUT", ["name"]),
        ({"email": "nope@"}, "INVALID_EMAIL", ["email"]),
        ({"externalId": "ERP-TAKEN"}, "DUPLICATE_EXTERNAL_ID", ["externalId"]),
        ({"id": "bm90IGFuIGlk"}, "BAD_USER_INPUT", ["id"]),
        ({"id": to_global_id("Property", 1)}, "BAD_USER_INPUT", ["id"]),
        ({"id": to_global_id("Customer", 10**12)}, "NOT_FOUND", ["id"]),
    ],
)
async def test_update_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, fields: dict[str, Any], code: str, field: list[str]
) -> None:
    await make_customer(session, "Taken", external_id="ERP-TAKEN")
    customer_id = await make_customer(session, "Mine", external_id="ERP-MINE")
    before = await state(session)
    body = await gql(UPDATE, {"input": {"id": gid("Customer", customer_id), **fields}})
    error = refused(body, "customerUpdate", "customer")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


async def test_update_may_clear_and_change_external_id(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer_id = await make_customer(session, "Mine", external_id="ERP-1")
    variables = {"input": {"id": gid("Customer", customer_id), "externalId": None}}
    assert ok(await gql(UPDATE, variables), "customerUpdate")["customer"]["externalId"] is None
    variables["input"]["externalId"] = "ERP-2"
    assert ok(await gql(UPDATE, variables), "customerUpdate")["customer"]["externalId"] == "ERP-2"


async def test_update_keeps_what_is_left_out_and_clears_what_is_null(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer_id = await make_customer(
        session, "Mine", external_id="ERP-7", email="a@example.com", phone="42", org_no="556"
    )
    variables = {"input": {"id": gid("Customer", customer_id), "phone": None, "orgNo": "557"}}
    customer = ok(await gql(UPDATE, variables), "customerUpdate")["customer"]
    assert (
        customer["name"],
        customer["externalId"],
        customer["email"],
        customer["phone"],
        customer["orgNo"],
    ) == ("Mine", "ERP-7", "a@example.com", None, "557")


# --- customerUpsert -------------------------------------------------------------------------


async def test_upsert_creates_then_updates(gql: GraphQLClient, session: AsyncSession) -> None:
    first = ok(
        await gql(
            UPSERT,
            {"input": {"externalId": "ERP-9", "name": "Nine", "email": "Nine@Example.com"}},
        ),
        "customerUpsert",
    )
    assert first["created"] is True
    assert (first["customer"]["name"], first["customer"]["email"]) == ("Nine", "nine@example.com")
    second = ok(
        await gql(UPSERT, {"input": {"externalId": "ERP-9", "name": "Nine AB", "phone": "42"}}),
        "customerUpsert",
    )
    assert second["created"] is False
    assert second["customer"]["id"] == first["customer"]["id"]
    # a field left out is kept
    assert (
        second["customer"]["name"],
        second["customer"]["email"],
        second["customer"]["phone"],
    ) == (
        "Nine AB",
        "nine@example.com",
        "42",
    )
    assert await session.scalar(select(func.count()).select_from(Customer)) == 1
    history = (await gql(READ, {"id": first["customer"]["id"]}))["data"]["customer"]["history"]
    assert actions(history) == [
        (
            "customer.create",
            {
                "after": {
                    "external_id": "ERP-9",
                    "name": "Nine",
                    "email": "nine@example.com",
                    "phone": None,
                    "org_no": None,
                },
                "upsert": True,
            },
        ),
        (
            "customer.update",
            {
                "before": {"name": "Nine", "phone": None},
                "after": {"name": "Nine AB", "phone": "42"},
                "upsert": True,
            },
        ),
    ]


async def test_upsert_of_an_existing_customer_changing_nothing(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await make_customer(session, "Same", external_id="ERP-S")
    before = await state(session)
    payload = ok(
        await gql(UPSERT, {"input": {"externalId": "ERP-S", "name": "Same"}}), "customerUpsert"
    )
    assert payload["created"] is False
    assert await state(session) == before


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"externalId": " "}, "BAD_USER_INPUT", ["externalId"]),
        ({"name": " "}, "BAD_USER_INPUT", ["name"]),
        ({"email": "bad"}, "INVALID_EMAIL", ["email"]),
        ({"externalId": "ERP-OLD", "email": "bad"}, "INVALID_EMAIL", ["email"]),
        ({"externalId": "ERP-OLD", "name": ""}, "BAD_USER_INPUT", ["name"]),
    ],
)
async def test_upsert_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, fields: dict[str, Any], code: str, field: list[str]
) -> None:
    await make_customer(session, "Old", external_id="ERP-OLD")
    before = await state(session)
    body = await gql(UPSERT, {"input": {"externalId": "ERP-NEW", "name": "New", **fields}})
    error = refused(body, "customerUpsert", "customer", "created")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


# --- customerDelete -------------------------------------------------------------------------


async def test_delete_takes_the_properties_along(gql: GraphQLClient, session: AsyncSession) -> None:
    customer_id = await make_customer(session, "Gone", external_id="ERP-G")
    first = await make_property(session, customer_id, "Site A")
    second = await make_property(session, customer_id, "Site B")
    other = await make_customer(session, "Stays")
    kept = await make_property(session, other, "Elsewhere")
    payload = ok(await gql(DELETE, {"id": gid("Customer", customer_id)}), "customerDelete")
    assert payload["deletedId"] == gid("Customer", customer_id)
    assert list(await session.scalars(select(Customer.id))) == [other]
    assert list(await session.scalars(select(Property.id))) == [kept]
    data = (await gql(EVENTS, {"action": "customer.delete"}))["data"]
    [event] = [edge["node"] for edge in data["auditEvents"]["edges"]]
    assert (event["entityType"], event["entityId"]) == ("Customer", customer_id)
    assert event["changes"] == {
        "before": {
            "external_id": "ERP-G",
            "name": "Gone",
            "email": None,
            "phone": None,
            "org_no": None,
        },
        "properties_deleted": [first, second],
    }
    deleted = [
        (e.entity_type, e.entity_id, e.changes["reason"])
        for e in await events(session, "property.delete")
    ]
    assert deleted == [
        ("Property", first, "customer deleted"),
        ("Property", second, "customer deleted"),
    ]
    assert (await gql(READ, {"id": gid("Customer", customer_id)}))["data"]["customer"] is None


async def _with_order(session: AsyncSession, customer_id: int) -> None:
    await make_order(session, customer_id, status="cancelled")


async def _with_invoice(session: AsyncSession, customer_id: int) -> None:
    await make_invoice(session, customer_id, status="void")


async def _with_ticket(session: AsyncSession, customer_id: int) -> None:
    session.add(Ticket(customer_id=customer_id, subject="Leak", status="open"))
    await session.flush()


async def _with_purchase_order(session: AsyncSession, customer_id: int) -> None:
    session.add(PurchaseOrder(external_id="PO-1", customer_id=customer_id))
    await session.flush()


async def _with_portal_user(session: AsyncSession, customer_id: int) -> None:
    await session.execute(
        text(
            'INSERT INTO "user" (username, email, password_hash, customer_id) '
            "VALUES ('portal-1', 'portal-1@example.com', 'x', :c)"
        ),
        {"c": customer_id},
    )


async def _with_order_of_another_customer_on_its_property(
    session: AsyncSession, customer_id: int
) -> None:
    """Its property was moved here from a customer whose order still names it."""
    previous = await make_customer(session, "Previous owner")
    prop = await make_property(session, customer_id, "Moved here")
    await make_order(session, previous, prop, status="completed")


async def _with_invoice_of_another_customer_on_its_property(
    session: AsyncSession, customer_id: int
) -> None:
    previous = await make_customer(session, "Previous owner")
    prop = await make_property(session, customer_id, "Moved here")
    await make_invoice(session, previous, prop, status="paid")


@pytest.mark.parametrize(
    ("setup", "named"),
    [
        (_with_order, "1 orders"),
        (_with_invoice, "1 invoices"),
        (_with_ticket, "1 tickets"),
        (_with_purchase_order, "1 purchase orders"),
        (_with_portal_user, "1 portal users"),
        (_with_order_of_another_customer_on_its_property, "1 orders"),
        (_with_invoice_of_another_customer_on_its_property, "1 invoices"),
    ],
)
async def test_delete_refused_while_anything_refers_to_it(
    gql: GraphQLClient, session: AsyncSession, setup: Any, named: str
) -> None:
    customer_id = await make_customer(session, "Busy")
    await make_property(session, customer_id, "Own site")
    await setup(session, customer_id)
    before = await state(session)
    error = refused(
        await gql(DELETE, {"id": gid("Customer", customer_id)}), "customerDelete", "deletedId"
    )
    assert (error["code"], error["field"]) == ("HAS_DEPENDENTS", ["id"])
    assert named in error["message"]
    assert await state(session) == before


async def test_delete_of_an_unknown_customer(gql: GraphQLClient, session: AsyncSession) -> None:
    before = await state(session)
    error = refused(await gql(DELETE, {"id": gid("Customer", 10**12)}), "customerDelete")
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["id"])
    assert await state(session) == before


# --- permissions ----------------------------------------------------------------------------


async def test_customer_mutations_need_customer_write(
    gql: GraphQLClient,
    session: AsyncSession,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    customer_id = await make_customer(session, "Acme", external_id="ERP-1")
    headers = await sign_in(anon_client, session_factory, "helpdesk", ["support"])
    before = await state(session)
    for query, variables in [
        (CREATE, {"input": {"name": "New"}}),
        (UPDATE, {"input": {"id": gid("Customer", customer_id), "name": "X"}}),
        (UPSERT, {"input": {"externalId": "ERP-1", "name": "X"}}),
        (DELETE, {"id": gid("Customer", customer_id)}),
    ]:
        forbidden(await gql(query, variables, status=403, **headers))
    assert await state(session) == before


async def test_portal_writer_acts_only_on_its_own_customer(
    gql: GraphQLClient,
    session: AsyncSession,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    own = await make_customer(session, "Own")
    other = await make_customer(session, "Other")
    headers = await portal_writer(anon_client, session_factory, session, own)
    before = await state(session)
    body = await gql(
        PLAIN_UPDATE, {"input": {"id": gid("Customer", other), "name": "X"}}, **headers
    )
    error = refused(body, "customerUpdate", "customer")
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["id"])
    forbidden(await gql(PLAIN_CREATE, {"input": {"name": "New"}}, **headers))
    forbidden(await gql(DELETE, {"id": gid("Customer", own)}, **headers))
    assert await state(session) == before
    body = await gql(PLAIN_UPDATE, {"input": {"id": gid("Customer", own), "phone": "1"}}, **headers)
    assert ok(body, "customerUpdate")["customer"]["phone"] == "1"


# --- concurrency: requests that commit for real, in parallel ---------------------------------


async def test_concurrent_upserts_of_one_new_external_id(live: LiveApi) -> None:
    """20 upserts of one new external id at once: one creates, 19 update, none fails.

    The 19 losers find no row, then lose at ``INSERT ... ON CONFLICT DO NOTHING`` and
    update the winner's row. With a plain INSERT there instead, they fail with a unique
    violation ("Unexpected error." at the top level): this test then fails."""
    responses = await asyncio.gather(
        *(
            live.gql(UPSERT, {"input": {"externalId": "ERP-RACE", "name": f"Racer {i}"}})
            for i in range(20)
        )
    )
    payloads = []
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        payloads.append(body["data"]["customerUpsert"])
    assert [p["errors"] for p in payloads] == [[]] * 20
    assert sorted(p["created"] for p in payloads) == [False] * 19 + [True]
    assert len({p["customer"]["id"] for p in payloads}) == 1
    async with live.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 1
        assert len(await events(session, "customer.create")) == 1
        # every update renamed the customer (no two racers share a name)
        assert len(await events(session, "customer.update")) == 19


async def test_concurrent_creates_of_one_external_id(live: LiveApi) -> None:
    """20 creates with one external id at once: one wins, 19 get DUPLICATE_EXTERNAL_ID
    (most pass the check first and lose at the unique index)."""
    responses = await asyncio.gather(
        *(
            live.gql(CREATE, {"input": {"externalId": "ERP-DUP", "name": f"Racer {i}"}})
            for i in range(20)
        )
    )
    codes = []
    for response in responses:
        assert response.status_code == 200, response.text
        payload = response.json()["data"]["customerCreate"]
        codes.append(payload["errors"][0]["code"] if payload["errors"] else "OK")
    assert sorted(codes) == ["DUPLICATE_EXTERNAL_ID"] * 19 + ["OK"]
    async with live.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 1
        assert len(await events(session, "customer.create")) == 1


async def test_delete_racing_property_creates(live: LiveApi) -> None:
    """A delete and 10 propertyCreate for the same customer at once: whatever the order,
    nothing fails unexpectedly and nothing is left behind (a property made first goes with
    the customer; one made after finds no customer)."""
    created = await live.data(CREATE, {"input": {"name": "Doomed"}})
    customer = created["customerCreate"]["customer"]["id"]
    make = """mutation($c: ID!, $l: String!) { propertyCreate(input: {customerId: $c, label: $l}) {
      property { id } errors { code field } } }"""
    responses = await asyncio.gather(
        live.gql(DELETE, {"id": customer}),
        *(live.gql(make, {"c": customer, "l": f"Site {i}"}) for i in range(10)),
    )
    for response in responses:
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
    assert responses[0].json()["data"]["customerDelete"]["errors"] == []
    for response in responses[1:]:
        errors = response.json()["data"]["propertyCreate"]["errors"]
        assert errors in ([], [{"code": "NOT_FOUND", "field": ["customerId"]}])
    async with live.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 0
        assert await session.scalar(select(func.count()).select_from(Property)) == 0
