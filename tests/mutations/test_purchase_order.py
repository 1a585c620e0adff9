"""Purchase orders through GraphQL: purchaseOrderUpsert and purchaseOrderChangeState;
every rule with its error code and field, and nothing changed when refused; audit
events; permissions; and, committed for real with parallel requests, racing upserts of
one external id and racing state changes from one version."""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.graph.ids import to_global_id
from opsgraph.models import AuditEvent, Customer, PurchaseOrder
from tests.conftest import GraphQLClient, LiveApi, create_and_sign_in
from tests.mutations.helpers import events, payload_of, refused

PO_FIELDS = """id externalId source state description amount stateVersion availableTransitions
  customer { id externalId }"""
ERRORS = "errors { code message field }"
UPSERT = f"""mutation($input: PurchaseOrderUpsertInput!) {{ purchaseOrderUpsert(input: $input) {{
  purchaseOrder {{ {PO_FIELDS} }} created {ERRORS} }} }}"""
CHANGE = f"""mutation($input: PurchaseOrderChangeStateInput!) {{
  purchaseOrderChangeState(input: $input) {{ purchaseOrder {{ {PO_FIELDS} }} {ERRORS} }} }}"""
HISTORY = """query($ext: String!) { purchaseOrder(externalId: $ext) {
  history(orderBy: {field: ID}) { edges { node { action changes } } } } }"""


# --- helpers ---------------------------------------------------------------------------------


async def make_customer(session: AsyncSession, external_id: str = "C-1") -> int:
    customer_id: int = await session.scalar(
        insert(Customer)
        .values(name=f"Kund {external_id}", external_id=external_id)
        .returning(Customer.id)
    )
    return customer_id


async def make_po(
    session: AsyncSession,
    customer_id: int,
    *,
    external_id: str = "PO-1",
    state: str = "received",
    version: int = 1,
    amount: str = "100.00",
) -> int:
    po_id: int = await session.scalar(
        insert(PurchaseOrder)
        .values(
            external_id=external_id,
            customer_id=customer_id,
            state=state,
            state_version=version,
            amount=Decimal(amount),
            source="north",
            description="Pipes",
        )
        .returning(PurchaseOrder.id)
    )
    return po_id


async def state(session: AsyncSession) -> dict[str, Any]:
    """Every purchase order row and the audit trail's size."""
    rows = await session.execute(text("SELECT * FROM purchase_order ORDER BY id"))
    audits = await session.scalar(select(func.count()).select_from(AuditEvent))
    return {"rows": [tuple(row) for row in rows], "audit": audits}


def upsert_input(**fields: Any) -> dict[str, Any]:
    return {
        "input": {
            "externalId": "PO-1",
            "customerExternalId": "C-1",
            "amount": "100.00",
            **fields,
        }
    }


# --- purchaseOrderUpsert ---------------------------------------------------------------------


async def test_upsert_creates_then_updates(gql: GraphQLClient, session: AsyncSession) -> None:
    customer = await make_customer(session)
    body = await gql(UPSERT, upsert_input(externalId=" PO-1 ", source="north", description="Pipes"))
    payload = payload_of(body, "purchaseOrderUpsert")
    assert (payload["errors"], payload["created"]) == ([], True)
    po = payload["purchaseOrder"]
    assert (po["externalId"], po["state"], po["stateVersion"], po["amount"]) == (
        "PO-1",
        "RECEIVED",
        1,
        "100.00",
    )
    assert po["availableTransitions"] == ["APPROVED", "CANCELLED"]
    assert po["customer"] == {"id": to_global_id("Customer", customer), "externalId": "C-1"}
    row = await session.scalar(select(PurchaseOrder))
    assert row is not None
    assert (row.customer_id, row.source, row.description, row.amount) == (
        customer,
        "north",
        "Pipes",
        Decimal("100.00"),
    )
    [created] = await events(session, "purchase_order.create")
    assert created.entity_id == row.id
    assert created.changes["after"]["amount"] == "100.00"

    # the same external id again: an update of the given fields, the rest kept
    body = await gql(UPSERT, upsert_input(amount="120.5"))
    payload = payload_of(body, "purchaseOrderUpsert")
    assert (payload["errors"], payload["created"]) == ([], False)
    po = payload["purchaseOrder"]
    assert (po["amount"], po["source"], po["description"], po["stateVersion"]) == (
        "120.50",
        "north",
        "Pipes",
        1,  # the version counts state changes only
    )
    assert await session.scalar(select(func.count()).select_from(PurchaseOrder)) == 1
    [updated] = await events(session, "purchase_order.update")
    assert updated.changes == {"before": {"amount": "100.00"}, "after": {"amount": "120.50"}}
    # a re-send of what is stored changes nothing and records nothing
    again = payload_of(await gql(UPSERT, upsert_input(amount="120.50")), "purchaseOrderUpsert")
    assert (again["errors"], again["created"]) == ([], False)
    assert len(await events(session, "purchase_order.update")) == 1
    history = await gql(HISTORY, {"ext": "PO-1"})
    actions = [e["node"]["action"] for e in history["data"]["purchaseOrder"]["history"]["edges"]]
    assert actions == ["purchase_order.create", "purchase_order.update"]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"customerExternalId": "NOPE"}, "NOT_FOUND", ["customerExternalId"]),
        ({"amount": "-0.01"}, "BAD_USER_INPUT", ["amount"]),
        ({"amount": "1.005"}, "BAD_USER_INPUT", ["amount"]),
        ({"amount": "10000000000.00"}, "BAD_USER_INPUT", ["amount"]),
        ({"externalId": "  "}, "BAD_USER_INPUT", ["externalId"]),
        ({"externalId": "x" * 65}, "BAD_USER_INPUT", ["externalId"]),
        ({"source": "s" * 101}, "BAD_USER_INPUT", ["source"]),
        ({"description": "d" * 20_001}, "BAD_USER_INPUT", ["description"]),
    ],
)
async def test_upsert_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    fields: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    await make_customer(session)
    before = await state(session)
    error = refused(await gql(UPSERT, upsert_input(**fields)), "purchaseOrderUpsert")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


async def test_upsert_never_moves_a_purchase_order_to_another_customer(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await make_po(session, await make_customer(session))
    await make_customer(session, "C-2")
    before = await state(session)
    body = await gql(UPSERT, upsert_input(customerExternalId="C-2"))
    error = refused(body, "purchaseOrderUpsert")
    assert (error["code"], error["field"]) == ("CONFLICT", ["customerExternalId"])
    assert await state(session) == before


@pytest.mark.parametrize("final", ["completed", "cancelled"])
async def test_upsert_of_a_final_purchase_order(
    gql: GraphQLClient, session: AsyncSession, final: str
) -> None:
    await make_po(session, await make_customer(session), state=final, version=3)
    before = await state(session)
    body = await gql(UPSERT, upsert_input(amount="99.00"))
    error = refused(body, "purchaseOrderUpsert")
    assert (error["code"], error["field"]) == ("INVALID_STATE", ["externalId"])
    assert error["message"] == f"purchase order PO-1 is {final.upper()}: it can't change any more"
    assert await state(session) == before
    # re-sending it as it is stays harmless
    same = payload_of(await gql(UPSERT, upsert_input()), "purchaseOrderUpsert")
    assert (same["errors"], same["created"]) == ([], False)
    assert same["purchaseOrder"]["state"] == final.upper()
    assert await state(session) == before


# --- purchaseOrderChangeState ----------------------------------------------------------------


async def test_change_state_forward_by_id_or_external_id(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    po = await make_po(session, await make_customer(session))
    steps = [
        ({"id": to_global_id("PurchaseOrder", po)}, "APPROVED", ["IN_PROGRESS", "CANCELLED"]),
        ({"externalId": "PO-1"}, "IN_PROGRESS", ["COMPLETED", "CANCELLED"]),
        ({"externalId": "PO-1"}, "COMPLETED", []),
    ]
    for version, (named, target, available) in enumerate(steps, start=1):
        body = await gql(CHANGE, {"input": {**named, "state": target, "expectedVersion": version}})
        payload = payload_of(body, "purchaseOrderChangeState")
        assert payload["errors"] == [], target
        result = payload["purchaseOrder"]
        assert (result["state"], result["stateVersion"]) == (target, version + 1)
        assert result["availableTransitions"] == available
        row = await session.get_one(PurchaseOrder, po, populate_existing=True)
        assert (row.state, row.state_version) == (target.lower(), version + 1)
    changes = [e.changes for e in await events(session, "purchase_order.change_state")]
    assert changes == [
        {
            "before": {"state": "received", "state_version": 1},
            "after": {"state": "approved", "state_version": 2},
        },
        {
            "before": {"state": "approved", "state_version": 2},
            "after": {"state": "in_progress", "state_version": 3},
        },
        {
            "before": {"state": "in_progress", "state_version": 3},
            "after": {"state": "completed", "state_version": 4},
        },
    ]


async def test_cancel_while_open(gql: GraphQLClient, session: AsyncSession) -> None:
    await make_po(session, await make_customer(session), state="approved", version=2)
    body = await gql(
        CHANGE, {"input": {"externalId": "PO-1", "state": "CANCELLED", "expectedVersion": 2}}
    )
    result = payload_of(body, "purchaseOrderChangeState")["purchaseOrder"]
    assert (result["state"], result["stateVersion"], result["availableTransitions"]) == (
        "CANCELLED",
        3,
        [],
    )


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("received", "COMPLETED"),
        ("received", "IN_PROGRESS"),
        ("received", "RECEIVED"),
        ("approved", "RECEIVED"),
        ("in_progress", "APPROVED"),
        ("completed", "CANCELLED"),
        ("cancelled", "RECEIVED"),
    ],
)
async def test_backward_or_skipping_changes_are_refused(
    gql: GraphQLClient, session: AsyncSession, current: str, target: str
) -> None:
    await make_po(session, await make_customer(session), state=current, version=5)
    before = await state(session)
    body = await gql(
        CHANGE, {"input": {"externalId": "PO-1", "state": target, "expectedVersion": 5}}
    )
    error = refused(body, "purchaseOrderChangeState")
    assert (error["code"], error["field"]) == ("INVALID_TRANSITION", ["state"])
    assert await state(session) == before


@pytest.mark.parametrize("expected", [1, 2, 4, 0])
async def test_stale_versions_are_refused_with_the_current_one(
    gql: GraphQLClient, session: AsyncSession, expected: int
) -> None:
    await make_po(session, await make_customer(session), state="approved", version=3)
    before = await state(session)
    body = await gql(
        CHANGE,
        {"input": {"externalId": "PO-1", "state": "IN_PROGRESS", "expectedVersion": expected}},
    )
    error = refused(body, "purchaseOrderChangeState")
    assert (error["code"], error["field"]) == ("STALE_VERSION", ["expectedVersion"])
    assert "version 3" in error["message"]
    assert await state(session) == before


@pytest.mark.parametrize(
    ("named", "code", "field"),
    [
        ({}, "BAD_USER_INPUT", ["id"]),
        ({"id": "ID", "externalId": "PO-1"}, "BAD_USER_INPUT", ["id"]),
        ({"externalId": "PO-404"}, "NOT_FOUND", ["externalId"]),
        ({"id": to_global_id("PurchaseOrder", 10**9)}, "NOT_FOUND", ["id"]),
        ({"id": to_global_id("Ticket", 1)}, "BAD_USER_INPUT", ["id"]),
    ],
)
async def test_change_state_needs_one_existing_purchase_order(
    gql: GraphQLClient,
    session: AsyncSession,
    named: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    po = await make_po(session, await make_customer(session))
    if named.get("id") == "ID":
        named = {**named, "id": to_global_id("PurchaseOrder", po)}
    before = await state(session)
    body = await gql(CHANGE, {"input": {**named, "state": "APPROVED", "expectedVersion": 1}})
    error = refused(body, "purchaseOrderChangeState")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


# --- permissions -----------------------------------------------------------------------------


async def test_callers_without_purchase_order_write_are_forbidden(
    anon_gql: GraphQLClient,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    customer = await make_customer(session)
    await make_po(session, customer)
    accountant = await create_and_sign_in(anon_client, session_factory, "anna", ["accountant"])
    portal = await create_and_sign_in(
        anon_client, session_factory, "kund", ["customer"], customer_id=customer
    )
    before = await state(session)
    change = {"input": {"externalId": "PO-1", "state": "APPROVED", "expectedVersion": 1}}
    for query, variables in [(UPSERT, upsert_input(amount="5")), (CHANGE, change)]:
        for headers in (accountant, portal):
            response = await anon_gql.http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            assert response.status_code == 403, response.text
            assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await state(session) == before


# --- concurrency (committed for real, parallel connections) ----------------------------------


async def test_concurrent_changes_from_one_version_exactly_one_wins(live: LiveApi) -> None:
    """Without ``state_version = :expected`` in the service's UPDATE (the version checked
    only by the read before it), 3-5 of the 10 won here: the check is the UPDATE's."""
    async with live.session_factory() as session:
        await make_po(session, await make_customer(session), state="approved", version=7)
        await session.commit()
    variables = {"input": {"externalId": "PO-1", "state": "IN_PROGRESS", "expectedVersion": 7}}
    responses = await asyncio.gather(*(live.gql(CHANGE, variables) for _ in range(10)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    payloads = [r.json()["data"]["purchaseOrderChangeState"] for r in responses]
    won = [p for p in payloads if not p["errors"]]
    lost = [p["errors"] for p in payloads if p["errors"]]
    assert len(won) == 1
    assert won[0]["purchaseOrder"]["stateVersion"] == 8
    assert len(lost) == 9
    assert all(
        e == [{"code": "STALE_VERSION", "message": e[0]["message"], "field": ["expectedVersion"]}]
        for e in lost
    )
    assert all("version 8" in e[0]["message"] for e in lost)
    async with live.session_factory() as session:
        row = await session.scalar(select(PurchaseOrder))
        assert row is not None
        assert (row.state, row.state_version) == ("in_progress", 8)
        assert len(await events(session, "purchase_order.change_state")) == 1


async def test_concurrent_upserts_of_one_new_external_id_create_it_once(live: LiveApi) -> None:
    """Without ``ON CONFLICT DO NOTHING`` (and the re-read after it), the losers of the
    race to insert fail here with a unique violation (a masked 'Unexpected error.')."""
    async with live.session_factory() as session:
        await make_customer(session)
        await session.commit()
    responses = await asyncio.gather(
        *(live.gql(UPSERT, upsert_input(amount=f"{10 + i}.00")) for i in range(10))
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    payloads = [r.json()["data"]["purchaseOrderUpsert"] for r in responses]
    assert [p["errors"] for p in payloads] == [[]] * 10
    assert sorted(p["created"] for p in payloads) == [False] * 9 + [True]
    async with live.session_factory() as session:
        [row] = (await session.scalars(select(PurchaseOrder))).all()
        assert (row.state, row.state_version) == ("received", 1)
        assert len(await events(session, "purchase_order.create")) == 1
        # the amounts all differ: each of the other nine updated it, one after the other
        # (the row locked), each from the amount the one before it left
        updates = await events(session, "purchase_order.update")
        assert len(updates) == 9
        for earlier, later in itertools.pairwise(updates):
            assert later.changes["before"] == earlier.changes["after"]
        assert row.amount == Decimal(updates[-1].changes["after"]["amount"])
