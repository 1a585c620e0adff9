"""Invoices and payments under concurrent load: requests that commit for real, over a pool
of 40 connections, fired at once with ``asyncio.gather`` so they truly overlap. The
assertions are exact counts; nothing depends on timing."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from opsgraph.models import Customer, Invoice
from tests.conftest import LiveApi
from tests.mutations.helpers import gid
from tests.mutations.test_invoice import (
    CREATE,
    FROM_ORDER,
    create_input,
    make_order,
)
from tests.mutations.test_payment import PAY

PAYMENTS = 200
INVOICE_CREATES = 50


def payloads(responses: list[httpx.Response], field: str) -> list[dict[str, Any]]:
    """Each response's payload; every one a 200 without top-level errors (no 500, no
    serialization failure or deadlock reached a client)."""
    found = []
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        found.append(body["data"][field])
    return found


async def scalar(live: LiveApi, sql: str, **params: Any) -> Any:
    async with live.session_factory() as session:
        return await session.scalar(text(sql), params)


async def make_customer_and_invoice(live: LiveApi) -> tuple[int, int]:
    async with live.session_factory() as session:
        customer = Customer(name="Samtidig AB")
        session.add(customer)
        await session.flush()
        invoice = Invoice(
            number="C-1",
            customer_id=customer.id,
            period_start=dt.date(2026, 4, 1),
            period_end=dt.date(2026, 4, 30),
            issued_date=dt.date(2026, 5, 1),
            due_date=dt.date(2026, 5, 31),
            subtotal=Decimal("800.00"),
            tax=Decimal("200.00"),
            total=Decimal("1000.00"),
            status="sent",
        )
        session.add(invoice)
        await session.commit()
        return customer.id, invoice.id


async def test_200_payments_of_10_never_pay_more_than_1000(live: LiveApi) -> None:
    """200 payments of 10.00 at once against one 1,000.00 invoice: exactly 100 are kept.

    Without the row lock this fails. Tried (2026-12-02) by taking ``.with_for_update()``
    out of ``invoice_for_update`` (opsgraph/services/invoice.py), with which paymentRecord
    locks the invoice before summing its payments, and running this test 6 times: every
    run failed at ``len(kept) == 100``, with 114, 109, 110, 108, 104 and 108 payments
    kept: the invoice was paid 1,040.00-1,140.00. Concurrent transactions each summed only
    the payments committed before them, so many saw the same balance left and all got in.
    In the runs we looked at closely the invoice also stayed ``sent`` (no payment saw its
    own sum reach exactly 1,000.00, so none made it ``paid`` and no ``invoice.pay`` event
    was recorded), and the 92-96 refused all got PAYMENT_EXCEEDS_BALANCE. No request got a
    500 or a top-level error either way. With the lock the payments of one invoice take
    turns, each sees every payment committed before it, and the counts below are exact.
    """
    _, invoice = await make_customer_and_invoice(live)
    responses = await asyncio.gather(
        *(
            live.gql(
                PAY,
                {
                    "input": {
                        "invoiceId": gid("Invoice", invoice),
                        "amount": "10.00",
                        "method": "CARD",
                        "reference": f"KORT {n:03}",
                    }
                },
            )
            for n in range(PAYMENTS)
        )
    )
    results = payloads(list(responses), "paymentRecord")
    kept = [r for r in results if not r["errors"]]
    refused = [r for r in results if r["errors"]]
    assert len(kept) == 100
    assert len(refused) == 100
    codes = Counter(error["code"] for r in refused for error in r["errors"])
    assert sum(codes.values()) == 100
    assert set(codes) <= {"PAYMENT_EXCEEDS_BALANCE", "INVOICE_ALREADY_PAID"}, codes
    assert all(r["payment"] is None and r["invoice"] is None for r in refused)
    assert {r["payment"]["amount"] for r in kept} == {"10.00"}
    assert len({r["payment"]["reference"] for r in kept}) == 100

    assert await scalar(live, "SELECT count(*) FROM payment") == 100
    assert await scalar(live, "SELECT sum(amount) FROM payment") == Decimal("1000.00")
    assert await scalar(live, "SELECT status FROM invoice WHERE id = :id", id=invoice) == "paid"
    income = "FROM financial_transaction WHERE kind = 'income' AND payment_id IS NOT NULL"
    assert await scalar(live, f"SELECT count(*) {income}") == 100
    assert await scalar(live, f"SELECT sum(amount) {income}") == Decimal("1000.00")
    events = "SELECT count(*) FROM audit_event WHERE action = :action"
    assert await scalar(live, events, action="payment.record") == 100
    assert await scalar(live, events, action="invoice.pay") == 1


async def test_50_invoices_at_once_are_numbered_without_gaps(live: LiveApi) -> None:
    """The year's counter row is made by one of them (after the highest number already
    there, INV-2026-00007) and then taken in turns: 50 distinct, consecutive numbers."""
    customer, _ = await make_customer_and_invoice(live)
    async with live.session_factory() as session:
        await session.execute(
            text("UPDATE invoice SET number = 'INV-2026-00007' WHERE customer_id = :c"),
            {"c": customer},
        )
        await session.commit()
    responses = await asyncio.gather(
        *(live.gql(CREATE, {"input": create_input(customer)}) for _ in range(INVOICE_CREATES))
    )
    results = payloads(list(responses), "invoiceCreate")
    assert [r["errors"] for r in results] == [[]] * INVOICE_CREATES
    numbers = sorted(r["invoice"]["number"] for r in results)
    assert numbers == [f"INV-2026-{n:05d}" for n in range(8, 8 + INVOICE_CREATES)]
    assert (
        await scalar(live, "SELECT last_number FROM invoice_number_counter WHERE year = 2026")
        == 7 + INVOICE_CREATES
    )
    assert await scalar(live, "SELECT count(*) FROM invoice") == 1 + INVOICE_CREATES


async def test_one_order_invoiced_at_once_ten_times_gets_one_invoice(live: LiveApi) -> None:
    """The order's row lock (and the unique index behind it) lets one invoice through;
    the rest are told it is already invoiced, and no number is lost."""
    customer, _ = await make_customer_and_invoice(live)
    async with live.session_factory() as session:
        order = await make_order(session, customer, status="completed")
        await session.commit()
    variables = {"input": {"orderId": gid("Order", order), "issuedDate": "2026-06-01"}}
    responses = await asyncio.gather(*(live.gql(FROM_ORDER, variables) for _ in range(10)))
    results = payloads(list(responses), "invoiceCreateFromOrder")
    kept = [r for r in results if not r["errors"]]
    assert len(kept) == 1
    assert kept[0]["invoice"]["number"] == "INV-2026-00001"
    codes = [error["code"] for r in results if r["errors"] for error in r["errors"]]
    assert codes == ["ALREADY_INVOICED"] * 9
    assert await scalar(live, "SELECT count(*) FROM invoice WHERE order_id = :o", o=order) == 1
    assert (
        await scalar(live, "SELECT last_number FROM invoice_number_counter WHERE year = 2026") == 1
    )


async def test_50_identical_payments_with_one_idempotency_key_pay_once(live: LiveApi) -> None:
    """The same paymentRecord 50 times at once, all with one Idempotency-Key: one payment
    and one income booking; every response is the first one's (49 say they are replays)."""
    _, invoice = await make_customer_and_invoice(live)
    variables = {
        "input": {
            "invoiceId": gid("Invoice", invoice),
            "amount": "250.00",
            "method": "CARD",
            "reference": "once-only",
        }
    }
    responses = await asyncio.gather(
        *(live.gql(PAY, variables, **{"Idempotency-Key": "pay-once"}) for _ in range(50))
    )
    [first, *_] = found = payloads(list(responses), "paymentRecord")
    assert first["errors"] == []
    assert all(payload == first for payload in found)
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 49
    assert await scalar(live, "SELECT count(*) FROM payment WHERE invoice_id = :i", i=invoice) == 1
    assert (
        await scalar(
            live,
            "SELECT count(*) FROM financial_transaction t JOIN payment p ON p.id = t.payment_id "
            "WHERE p.invoice_id = :i",
            i=invoice,
        )
        == 1
    )
    paid = await scalar(live, "SELECT sum(amount) FROM payment WHERE invoice_id = :i", i=invoice)
    assert paid == Decimal("250.00")
