"""paymentRecord through GraphQL: partial and final payments, the income transaction,
audit events, dry runs; every refusal's typed code and field path, and that it changed
nothing (payments, transactions, invoice status, audit events)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import GraphQLClient, create_and_sign_in
from tests.mutations.helpers import gid
from tests.mutations.test_invoice import (
    audit_events,
    billing_state,
    invoice_row,
    make_customer,
    make_invoice,
    top_code,
)

PAY = """mutation($input: PaymentRecordInput!) { paymentRecord(input: $input) {
  payment { id amount method reference paidAt invoice { id } }
  invoice { id number status amountPaid balanceDue }
  errors { code message field } } }"""


def pay_input(invoice_id: int, amount: str = "400.00", **fields: Any) -> dict[str, Any]:
    return {
        "invoiceId": gid("Invoice", invoice_id),
        "amount": amount,
        "method": "BANK_TRANSFER",
        "reference": f"BG {amount}",
        **fields,
    }


async def pay(gql: GraphQLClient, fields: dict[str, Any]) -> dict[str, Any]:
    body = await gql(PAY, {"input": fields})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["paymentRecord"]
    return payload


def refusal(payload: dict[str, Any], code: str, field: list[str]) -> str:
    assert (payload["payment"], payload["invoice"]) == (None, None), payload
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, field), error
    message: str = error["message"]
    return message


async def rows(session: AsyncSession, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await session.execute(text(sql), params)]


async def add_payment(session: AsyncSession, invoice: int, amount: str, reference: str) -> None:
    await session.execute(
        text(
            "INSERT INTO payment (invoice_id, amount, paid_at, method, reference) "
            "VALUES (:id, :amount, now(), 'card', :reference)"
        ),
        {"id": invoice, "amount": Decimal(amount), "reference": reference},
    )


async def test_a_part_payment_keeps_the_invoice_sent(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    invoice = await make_invoice(session, await make_customer(session))
    paid_at = "2026-05-10T00:30:00+02:00"  # 9 May in UTC: booked on the day as given
    payload = await pay(gql, pay_input(invoice, paidAt=paid_at, reference=" BG 1234 "))
    assert payload["errors"] == []
    payment = payload["payment"]
    assert (payment["amount"], payment["method"], payment["reference"]) == (
        "400.00",
        "BANK_TRANSFER",
        "BG 1234",
    )
    assert dt.datetime.fromisoformat(payment["paidAt"]) == dt.datetime.fromisoformat(paid_at)
    assert payment["invoice"]["id"] == gid("Invoice", invoice)
    assert payload["invoice"]["status"] == "SENT"
    assert (payload["invoice"]["amountPaid"], payload["invoice"]["balanceDue"]) == (
        "400.00",
        "600.00",
    )
    number = payload["invoice"]["number"]
    [(payment_id, created_by)] = await rows(session, "SELECT id, created_by FROM payment")
    assert gid("Payment", payment_id) == payment["id"]
    assert await rows(
        session,
        "SELECT kind, amount, occurred_on, description, payment_id, created_by "
        "FROM financial_transaction",
    ) == [
        (
            "income",
            Decimal("400.00"),
            dt.date(2026, 5, 10),
            f"Payment BG 1234 of invoice {number}",
            payment_id,
            created_by,
        )
    ]
    [recorded] = await audit_events(session, "payment.record")
    assert (recorded.entity_type, recorded.entity_id) == ("Payment", payment_id)
    assert recorded.changes["after"]["amount"] == "400.00"
    assert recorded.changes["after"]["reference"] == "BG 1234"
    assert recorded.changes["invoice_number"] == number
    [booked] = await audit_events(session, "transaction.create")
    assert booked.entity_type == "FinancialTransaction"
    assert booked.changes["payment_id"] == payment_id
    assert await audit_events(session, "invoice.pay") == []


async def test_the_payment_of_the_rest_makes_it_paid(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    invoice = await make_invoice(session, await make_customer(session))
    await add_payment(session, invoice, "960.00", "first")
    payload = await pay(gql, pay_input(invoice, "40.00", method="CASH"))
    assert payload["errors"] == []
    assert payload["invoice"]["status"] == "PAID"
    assert (payload["invoice"]["amountPaid"], payload["invoice"]["balanceDue"]) == (
        "1000.00",
        "0.00",
    )
    assert (await invoice_row(session, invoice)).status == "paid"
    [event] = await audit_events(session, "invoice.pay")
    assert (event.entity_type, event.entity_id) == ("Invoice", invoice)
    assert event.changes["before"] == {"status": "sent"}
    assert event.changes["after"] == {"status": "paid"}
    [(payment_id,)] = await rows(session, "SELECT id FROM payment WHERE reference = 'BG 40.00'")
    assert event.changes["payment_id"] == payment_id


async def test_paid_at_defaults_to_now_and_is_utc_without_offset(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    invoice = await make_invoice(session, await make_customer(session))
    before = dt.datetime.now(dt.UTC)
    now = await pay(gql, pay_input(invoice, "1.00"))
    made = dt.datetime.fromisoformat(now["payment"]["paidAt"])
    assert before <= made <= dt.datetime.now(dt.UTC)
    naive = await pay(gql, pay_input(invoice, "2.00", paidAt="2026-05-03T12:00:00"))
    assert dt.datetime.fromisoformat(naive["payment"]["paidAt"]) == dt.datetime(
        2026, 5, 3, 12, tzinfo=dt.UTC
    )


CASES: list[tuple[str, dict[str, Any], str, list[str], str]] = [
    ("missing", {}, "NOT_FOUND", ["invoiceId"], "no invoice"),
    ("sent", {"invoiceId": "bad"}, "BAD_USER_INPUT", ["invoiceId"], "not a valid id"),
    ("paid", {}, "INVOICE_ALREADY_PAID", ["invoiceId"], "is PAID already"),
    ("void", {}, "INVOICE_VOID", ["invoiceId"], "is VOID: it can't be paid"),
    ("draft", {}, "INVOICE_NOT_SENT", ["invoiceId"], "send it"),
    ("sent", {"amount": "0"}, "BAD_USER_INPUT", ["amount"], "more than 0"),
    ("sent", {"amount": "-5.00"}, "BAD_USER_INPUT", ["amount"], "more than 0"),
    ("sent", {"amount": "10.005"}, "BAD_USER_INPUT", ["amount"], "2 decimals"),
    (
        "sent",
        {"amount": "40.01"},
        "PAYMENT_EXCEEDS_BALANCE",
        ["amount"],
        "the remaining balance is 40.00",
    ),
    ("sent", {"reference": " first "}, "DUPLICATE_REFERENCE", ["reference"], "'first'"),
    ("sent", {"reference": "   "}, "BAD_USER_INPUT", ["reference"], "blank"),
    ("sent", {"reference": "r" * 101}, "BAD_USER_INPUT", ["reference"], "at most 100"),
    ("sent", {"paidAt": "2099-01-01T00:00:00Z"}, "BAD_USER_INPUT", ["paidAt"], "future"),
]


@pytest.mark.parametrize(("status", "fields", "code", "field", "named"), CASES)
@pytest.mark.parametrize("dry_run", [False, True])
async def test_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    status: str,
    fields: dict[str, Any],
    code: str,
    field: list[str],
    named: str,
    dry_run: bool,
) -> None:
    customer = await make_customer(session)
    invoice = await make_invoice(
        session, customer, status="sent" if status == "missing" else status
    )
    await add_payment(session, invoice, "960.00" if status != "paid" else "1000.00", "first")
    target = invoice + 1000 if status == "missing" else invoice
    before = await billing_state(session)
    payload = await pay(gql, pay_input(target, **{"amount": "10.00", **fields}, dryRun=dry_run))
    assert named in refusal(payload, code, field)
    assert await billing_state(session) == before


async def test_the_unique_constraint_is_the_last_line_for_references(
    gql: GraphQLClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if another request had used the reference between the check and the insert."""
    invoice = await make_invoice(session, await make_customer(session))
    await add_payment(session, invoice, "1.00", "BG 10.00")
    before = await billing_state(session)
    real_scalar = AsyncSession.scalar

    async def blind_scalar(self: AsyncSession, statement: Any, *args: Any, **kw: Any) -> Any:
        if "payment.reference" in str(statement):
            return None  # the check sees no payment with that reference
        return await real_scalar(self, statement, *args, **kw)

    monkeypatch.setattr(AsyncSession, "scalar", blind_scalar)
    payload = await pay(gql, pay_input(invoice, "10.00"))
    monkeypatch.undo()
    assert "already has a payment" in refusal(payload, "DUPLICATE_REFERENCE", ["reference"])
    assert await billing_state(session) == before


async def test_a_dry_run_shows_the_payment_and_keeps_nothing(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    invoice = await make_invoice(session, await make_customer(session))
    await add_payment(session, invoice, "960.00", "first")
    before = await billing_state(session)
    payload = await pay(gql, pay_input(invoice, "40.00", dryRun=True))
    assert payload["errors"] == []
    assert payload["payment"]["amount"] == "40.00"
    assert payload["payment"]["reference"] == "BG 40.00"
    assert payload["invoice"]["status"] == "PAID"
    assert (payload["invoice"]["amountPaid"], payload["invoice"]["balanceDue"]) == (
        "1000.00",
        "0.00",
    )
    assert await billing_state(session) == before
    # and the real one after it works the same
    real = await pay(gql, pay_input(invoice, "40.00"))
    assert (real["errors"], real["invoice"]["status"]) == ([], "PAID")


@pytest.mark.parametrize("role", ["support", "staff"])
async def test_payment_write_is_needed(
    gql: GraphQLClient,
    session: AsyncSession,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    role: str,
) -> None:
    """``staff`` reads payments and invoices but may not write them."""
    invoice = await make_invoice(session, await make_customer(session))
    await session.commit()
    headers = await create_and_sign_in(anon_client, session_factory, "sue", [role])
    before = await billing_state(session)
    for dry_run in (False, True):
        body = await gql(PAY, {"input": pay_input(invoice, dryRun=dry_run)}, status=403, **headers)
        assert top_code(body) == "FORBIDDEN"
        assert "paymentRecord needs the permission payment:write" in body["errors"][0]["message"]
    assert await billing_state(session) == before
