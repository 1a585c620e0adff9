"""Payments: paymentRecord.

The invoice row is locked (``FOR UPDATE``) before its payments are summed, so payments of
one invoice take turns: each sees every payment committed before it, and the invoice can
never be paid more than its total, however many arrive at once. The CHECK and unique
constraints (amount > 0, one reference per invoice) are the last line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import (
    DuplicateReference,
    InvalidInput,
    InvoiceAlreadyPaid,
    InvoiceNotSent,
    InvoiceVoid,
    PaymentExceedsBalance,
)
from opsgraph.events.emit import emit
from opsgraph.events.payload import fields_of
from opsgraph.graph import clock, money
from opsgraph.graph.names import enum_value, name_of
from opsgraph.models import (
    FinancialTransaction,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    TransactionKind,
)
from opsgraph.permissions import Permission
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import InputChecks, checked_money, checked_text
from opsgraph.services.invoice import invoice_for_update, set_invoice_status
from opsgraph.services.rows import flush_unique
from opsgraph.services.transaction import FIELDS as TRANSACTION_FIELDS

MAX_REFERENCE = 100
# how far in the future paidAt may be: clocks of callers differ a little
CLOCK_SKEW = dt.timedelta(minutes=5)
FIELDS = ("invoice_id", "amount", "method", "reference", "paid_at")
REFERENCE_CONSTRAINT = "uq_payment_invoice_reference"
EVENT_FIELDS = ("id", *FIELDS)


@dataclass(frozen=True)
class RecordedPayment:
    payment: Payment
    invoice: Invoice
    transaction: FinancialTransaction


def _checked_method(method: str) -> str:
    try:
        return PaymentMethod(method).value
    except ValueError:
        raise InvalidInput(f"unknown payment method {method!r}", field=["method"]) from None


def _checked_paid_at(paid_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """When it was paid: now when not given; a time without offset is UTC; not in the
    future (beyond a few minutes of clock skew)."""
    if paid_at is None:
        return now
    if paid_at.tzinfo is None:
        paid_at = paid_at.replace(tzinfo=dt.UTC)
    if paid_at > now + CLOCK_SKEW:
        raise InvalidInput(f"paidAt ({paid_at.isoformat()}) is in the future", field=["paidAt"])
    return paid_at


def _check_payable(invoice: Invoice) -> None:
    named, now = name_of(invoice), enum_value(invoice.status)
    if invoice.status == InvoiceStatus.paid.value:
        raise InvoiceAlreadyPaid(f"{named} is {now} already", field=["invoiceId"])
    if invoice.status == InvoiceStatus.void.value:
        raise InvoiceVoid(f"{named} is {now}: it can't be paid", field=["invoiceId"])
    if invoice.status == InvoiceStatus.draft.value:
        raise InvoiceNotSent(
            f"{named} is {now}: send it before recording payments", field=["invoiceId"]
        )


async def record_payment(
    session: AsyncSession,
    *,
    invoice_id: int,
    amount: Decimal,
    method: str,
    reference: str,
    paid_at: dt.datetime | None = None,
    actor: Principal,
) -> RecordedPayment:
    """A payment of a sent invoice, at most what is still owed, with a reference new on
    that invoice; booked as an ``income`` transaction on the day paid. The payment that
    pays the rest makes the invoice ``paid``."""
    actor.require(Permission.PAYMENT_WRITE)
    actor.require_staff("record payments")
    checks = InputChecks()  # every broken input rule at once
    with checks:
        amount = checked_money(amount, field="amount", positive=True)
    with checks:
        method = _checked_method(method)
    with checks:
        reference = checked_text(reference, field="reference", limit=MAX_REFERENCE, blank=False)
    with checks:
        when_paid = _checked_paid_at(paid_at, clock.now())
    checks.done()

    invoice = await invoice_for_update(session, invoice_id, field="invoiceId")
    _check_payable(invoice)
    taken = await session.scalar(
        select(Payment.id).where(Payment.invoice_id == invoice.id, Payment.reference == reference)
    )
    duplicate = DuplicateReference(
        f"{name_of(invoice)} already has a payment with reference {reference!r}",
        field=["reference"],
    )
    if taken is not None:
        raise duplicate
    paid = Decimal(await session.scalar(money.amount_paid(invoice.id)) or 0)
    balance = money.balance_due(invoice, paid)
    if amount > balance:
        raise PaymentExceedsBalance(
            f"the payment of {amount} is more than {name_of(invoice)} still owes: "
            f"the remaining balance is {balance}",
            field=["amount"],
        )

    payment = Payment(
        invoice_id=invoice.id,
        amount=amount,
        paid_at=when_paid,
        method=method,
        reference=reference,
        created_by=actor.user_id,
    )
    session.add(payment)
    await flush_unique(session, constraint=REFERENCE_CONSTRAINT, error=duplicate)
    transaction = FinancialTransaction(
        kind=TransactionKind.income.value,
        amount=amount,
        occurred_on=when_paid.date(),
        description=f"Payment {reference} of invoice {invoice.number}",
        created_by=actor.user_id,
        payment_id=payment.id,
    )
    session.add(transaction)
    await session.flush()

    record(
        session,
        actor,
        "payment.record",
        "Payment",
        payment.id,
        after=snapshot(payment, FIELDS),
        invoice_number=invoice.number,
        transaction_id=transaction.id,
    )
    record(
        session,
        actor,
        "transaction.create",
        "FinancialTransaction",
        transaction.id,
        after=snapshot(transaction, TRANSACTION_FIELDS),
        payment_id=payment.id,
    )
    await emit(
        session,
        "payment.recorded",
        entity_type="Payment",
        entity_id=payment.id,
        customer_id=invoice.customer_id,
        data={
            **fields_of(payment, EVENT_FIELDS, type_name="Payment"),
            "invoiceNumber": invoice.number,
            "customerId": fields_of(invoice, ("customer_id",))["customerId"],
        },
        actor=actor,
    )
    if paid + amount == invoice.total:
        await set_invoice_status(
            session,
            actor,
            invoice,
            InvoiceStatus.paid,
            "invoice.pay",
            field="invoiceId",
            payment_id=payment.id,
        )
    await session.flush()
    return RecordedPayment(payment, invoice, transaction)
