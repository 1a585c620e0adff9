"""The money side of the demo plan: invoices, payments and financial transactions.

Invoices come in every status: ``paid`` (payments sum exactly to the total), ``sent`` with a
part paid, ``sent`` unpaid, ``draft`` and ``void``. Invoices for orders copy the order's
customer and amounts; the rest are monthly service invoices for a customer's property. They
are numbered ``INV-2026-00001``... in order of issue. Every payment has an ``income``
transaction; a few expenses and a transfer complete the books.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from decimal import Decimal

from opsgraph.seed import demo_data as d
from opsgraph.seed.demo_data import ADMIN, DemoPlan, Ref, Row, money, with_tax

SERVICE_INVOICES = 12
# cycled through by the service invoices, so every status is present whatever the orders do
KINDS = ("paid", "partly", "sent", "draft", "void")
REFERENCE_PREFIX = {"bank_transfer": "BG", "card": "KORT", "cash": "KONTANT", "other": "OVR"}


def plan_invoices(plan: DemoPlan, rng: random.Random, properties_of: dict[int, list[int]]) -> None:
    drafts: list[tuple[dt.date, str, Row]] = []
    for i, order in enumerate(plan.rows("order")):
        kind = {
            "completed": rng.choices(("paid", "partly", "sent"), (70, 15, 15))[0],
            "confirmed": "draft" if rng.random() < 0.5 else None,
            "cancelled": "void" if rng.random() < 0.5 else None,
        }.get(order["status"])
        if kind is None:
            continue
        day = order["placed_at"].date()
        row = {"customer_id": order["customer_id"], "order_id": Ref("order", i)}
        row |= {key: order[key] for key in ("property_id", "subtotal", "tax", "total")}
        row |= {"period_start": day, "period_end": day}
        drafts.append((day + dt.timedelta(days=rng.randint(2, 10)), kind, row))
    for n in range(SERVICE_INVOICES):
        customer = 0 if n == 0 else rng.randrange(len(plan.rows("customer")))
        month = 1 + n % 9
        start = dt.date(2026, month, 1)
        end = start.replace(day=calendar.monthrange(2026, month)[1])
        _, price = d.SERVICES[0] if n == 0 else rng.choice(d.SERVICES)
        subtotal, tax, total = with_tax(money(price))
        row = {"customer_id": Ref("customer", customer), "order_id": None}
        row |= {"property_id": Ref("property", rng.choice(properties_of[customer]))}
        row |= {"subtotal": subtotal, "tax": tax, "total": total}
        row |= {"period_start": start, "period_end": end}
        drafts.append((end + dt.timedelta(days=1), KINDS[n % len(KINDS)], row))

    for number, (issued, kind, row) in enumerate(sorted(drafts, key=lambda x: x[0]), 1):
        at = dt.datetime.combine(issued, dt.time(9), dt.UTC)
        index = plan.add(
            "invoice",
            number=f"INV-2026-{number:05}",
            issued_date=issued,
            due_date=issued + dt.timedelta(days=30),
            status="sent" if kind == "partly" else kind,
            created_at=at,
            **row,
        )
        if kind in ("paid", "partly"):
            _payments(plan, rng, index, at, partly=kind == "partly")


def _payments(
    plan: DemoPlan, rng: random.Random, invoice: int, issued: dt.datetime, *, partly: bool
) -> None:
    row = plan.rows("invoice")[invoice]
    total: Decimal = row["total"]
    part = money(total * rng.randint(25, 75) / 100)
    amounts = [part] if partly else [part, total - part] if rng.random() < 0.35 else [total]
    paid_at = issued + dt.timedelta(days=rng.randint(3, 20), hours=rng.randint(0, 8))
    for k, amount in enumerate(amounts, 1):
        method = rng.choice(d.PAYMENT_METHODS)
        index = plan.add(
            "payment",
            invoice_id=Ref("invoice", invoice),
            amount=amount,
            paid_at=paid_at,
            method=method,
            reference=f"{REFERENCE_PREFIX[method]} {row['number']}/{k}",
            created_by=ADMIN,
            created_at=paid_at,
        )
        _transaction(plan, "income", amount, paid_at.date(), f"Betalning {row['number']}", index)
        paid_at += dt.timedelta(days=rng.randint(5, 12))


def _transaction(
    plan: DemoPlan, kind: str, amount: Decimal, day: dt.date, text: str, payment: int | None
) -> None:
    plan.add(
        "financial_transaction",
        kind=kind,
        amount=amount,
        occurred_on=day,
        description=text,
        created_by=ADMIN,
        payment_id=None if payment is None else Ref("payment", payment),
    )


def plan_expenses(plan: DemoPlan) -> None:
    new_year = dt.date(2026, 1, 1)
    for text, amount, day in d.EXPENSES:
        _transaction(plan, "expense", money(amount), new_year + dt.timedelta(days=day), text, None)
    text, amount, day = d.TRANSFER
    _transaction(plan, "transfer", money(amount), new_year + dt.timedelta(days=day), text, None)
