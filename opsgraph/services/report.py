"""Reports: a customer's statement for a period, and a day's key figures.

Days are UTC days: a timestamp belongs to the date it has in UTC. A customer-portal
caller's ``scope`` limits every figure to their customer's rows, in the SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.errors import InvalidInput, NotFound
from opsgraph.graph import clock, money
from opsgraph.loaders.sql import Scope, in_scope
from opsgraph.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    Payment,
    Ticket,
    TimeEntry,
)


@dataclass(frozen=True)
class StatementTotals:
    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal
    invoice_count: int


def check_period(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise InvalidInput(f"from ({start}) is after to ({end})", field=["from"])


async def customer_statement(
    session: AsyncSession,
    *,
    customer_id: int,
    start: dt.date,
    end: dt.date,
    scope: Scope | None = None,
) -> StatementTotals:
    """Totals over the customer's invoices issued in [start, end], void ones left out."""
    check_period(start, end)
    found = await session.scalar(
        select(Customer.id).where(Customer.id == customer_id, *in_scope("Customer", scope))
    )
    if found is None:
        raise NotFound("no such customer", field=["customerId"])
    paid = money.paid_by_invoice().subquery()
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(Invoice.total), 0),
                func.coalesce(func.sum(paid.c.paid), 0),
                func.coalesce(func.sum(money.balance_due_sql(paid.c.paid)), 0),
                func.count(Invoice.id),
            )
            .outerjoin(paid, paid.c.invoice_id == Invoice.id)
            .where(
                Invoice.customer_id == customer_id,
                Invoice.issued_date.between(start, end),
                Invoice.status != InvoiceStatus.void.value,
                *in_scope("Invoice", scope),
            )
        )
    ).one()
    invoiced, paid_total, outstanding = (Decimal(value) for value in row[:3])
    return StatementTotals(
        invoiced=invoiced.quantize(money.ZERO),
        paid=paid_total.quantize(money.ZERO),
        outstanding=outstanding.quantize(money.ZERO),
        invoice_count=int(row[3]),
    )


@dataclass(frozen=True)
class DailyKpis:
    date: dt.date
    orders_placed: int
    revenue: Decimal
    payments_received: Decimal
    tickets_opened: int
    tickets_resolved: int
    mean_resolution_hours: float | None
    billable_minutes: int


async def daily_kpis(
    session: AsyncSession, *, day: dt.date, scope: Scope | None = None
) -> DailyKpis:
    """Orders placed (not cancelled) and their value, payments received, tickets opened and
    resolved (with the mean hours from opening to resolving), billable minutes logged."""
    start = clock.day_start(day)
    end = start + dt.timedelta(days=1)

    def within(column: Any) -> ColumnElement[bool]:
        return and_(column >= start, column < end)

    live = Order.status != OrderStatus.cancelled.value
    orders = select(
        func.count().filter(live), func.coalesce(func.sum(Order.total).filter(live), 0)
    ).where(within(Order.placed_at), *in_scope("Order", scope))
    payments = select(money.paid_sum()).where(within(Payment.paid_at), *in_scope("Payment", scope))
    opened = (
        select(func.count())
        .select_from(Ticket)
        .where(within(Ticket.created_at), *in_scope("Ticket", scope))
    )
    resolved = select(
        func.count(),
        func.avg(func.extract("epoch", Ticket.resolved_at - Ticket.created_at) / 3600),
    ).where(within(Ticket.resolved_at), *in_scope("Ticket", scope))
    minutes = select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(
        within(TimeEntry.started_at), TimeEntry.billable.is_(True), *in_scope("TimeEntry", scope)
    )
    order_row = (await session.execute(orders)).one()
    resolved_row = (await session.execute(resolved)).one()
    return DailyKpis(
        date=day,
        orders_placed=int(order_row[0]),
        revenue=Decimal(order_row[1]).quantize(money.ZERO),
        payments_received=Decimal(await session.scalar(payments) or 0).quantize(money.ZERO),
        tickets_opened=int(await session.scalar(opened) or 0),
        tickets_resolved=int(resolved_row[0]),
        mean_resolution_hours=round(float(resolved_row[1]), 2) if resolved_row[1] else None,
        billable_minutes=int(await session.scalar(minutes) or 0),
    )
