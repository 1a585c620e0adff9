"""Invoices: invoiceCreate, invoiceCreateFromOrder, invoiceSend, invoiceVoid.

Numbers are ``INV-<year of issue>-<5+ digits>``, unique and sequential without gaps: the
next one is taken from the year's ``invoice_number_counter`` row, which stays locked until
the transaction ends, so invoices of one year are numbered one at a time and a rollback
gives the number back. A year's counter starts after the highest ``INV-<year>-`` number
already there (the demo seed's); a number somebody took by hand is skipped, never reused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, cast, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import (
    AlreadyInvoiced,
    InvalidInput,
    InvalidState,
    InvoiceAlreadyPaid,
    InvoiceHasPayments,
)
from opsgraph.events.emit import emit
from opsgraph.events.payload import diff, fields_of
from opsgraph.graph import clock, money
from opsgraph.graph.names import enum_value, name_of, named
from opsgraph.models import (
    Invoice,
    InvoiceNumberCounter,
    InvoiceStatus,
    Order,
    OrderStatus,
    Payment,
)
from opsgraph.permissions import Permission
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import MAX_MONEY, InputChecks, checked_money, checked_text
from opsgraph.services.customer import lock_customer
from opsgraph.services.property import check_property_of
from opsgraph.services.rows import flush_unique, locked
from opsgraph.services.transitions import INVOICE

NUMBER_PREFIX = "INV"
DEFAULT_PAYMENT_TERMS_DAYS = 30
MAX_PAYMENT_TERMS_DAYS = 365
MAX_REASON = 1000
# what the audit trail keeps of an invoice
FIELDS = (
    "number",
    "status",
    "customer_id",
    "order_id",
    "property_id",
    "period_start",
    "period_end",
    "issued_date",
    "due_date",
    "subtotal",
    "tax",
    "total",
)
LIVE_ORDER_INDEX = "uq_invoice_order_id_live"
# what invoice.created carries; what identifies an invoice in its status events
EVENT_FIELDS = ("id", *FIELDS)
IDENTIFYING = ("id", "number", "customer_id", "order_id", "total")
# the event of each status an invoice moves to
STATUS_EVENTS = {
    InvoiceStatus.sent: "invoice.sent",
    InvoiceStatus.paid: "invoice.paid",
    InvoiceStatus.void: "invoice.voided",
}


def format_number(year: int, number: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{number:05d}"


async def _take_counter(session: AsyncSession, year: int) -> int:
    """Add one to the year's counter and return it; the row stays locked until the
    transaction ends. A missing row is made, starting after the highest number of that
    year already given (if two requests make it at once, one waits and adds one)."""
    taken = await session.scalar(
        update(InvoiceNumberCounter)
        .where(InvoiceNumberCounter.year == year)
        .values(last_number=InvoiceNumberCounter.last_number + 1)
        .returning(InvoiceNumberCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    if taken is not None:
        return int(taken)
    pattern = f"^{NUMBER_PREFIX}-{year}-([0-9]{{1,9}})$"
    highest = select(
        func.coalesce(func.max(cast(func.substring(Invoice.number, pattern), BigInteger)), 0)
    ).scalar_subquery()
    made = await session.scalar(
        insert(InvoiceNumberCounter)
        .values(year=year, last_number=highest + 1)
        .on_conflict_do_update(
            index_elements=[InvoiceNumberCounter.year],
            set_={"last_number": InvoiceNumberCounter.last_number + 1},
        )
        .returning(InvoiceNumberCounter.last_number)
    )
    assert made is not None  # noqa: S101 - an upsert returns its row
    return int(made)


async def next_invoice_number(session: AsyncSession, year: int) -> str:
    """The next free number of ``year``, without gaps (see the module's docstring)."""
    while True:
        number = format_number(year, await _take_counter(session, year))
        if await session.scalar(select(Invoice.id).where(Invoice.number == number)) is None:
            return number


def _check_period(period_start: dt.date, period_end: dt.date) -> None:
    if period_start > period_end:
        raise InvalidInput(
            f"periodEnd ({period_end}) is before periodStart ({period_start})",
            field=["periodEnd"],
        )


def _check_due(issued_date: dt.date, due_date: dt.date) -> None:
    if issued_date > due_date:
        raise InvalidInput(
            f"dueDate ({due_date}) is before issuedDate ({issued_date})", field=["dueDate"]
        )


async def _add_invoice(session: AsyncSession, invoice: Invoice, actor: Principal) -> Invoice:
    session.add(invoice)
    invoiced_meanwhile = AlreadyInvoiced(
        f"{named('Order', invoice.order_id)} already has an invoice that is not "
        f"{enum_value(InvoiceStatus.void)}",
        field=["orderId"],
    )
    await flush_unique(session, constraint=LIVE_ORDER_INDEX, error=invoiced_meanwhile)
    source: dict[str, Any] = {} if invoice.order_id is None else {"order_id": invoice.order_id}
    record(
        session,
        actor,
        "invoice.create",
        "Invoice",
        invoice.id,
        after=snapshot(invoice, FIELDS),
        **source,
    )
    await emit(
        session,
        "invoice.created",
        entity_type="Invoice",
        entity_id=invoice.id,
        customer_id=invoice.customer_id,
        data=fields_of(invoice, EVENT_FIELDS, type_name="Invoice"),
        actor=actor,
    )
    await session.flush()
    return invoice


async def create_invoice(
    session: AsyncSession,
    *,
    customer_id: int,
    property_id: int | None,
    period_start: dt.date,
    period_end: dt.date,
    issued_date: dt.date,
    due_date: dt.date,
    subtotal: Decimal,
    tax: Decimal,
    total: Decimal | None = None,
    actor: Principal,
) -> Invoice:
    """A draft invoice. ``total`` may be left out (it is subtotal + tax); given, it must be
    exactly that. Every broken input rule is reported at once (amounts, period, due date)."""
    actor.require(Permission.INVOICE_WRITE)
    actor.require_staff("write invoices")
    checks = InputChecks()
    with checks:
        subtotal = checked_money(subtotal, field="subtotal")
    with checks:
        tax = checked_money(tax, field="tax")
    with checks:
        total = None if total is None else checked_money(total, field="total")
    if not checks.failed:  # the amounts are good: check the sum
        computed = subtotal + tax
        if total is not None and total != computed:
            checks.add(
                InvalidInput(
                    f"total ({total}) must be subtotal + tax ({subtotal} + {tax} = {computed})",
                    field=["total"],
                )
            )
        elif computed > MAX_MONEY:
            checks.add(InvalidInput(f"total must be at most {MAX_MONEY}", field=["total"]))
    with checks:
        _check_period(period_start, period_end)
    with checks:
        _check_due(issued_date, due_date)
    checks.done()
    await lock_customer(session, customer_id)  # a racing customerDelete waits for us
    if property_id is not None:
        await check_property_of(session, property_id, customer_id)
    invoice = Invoice(
        number=await next_invoice_number(session, issued_date.year),
        customer_id=customer_id,
        order_id=None,
        property_id=property_id,
        period_start=period_start,
        period_end=period_end,
        issued_date=issued_date,
        due_date=due_date,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        status=InvoiceStatus.draft.value,
    )
    return await _add_invoice(session, invoice, actor)


def _due_date(issued: dt.date, due_date: dt.date | None, terms_days: int | None) -> dt.date:
    if due_date is not None and terms_days is not None:
        raise InvalidInput("give dueDate or paymentTermsDays, not both", field=["paymentTermsDays"])
    if due_date is not None:
        return due_date
    days = DEFAULT_PAYMENT_TERMS_DAYS if terms_days is None else terms_days
    if not 0 <= days <= MAX_PAYMENT_TERMS_DAYS:
        raise InvalidInput(
            f"paymentTermsDays must be 0-{MAX_PAYMENT_TERMS_DAYS}, not {days}",
            field=["paymentTermsDays"],
        )
    return issued + dt.timedelta(days=days)


async def create_invoice_from_order(
    session: AsyncSession,
    *,
    order_id: int,
    issued_date: dt.date | None = None,
    due_date: dt.date | None = None,
    payment_terms_days: int | None = None,
    actor: Principal,
) -> Invoice:
    """A draft invoice for an order that is not cancelled and has no live (non-void)
    invoice: its customer, property and amounts; the period is the day it was placed.
    Issued today unless ``issued_date``; due ``payment_terms_days`` (default 30) later
    unless ``due_date``. The order's lines are the invoice's (``Invoice.lines``)."""
    actor.require(Permission.INVOICE_WRITE)
    actor.require_staff("write invoices")
    issued = issued_date if issued_date is not None else clock.today()
    due = _due_date(issued, due_date, payment_terms_days)
    _check_due(issued, due)
    # the order's lock makes two invoices of one order take turns (and waits for a cancel)
    order = await locked(session, Order, order_id, field="orderId")
    if order.status == OrderStatus.cancelled.value:
        raise InvalidState(
            f"{name_of(order)} is {enum_value(order.status)}: it can't be invoiced",
            field=["orderId"],
        )
    existing = await session.scalar(
        select(Invoice.number).where(
            Invoice.order_id == order_id, Invoice.status != InvoiceStatus.void.value
        )
    )
    if existing is not None:
        raise AlreadyInvoiced(
            f"{name_of(order)} is already invoiced: {named('Invoice', key=existing)}",
            field=["orderId"],
        )
    placed = order.placed_at.date()
    invoice = Invoice(
        number=await next_invoice_number(session, issued.year),
        customer_id=order.customer_id,
        order_id=order.id,
        property_id=order.property_id,
        period_start=placed,
        period_end=placed,
        issued_date=issued,
        due_date=due,
        subtotal=order.subtotal,
        tax=order.tax,
        total=order.total,
        status=InvoiceStatus.draft.value,
    )
    return await _add_invoice(session, invoice, actor)


async def invoice_for_update(session: AsyncSession, invoice_id: int, *, field: str) -> Invoice:
    """The invoice, locked until the transaction ends (and read again, should this session
    have it already); ``NotFound`` at ``field``."""
    return await locked(session, Invoice, invoice_id, field=field, populate_existing=True)


async def set_invoice_status(
    session: AsyncSession,
    actor: Principal,
    invoice: Invoice,
    status: InvoiceStatus,
    action: str,
    *,
    field: str,
    **extra: Any,
) -> None:
    """Move the (locked) invoice to ``status`` if ``transitions.INVOICE`` allows it
    (``INVALID_TRANSITION`` at ``field`` otherwise), record ``action`` with ``extra`` and
    emit the status's event (``STATUS_EVENTS``) with ``extra`` as event data."""
    INVOICE.check(invoice.status, status.value, field=field)
    before = snapshot(invoice, ("status",))
    invoice.status = status.value
    after = snapshot(invoice, ("status",))
    record(session, actor, action, "Invoice", invoice.id, before=before, after=after, **extra)
    await emit(
        session,
        STATUS_EVENTS[status],
        entity_type="Invoice",
        entity_id=invoice.id,
        customer_id=invoice.customer_id,
        data={
            **fields_of(invoice, IDENTIFYING, type_name="Invoice"),
            **fields_of(extra, extra),
            "changes": diff(before, after),
        },
        actor=actor,
    )


async def send_invoice(session: AsyncSession, *, invoice_id: int, actor: Principal) -> Invoice:
    """draft -> sent."""
    actor.require(Permission.INVOICE_WRITE)
    actor.require_staff("write invoices")
    invoice = await invoice_for_update(session, invoice_id, field="id")
    await set_invoice_status(
        session, actor, invoice, InvoiceStatus.sent, "invoice.send", field="id"
    )
    await session.flush()
    return invoice


async def void_invoice(
    session: AsyncSession, *, invoice_id: int, reason: str | None = None, actor: Principal
) -> Invoice:
    """draft or sent -> void; not once paid, nor while it has payments."""
    actor.require(Permission.INVOICE_WRITE)
    actor.require_staff("write invoices")
    reason = checked_text(reason, field="reason", limit=MAX_REASON)
    invoice = await invoice_for_update(session, invoice_id, field="id")
    if invoice.status == InvoiceStatus.paid.value:
        raise InvoiceAlreadyPaid(
            f"{name_of(invoice)} is {enum_value(invoice.status)}: it can't be voided", field=["id"]
        )
    count, paid = (
        await session.execute(
            select(func.count(), money.paid_sum()).where(Payment.invoice_id == invoice.id)
        )
    ).one()
    if count:
        raise InvoiceHasPayments(
            f"{name_of(invoice)} has {count} payment(s) of {paid} in all: it can't be voided",
            field=["id"],
        )
    extra: dict[str, Any] = {"reason": reason} if reason else {}
    await set_invoice_status(
        session, actor, invoice, InvoiceStatus.void, "invoice.void", field="id", **extra
    )
    await session.flush()
    return invoice
