"""Test data for the graph tests: customers with orders, invoices, payments and tickets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.models import Customer, Invoice, Order, Payment, Ticket

BASE = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
STATUSES = ["pending", "confirmed", "completed", "cancelled"]


async def make_graph(session: AsyncSession, customers: int) -> list[int]:
    """``customers`` customers, each with 2-3 orders, an invoice per order with two payments,
    and a ticket. Returns the customer ids in order."""
    customer_ids = list(
        (
            await session.execute(
                insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
                [
                    {"name": f"Graph Kund {i:03}", "email": f"kund{i}@graph.example"}
                    for i in range(customers)
                ],
            )
        ).scalars()
    )
    orders = []
    for i, customer in enumerate(customer_ids):
        for j in range(2 + i % 2):
            subtotal = Decimal(100 * (j + 1) + i)
            orders.append(
                {
                    "customer_id": customer,
                    "status": STATUSES[(i + j) % 4],
                    "subtotal": subtotal,
                    "tax": subtotal / 4,
                    "total": subtotal + subtotal / 4,
                    "placed_at": BASE + dt.timedelta(days=i, hours=j),
                }
            )
    order_rows = (
        await session.execute(
            insert(Order).returning(
                Order.id, Order.customer_id, Order.total, sort_by_parameter_order=True
            ),
            orders,
        )
    ).all()
    invoice_rows = (
        await session.execute(
            insert(Invoice).returning(Invoice.id, Invoice.total, sort_by_parameter_order=True),
            [
                {
                    "number": f"G-{order_id}",
                    "customer_id": customer_id,
                    "order_id": order_id,
                    "period_start": dt.date(2026, 3, 1),
                    "period_end": dt.date(2026, 3, 31),
                    "issued_date": dt.date(2026, 4, 1),
                    "due_date": dt.date(2026, 4, 30),
                    "subtotal": total / Decimal("1.25"),
                    "tax": total - total / Decimal("1.25"),
                    "total": total,
                    "status": "sent",
                }
                for order_id, customer_id, total in order_rows
            ],
        )
    ).all()
    await session.execute(
        insert(Payment),
        [
            {
                "invoice_id": invoice_id,
                "amount": Decimal("10.00") + k,
                "paid_at": BASE + dt.timedelta(days=40 + k),
                "method": "card",
                "reference": f"P-{invoice_id}-{k}",
            }
            for invoice_id, _ in invoice_rows
            for k in range(2)
        ],
    )
    await session.execute(
        insert(Ticket),
        [{"customer_id": c, "subject": f"Help {c}", "priority": "high"} for c in customer_ids],
    )
    await session.flush()
    return customer_ids
