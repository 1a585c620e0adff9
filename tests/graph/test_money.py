"""An invoice's money against PostgreSQL: amount paid, balance due and overdue, in their
SQL and Python forms, and the UTC day that decides overdue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.graph import clock, money
from opsgraph.models import Customer, Invoice, Payment

DUE = dt.date(2026, 5, 31)


async def make_invoice(
    session: AsyncSession,
    *,
    status: str = "sent",
    total: str = "100.00",
    payments: tuple[str, ...] = (),
) -> Invoice:
    customer = Customer(name="Pengar AB", email="pengar@example.com")
    session.add(customer)
    await session.flush()
    invoice = Invoice(
        number=f"M-{customer.id}",
        customer_id=customer.id,
        period_start=dt.date(2026, 4, 1),
        period_end=dt.date(2026, 4, 30),
        issued_date=dt.date(2026, 5, 1),
        due_date=DUE,
        subtotal=Decimal(total),
        tax=Decimal("0.00"),
        total=Decimal(total),
        status=status,
    )
    session.add(invoice)
    await session.flush()
    for n, amount in enumerate(payments):
        session.add(
            Payment(
                invoice_id=invoice.id,
                amount=Decimal(amount),
                method="card",
                reference=f"R-{n}",
                paid_at=dt.datetime(2026, 5, 2 + n, 12, tzinfo=dt.UTC),
            )
        )
    await session.flush()
    return invoice


async def paid_of(session: AsyncSession, invoice: Invoice) -> Decimal:
    return Decimal(await session.scalar(money.amount_paid(invoice.id)) or 0)


async def test_amount_paid_sums_every_payment_and_is_zero_without_any(
    session: AsyncSession,
) -> None:
    several = await make_invoice(session, payments=("10.00", "20.50", "0.25"))
    none = await make_invoice(session)
    assert await paid_of(session, several) == Decimal("30.75")
    assert await paid_of(session, none) == 0

    chosen = money.paid_by_invoice().where(Payment.invoice_id.in_([several.id, none.id]))
    rows = dict((await session.execute(chosen)).all())
    assert rows == {several.id: Decimal("30.75")}  # no row: nothing paid

    paid = money.paid_by_invoice().subquery()
    joined = (
        select(Invoice.id, money.balance_due_sql(paid.c.paid))
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.id.in_([several.id, none.id]))
    )
    balances = dict((await session.execute(joined)).all())
    assert balances == {several.id: Decimal("69.25"), none.id: Decimal("100.00")}
    assert money.balance_due(several, await paid_of(session, several)) == Decimal("69.25")
    assert money.balance_due(none, money.ZERO) == Decimal("100.00")


async def test_a_void_invoice_owes_nothing(session: AsyncSession) -> None:
    void = await make_invoice(session, status="void", total="250.00")
    draft = await make_invoice(session, status="draft", total="250.00")
    row = (await session.execute(select(Invoice.__table__).where(Invoice.id == void.id))).one()
    assert money.balance_due(row, money.ZERO) == money.ZERO  # a Core row, as compiled reads
    assert money.balance_due(void, money.ZERO) == money.ZERO
    assert money.balance_due(draft, money.ZERO) == Decimal("250.00")

    paid = money.paid_by_invoice().subquery()
    owed = (
        select(Invoice.id, money.balance_due_sql(paid.c.paid))
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.id.in_([void.id, draft.id]))
    )
    assert dict((await session.execute(owed)).all()) == {
        void.id: 0,
        draft.id: Decimal("250.00"),
    }
    assert not money.is_overdue(void, money.ZERO, today=DUE + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (dt.datetime(2026, 5, 31, 23, 59, 59, 999999, tzinfo=dt.UTC), False),
        (dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.UTC), True),
        # still 31 May in New York, already 1 June in UTC: UTC decides
        (dt.datetime(2026, 5, 31, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=-4))), True),
        # already 1 June in Stockholm, still 31 May in UTC
        (dt.datetime(2026, 6, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), False),
    ],
)
async def test_overdue_starts_at_the_utc_day_after_the_due_date(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, now: dt.datetime, overdue: bool
) -> None:
    invoice = await make_invoice(session, payments=("40.00",))
    monkeypatch.setattr(clock, "now", lambda: now)
    paid = await paid_of(session, invoice)
    assert money.is_overdue(invoice, paid) is overdue
    row = (await session.execute(select(Invoice.__table__).where(Invoice.id == invoice.id))).one()
    assert money.is_overdue(row, paid) is overdue


async def test_only_a_sent_invoice_not_fully_paid_is_overdue(session: AsyncSession) -> None:
    later = DUE + dt.timedelta(days=10)
    paid_up = await make_invoice(session, payments=("60.00", "40.00"))
    draft = await make_invoice(session, status="draft")
    assert not money.is_overdue(paid_up, await paid_of(session, paid_up), today=later)
    assert not money.is_overdue(draft, money.ZERO, today=later)
    assert not money.is_overdue(paid_up, Decimal("99.99"), today=DUE)


def test_a_day_is_taken_in_utc_and_a_time_without_offset_has_none() -> None:
    assert clock.now().utcoffset() == dt.timedelta(0)
    evening = dt.datetime(2026, 5, 31, 22, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    assert clock.day_of(evening) == dt.date(2026, 6, 1)
    assert clock.day_start(dt.date(2026, 6, 1)) == dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="no time zone"):
        clock.day_of(dt.datetime(2026, 6, 1, 12))  # noqa: DTZ001
