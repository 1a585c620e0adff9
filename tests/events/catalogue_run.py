"""One pass through every service path of the event catalogue, as an admin: what the
emission tests check and what the README's payload examples are made from."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.permissions import PERMISSIONS, PORTAL_SCOPED
from opsgraph.auth.principal import Principal
from opsgraph.models import Event
from opsgraph.services import customer as customers
from opsgraph.services import invoice as invoices
from opsgraph.services import order as orders
from opsgraph.services import payment as payments
from opsgraph.services import product as products
from opsgraph.services import purchase_order as purchase_orders
from opsgraph.services import stock, ticket
from opsgraph.services.user import create_user


@dataclass
class Ran:
    """The ids the run made (``salt`` keeps its external ids and SKUs unique)."""

    actor: Principal
    salt: str
    customer_id: int = 0
    product_id: int = 0
    order_id: int = 0
    invoice_id: int = 0
    void_invoice_id: int = 0
    payment_ids: tuple[int, ...] = ()
    ticket_id: int = 0
    purchase_order_id: int = 0


async def admin(session: AsyncSession, name: str = "events-admin") -> Principal:
    user = await create_user(
        session,
        username=f"{name}-{uuid.uuid4().hex[:6]}",
        email=f"{name}-{uuid.uuid4().hex[:6]}@example.com",
        password="events password 1234",
        roles=["admin"],
        password_rounds=4,
    )
    return Principal(user.id, user.username, PERMISSIONS - {PORTAL_SCOPED})


async def set_reorder_level(
    session: AsyncSession, product_id: int, level: int, actor: Principal
) -> None:
    await products.update_product(session, product_id=product_id, reorder_level=level, actor=actor)


async def run_catalogue(session: AsyncSession, actor: Principal) -> Ran:
    """Make every type of the catalogue happen at least once."""
    ran = Ran(actor=actor, salt=uuid.uuid4().hex[:6].upper())
    made = await customers.create_customer(
        session,
        name="Nordic Roofing",
        external_id=f"C-{ran.salt}",
        email="Ops@Nordic.example",
        actor=actor,
    )
    ran.customer_id = made.id
    await customers.update_customer(
        session, customer_id=made.id, phone="+46 8 123 456", actor=actor
    )
    product = await products.create_product(
        session,
        sku=f"SALT-{ran.salt}",
        name="Road salt",
        unit_price=Decimal("19.90"),
        initial_stock=12,
        actor=actor,
    )
    ran.product_id = product.id
    await set_reorder_level(session, product.id, 5, actor)
    order = await orders.create_order(
        session,
        customer_id=made.id,
        lines=[orders.LineInput(product.id, 8)],
        tax=Decimal("4.00"),
        external_id=f"O-{ran.salt}",
        actor=actor,
    )  # 12 -> 4: at or below 5, stock.low
    ran.order_id = order.id
    await orders.confirm_order(session, order_id=order.id, actor=actor)
    invoice = await invoices.create_invoice_from_order(
        session, order_id=order.id, issued_date=dt.date(2026, 12, 1), actor=actor
    )
    ran.invoice_id = invoice.id
    await invoices.send_invoice(session, invoice_id=invoice.id, actor=actor)
    first = await payments.record_payment(
        session,
        invoice_id=invoice.id,
        amount=Decimal("100.00"),
        method="bank_transfer",
        reference=f"P1-{ran.salt}",
        actor=actor,
    )
    rest = invoice.total - Decimal("100.00")
    second = await payments.record_payment(
        session,
        invoice_id=invoice.id,
        amount=rest,
        method="card",
        reference=f"P2-{ran.salt}",
        actor=actor,
    )  # settles it: invoice.paid
    ran.payment_ids = (first.payment.id, second.payment.id)
    spare = await invoices.create_invoice(
        session,
        customer_id=made.id,
        property_id=None,
        period_start=dt.date(2026, 11, 1),
        period_end=dt.date(2026, 11, 30),
        issued_date=dt.date(2026, 12, 1),
        due_date=dt.date(2026, 12, 31),
        subtotal=Decimal("50.00"),
        tax=Decimal("12.50"),
        actor=actor,
    )
    ran.void_invoice_id = spare.id
    await invoices.void_invoice(session, invoice_id=spare.id, reason="issued twice", actor=actor)
    opened = await ticket.create_ticket(
        session,
        customer_id=made.id,
        subject="Gutter leaks",
        description="Over the door",
        priority="high",
        actor=actor,
    )
    ran.ticket_id = opened.id
    await ticket.change_ticket_status(
        session, ticket_id=opened.id, status="in_progress", actor=actor
    )
    upserted = await purchase_orders.upsert_purchase_order(
        session,
        external_id=f"PO-{ran.salt}",
        customer_external_id=f"C-{ran.salt}",
        amount=Decimal("1200.00"),
        source="Region North",
        description="Roof kit",
        brand="Volvo",
        car_model="XC60",
        actor=actor,
    )
    ran.purchase_order_id = upserted.purchase_order.id
    await purchase_orders.change_purchase_order_state(
        session,
        purchase_order_id=upserted.purchase_order.id,
        state="approved",
        expected_version=1,
        actor=actor,
    )
    await stock.adjust_stock(
        session, product_id=product.id, delta=-1, reason="adjustment", actor=actor
    )  # 4 -> 3: still low, no second stock.low
    return ran


async def emitted(session: AsyncSession, *types: str) -> list[Event]:
    """The events of ``types`` (all: none given) written so far, in the order written."""
    query = select(Event).order_by(Event.id)
    if types:
        query = query.where(Event.type.in_(types))
    return list((await session.scalars(query)).all())


def by_type(events: list[Event]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        found.setdefault(event.type, []).append(event.data)
    return found
