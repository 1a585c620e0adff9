"""Financial transactions through GraphQL: transactionCreate, transactionUpdate,
transactionDelete; money rules; those booked by a payment stay as they are
(BOOKED_BY_PAYMENT); every refusal with its code and field, changing nothing; the audit
trail (``FinancialTransaction.history``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.graph.ids import to_global_id
from opsgraph.models import FinancialTransaction, Payment
from tests.conftest import GraphQLClient
from tests.mutations.helpers import events, gid, refused
from tests.mutations.test_customer import (
    ERRORS,
    HISTORY,
    actions,
    forbidden,
    make_customer,
    make_invoice,
    ok,
    sign_in,
    state,
)

TYPE = "FinancialTransaction"
ENTRY = "id kind amount occurredOn description createdBy { username } payment { id }"
CREATE = f"""mutation($input: TransactionCreateInput!) {{ transactionCreate(input: $input) {{
  transaction {{ {ENTRY} {HISTORY} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: TransactionUpdateInput!) {{ transactionUpdate(input: $input) {{
  transaction {{ {ENTRY} {HISTORY} }} {ERRORS} }} }}"""
DELETE = f"""mutation($id: ID!) {{ transactionDelete(input: {{id: $id}}) {{
  deletedId {ERRORS} }} }}"""
PLAIN_CREATE = f"""mutation($input: TransactionCreateInput!) {{ transactionCreate(input: $input) {{
  transaction {{ id }} {ERRORS} }} }}"""
PLAIN_UPDATE = f"""mutation($input: TransactionUpdateInput!) {{ transactionUpdate(input: $input) {{
  transaction {{ id }} {ERRORS} }} }}"""
EVENTS = """query($action: String!) { auditEvents(filter: {action: $action}) {
  edges { node { entityType entityId changes } } } }"""
NEW = {"kind": "EXPENSE", "amount": "99.90", "occurredOn": "2026-05-04", "description": "Fuel"}


async def make_entry(session: AsyncSession, **fields: Any) -> int:
    values = {
        "kind": "expense",
        "amount": Decimal("50.00"),
        "occurred_on": dt.date(2026, 5, 1),
        "description": "Paper",
    } | fields
    entry_id = await session.scalar(
        insert(FinancialTransaction).values(**values).returning(FinancialTransaction.id)
    )
    assert entry_id is not None
    return entry_id


async def make_booked_entry(session: AsyncSession) -> int:
    """An income transaction booked by a payment (as paymentRecord writes it)."""
    customer_id = await make_customer(session)
    invoice_id = await make_invoice(session, customer_id, status="sent")
    payment_id = await session.scalar(
        insert(Payment)
        .values(
            invoice_id=invoice_id,
            amount=Decimal("40.00"),
            paid_at=dt.datetime(2026, 5, 2, tzinfo=dt.UTC),
            method="card",
            reference="R-1",
        )
        .returning(Payment.id)
    )
    return await make_entry(
        session, kind="income", amount=Decimal("40.00"), payment_id=payment_id, description="R-1"
    )


# --- transactionCreate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"), [("1250.5", "1250.50"), ("7.230", "7.23"), (12, "12.00")]
)
async def test_create_books_and_audits(
    gql: GraphQLClient, session: AsyncSession, given: Any, stored: str
) -> None:
    body = await gql(
        CREATE,
        {
            "input": {
                "kind": "INCOME",
                "amount": given,
                "occurredOn": "2026-05-04",
                "description": "  Consulting  ",
            }
        },
    )
    entry = ok(body, "transactionCreate")["transaction"]
    assert {k: v for k, v in entry.items() if k not in ("id", "history")} == {
        "kind": "INCOME",
        "amount": stored,
        "occurredOn": "2026-05-04",
        "description": "Consulting",
        "createdBy": {"username": "test-admin"},
        "payment": None,
    }
    assert actions(entry["history"]) == [
        (
            "transaction.create",
            {
                "after": {
                    "kind": "income",
                    "amount": stored,
                    "occurred_on": "2026-05-04",
                    "description": "Consulting",
                }
            },
        )
    ]
    assert await session.scalar(select(FinancialTransaction.amount)) == Decimal(stored)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "0"}, ["amount"]),
        ({"amount": "0.00"}, ["amount"]),
        ({"amount": "-5.00"}, ["amount"]),
        ({"amount": "1.005"}, ["amount"]),
        ({"amount": "0.001"}, ["amount"]),
        ({"amount": "10000000000.00"}, ["amount"]),
        ({"description": "d" * 2001}, ["description"]),
    ],
)
async def test_create_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, fields: dict[str, Any], field: list[str]
) -> None:
    before = await state(session)
    error = refused(await gql(CREATE, {"input": NEW | fields}), "transactionCreate", "transaction")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    assert await state(session) == before


# --- transactionUpdate ----------------------------------------------------------------------


async def test_update_changes_given_fields_only(gql: GraphQLClient, session: AsyncSession) -> None:
    entry_id = await make_entry(session)
    body = await gql(
        UPDATE,
        {"input": {"id": gid(TYPE, entry_id), "amount": "55.5", "kind": "TRANSFER"}},
    )
    entry = ok(body, "transactionUpdate")["transaction"]
    assert (entry["kind"], entry["amount"], entry["occurredOn"], entry["description"]) == (
        "TRANSFER",
        "55.50",
        "2026-05-01",
        "Paper",
    )
    assert actions(entry["history"]) == [
        (
            "transaction.update",
            {
                "before": {"kind": "expense", "amount": "50.00"},
                "after": {"kind": "transfer", "amount": "55.50"},
            },
        )
    ]


async def test_update_description_null_empties_it(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    entry_id = await make_entry(session)
    body = await gql(UPDATE, {"input": {"id": gid(TYPE, entry_id), "description": None}})
    assert ok(body, "transactionUpdate")["transaction"]["description"] == ""


async def test_update_that_changes_nothing_records_nothing(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    entry_id = await make_entry(session)
    before = await state(session)
    body = await gql(
        PLAIN_UPDATE, {"input": {"id": gid(TYPE, entry_id), "amount": "50", "kind": "EXPENSE"}}
    )
    assert ok(body, "transactionUpdate")["transaction"]["id"] == gid(TYPE, entry_id)
    assert await state(session) == before


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"amount": None}, "BAD_USER_INPUT", ["amount"]),
        ({"amount": "0"}, "BAD_USER_INPUT", ["amount"]),
        ({"amount": "3.141"}, "BAD_USER_INPUT", ["amount"]),
        ({"kind": None}, "BAD_USER_INPUT", ["kind"]),
        ({"occurredOn": None}, "BAD_USER_INPUT", ["occurredOn"]),
        ({"description": "d" * 2001}, "BAD_USER_INPUT", ["description"]),
        ({"id": to_global_id(TYPE, 10**12)}, "NOT_FOUND", ["id"]),
        ({"id": to_global_id("Payment", 1)}, "BAD_USER_INPUT", ["id"]),
    ],
)
async def test_update_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, fields: dict[str, Any], code: str, field: list[str]
) -> None:
    entry_id = await make_entry(session)
    before = await state(session)
    body = await gql(UPDATE, {"input": {"id": gid(TYPE, entry_id), **fields}})
    error = refused(body, "transactionUpdate", "transaction")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


async def test_update_of_a_transaction_booked_by_a_payment(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    entry_id = await make_booked_entry(session)
    before = await state(session)
    body = await gql(UPDATE, {"input": {"id": gid(TYPE, entry_id), "amount": "1.00"}})
    error = refused(body, "transactionUpdate", "transaction")
    assert (error["code"], error["field"]) == ("BOOKED_BY_PAYMENT", ["id"])
    assert await state(session) == before


# --- transactionDelete ----------------------------------------------------------------------


async def test_delete(gql: GraphQLClient, session: AsyncSession) -> None:
    entry_id = await make_entry(session)
    payload = ok(await gql(DELETE, {"id": gid(TYPE, entry_id)}), "transactionDelete")
    assert payload["deletedId"] == gid(TYPE, entry_id)
    assert list(await session.scalars(select(FinancialTransaction.id))) == []
    data = (await gql(EVENTS, {"action": "transaction.delete"}))["data"]
    [event] = [edge["node"] for edge in data["auditEvents"]["edges"]]
    assert (event["entityType"], event["entityId"]) == (TYPE, entry_id)
    assert event["changes"] == {
        "before": {
            "kind": "expense",
            "amount": "50.00",
            "occurred_on": "2026-05-01",
            "description": "Paper",
        }
    }
    assert len(await events(session, "transaction.delete")) == 1


async def test_delete_of_a_transaction_booked_by_a_payment(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    entry_id = await make_booked_entry(session)
    before = await state(session)
    error = refused(await gql(DELETE, {"id": gid(TYPE, entry_id)}), "transactionDelete")
    assert (error["code"], error["field"]) == ("BOOKED_BY_PAYMENT", ["id"])
    assert await state(session) == before


async def test_delete_of_an_unknown_transaction(gql: GraphQLClient, session: AsyncSession) -> None:
    before = await state(session)
    error = refused(await gql(DELETE, {"id": gid(TYPE, 10**12)}), "transactionDelete")
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["id"])
    assert await state(session) == before


# --- permissions ----------------------------------------------------------------------------


async def test_transaction_mutations_need_transaction_write(
    gql: GraphQLClient,
    session: AsyncSession,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    entry_id = await make_entry(session)
    headers = await sign_in(anon_client, session_factory, "clerk", ["staff"])
    before = await state(session)
    for query, variables in [
        (PLAIN_CREATE, {"input": NEW}),
        (PLAIN_UPDATE, {"input": {"id": gid(TYPE, entry_id), "amount": "1.00"}}),
        (DELETE, {"id": gid(TYPE, entry_id)}),
    ]:
        forbidden(await gql(query, variables, status=403, **headers))
    assert await state(session) == before


async def test_an_accountant_may_book(
    gql: GraphQLClient,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    headers = await sign_in(anon_client, session_factory, "counter", ["accountant"])
    ok(await gql(PLAIN_CREATE, {"input": NEW}, **headers), "transactionCreate")
