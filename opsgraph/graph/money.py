"""What an invoice's money comes to, stated once: amount paid, balance due, overdue.

* amount paid: the sum of the invoice's payments, 0 when it has none;
* balance due: total - amount paid, and 0 for a void invoice (nothing is owed on it);
* overdue: sent, due before today (the UTC day, from ``opsgraph.graph.clock``) and not
  fully paid.

The SQL forms serve loaders, services and reports; the Python forms derive a field from
an invoice row and its amount paid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, case, func, select

from opsgraph.graph import clock
from opsgraph.models import Invoice, InvoiceStatus, Payment

ZERO = Decimal("0.00")


class Billed(Protocol):
    """An invoice as a row (ORM object or Core row): what its money depends on."""

    @property
    def status(self) -> str: ...

    @property
    def total(self) -> Decimal: ...

    @property
    def due_date(self) -> dt.date: ...


def paid_sum() -> ColumnElement[Decimal]:
    """The amount paid by the payment rows selected: their sum, 0 with none."""
    return func.coalesce(func.sum(Payment.amount), 0)


def amount_paid(invoice_id: int) -> Select[Decimal]:
    """The amount paid on one invoice."""
    return select(paid_sum()).where(Payment.invoice_id == invoice_id)


def paid_by_invoice() -> Select[int, Decimal]:
    """``(invoice_id, paid)`` for each invoice with payments: add a WHERE to choose the
    invoices, or take ``.subquery()`` and outer-join it (a missing row is 0 paid)."""
    return select(Payment.invoice_id, paid_sum().label("paid")).group_by(Payment.invoice_id)


def balance_due_sql(paid: ColumnElement[Any]) -> ColumnElement[Decimal]:
    """The balance due of ``Invoice`` rows, given their amount paid (NULL counts as 0)."""
    return case(
        (Invoice.status == InvoiceStatus.void.value, 0),
        else_=Invoice.total - func.coalesce(paid, 0),
    )


def balance_due(invoice: Billed, paid: Decimal) -> Decimal:
    """What is still owed on the invoice: total - paid, 0 when void."""
    if invoice.status == InvoiceStatus.void.value:
        return ZERO
    return invoice.total - paid


def is_overdue(invoice: Billed, paid: Decimal, *, today: dt.date | None = None) -> bool:
    """Sent, past its due date (before ``today``, the current UTC day unless given) and
    not fully paid."""
    day = clock.today() if today is None else today
    return bool(
        invoice.status == InvoiceStatus.sent.value
        and invoice.due_date < day
        and invoice.total > paid
    )
