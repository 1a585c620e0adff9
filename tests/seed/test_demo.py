"""The demo data set: the known records, every status, consistent money and stock, idempotent."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.passwords import hash_password, verify_password
from opsgraph.auth.permissions import BUILTIN_ROLES
from opsgraph.models import (
    Base,
    Customer,
    FinancialTransaction,
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PurchaseOrder,
    Role,
    RolePermission,
    StockLevel,
    StockMovement,
    Ticket,
    TicketPriority,
    TicketStatus,
    TimeEntry,
    User,
    UserRole,
)
from opsgraph.seed import DemoResult, seed_demo
from opsgraph.seed.demo_plan import build_plan
from opsgraph.settings import ConfigError


@pytest.fixture
async def demo(session: AsyncSession) -> DemoResult:
    return await seed_demo(session, password_rounds=4)


async def _snapshot(session: AsyncSession) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, per table."""
    snapshot = {}
    for table in Base.metadata.sorted_tables:
        query = text(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
            f'FROM "{table.name}" AS t'
        )
        count, digest = (await session.execute(query)).one()
        snapshot[table.name] = (count, digest)
    return snapshot


async def test_known_records_of_the_old_mock_api(session: AsyncSession, demo: DemoResult) -> None:
    assert demo.created
    customers = dict((await session.execute(select(Customer.external_id, Customer.name))).all())
    assert customers["C-100"] == "Maskad Kund AB"
    assert customers["C-101"] == "Fikafabriken"
    assert len(customers) >= 30
    rows = await session.execute(
        select(PurchaseOrder.external_id, PurchaseOrder.description, PurchaseOrder.source)
        .add_columns(Customer.external_id)
        .join(Customer, Customer.id == PurchaseOrder.customer_id)
        .where(PurchaseOrder.external_id.in_(["PO-200", "PO-201"]))
        .order_by(PurchaseOrder.external_id)
    )
    assert [tuple(row) for row in rows] == [
        ("PO-200", "Snöröjning kvarter A", "Region Nord", "C-100"),
        ("PO-201", "Fasadtvätt del B", "Region Syd", "C-101"),
    ]


async def test_every_status_and_priority_is_present(
    session: AsyncSession, demo: DemoResult
) -> None:
    async def values(column: Any) -> set[Any]:
        return set((await session.scalars(select(column).distinct())).all())

    assert await values(Order.status) == set(OrderStatus)
    assert await values(Invoice.status) == set(InvoiceStatus)
    assert await values(Ticket.status) == set(TicketStatus)
    assert await values(Ticket.priority) == set(TicketPriority)
    staff = await session.scalar(select(User.id).where(User.username == "staff"))
    assert await values(Ticket.assignee_id) == {staff, None}
    billable = await values(TimeEntry.billable)
    assert billable == {True, False}


async def test_invoices_are_paid_partly_paid_or_unpaid_as_their_status_says(
    session: AsyncSession, demo: DemoResult
) -> None:
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for invoice_id, amount in await session.execute(select(Payment.invoice_id, Payment.amount)):
        paid[invoice_id] += amount
    invoices = (await session.execute(select(Invoice))).scalars().all()
    partly = 0
    for invoice in invoices:
        received = paid.get(invoice.id, Decimal(0))
        if invoice.status == "paid":
            assert received == invoice.total, invoice.number
        elif invoice.status == "sent":
            assert received < invoice.total, invoice.number
            partly += received > 0
        else:
            assert received == 0, invoice.number
        assert invoice.total == invoice.subtotal + invoice.tax
        assert invoice.tax == (invoice.subtotal / 4).quantize(Decimal("0.01"))
    assert partly > 0
    assert [i.number for i in sorted(invoices, key=lambda i: (i.issued_date, i.number))] == [
        f"INV-2026-{n:05}" for n in range(1, len(invoices) + 1)
    ]
    # an invoice for an order has the order's customer and amounts
    linked = await session.execute(select(Invoice, Order).join(Order, Order.id == Invoice.order_id))
    pairs = linked.all()
    assert pairs
    for invoice, order in pairs:
        assert (invoice.customer_id, invoice.total) == (order.customer_id, order.total)


async def test_every_payment_is_booked_as_income(session: AsyncSession, demo: DemoResult) -> None:
    payments = {p.id: p for p in (await session.scalars(select(Payment))).all()}
    incomes = (
        await session.scalars(
            select(FinancialTransaction).where(FinancialTransaction.payment_id.is_not(None))
        )
    ).all()
    booked_for = {t.payment_id: t for t in incomes}
    assert len(booked_for) == len(incomes)
    assert set(booked_for) == set(payments)
    for payment_id, booked in booked_for.items():
        payment = payments[payment_id or 0]
        assert booked.kind == "income"
        assert booked.amount == payment.amount
        assert booked.occurred_on == payment.paid_at.date()
    assert len({p.method for p in payments.values()}) > 1
    kinds = set((await session.scalars(select(FinancialTransaction.kind).distinct())).all())
    assert {"income", "expense"} <= kinds


async def test_orders_add_up_and_customers_count_them(
    session: AsyncSession, demo: DemoResult
) -> None:
    per_order = select(OrderLine.order_id, func.sum(OrderLine.line_total))
    sums = dict((await session.execute(per_order.group_by(OrderLine.order_id))).all())
    orders = (await session.scalars(select(Order))).all()
    for order in orders:
        assert order.subtotal == sums[order.id]
        assert order.tax == (order.subtotal / 4).quantize(Decimal("0.01"))
        assert order.total == order.subtotal + order.tax
    live: dict[int, int] = defaultdict(int)
    for order in orders:
        live[order.customer_id] += order.status != "cancelled"
    for customer in (await session.scalars(select(Customer))).all():
        assert customer.order_count == live[customer.id], customer.external_id


async def test_stock_levels_are_the_sum_of_their_movements(
    session: AsyncSession, demo: DemoResult
) -> None:
    levels = dict((await session.execute(select(StockLevel.product_id, StockLevel.quantity))).all())
    movements = (
        await session.scalars(
            select(StockMovement).order_by(StockMovement.created_at, StockMovement.id)
        )
    ).all()
    running: dict[int, int] = defaultdict(int)
    for movement in movements:
        running[movement.product_id] += movement.delta
        assert movement.quantity_after == running[movement.product_id]
    assert running == levels
    assert len(levels) >= 10
    initial = [m.product_id for m in movements if m.reason == "initial"]
    assert sorted(initial) == sorted(levels)
    # every order line sold its quantity; a cancelled order's lines came back
    lines = (await session.execute(select(OrderLine, Order.status).join(Order))).all()
    sold = {(m.order_id, m.product_id): m.delta for m in movements if m.reason == "sale"}
    back = {(m.order_id, m.product_id): m.delta for m in movements if m.reason == "cancellation"}
    for line, status in lines:
        assert sold[(line.order_id, line.product_id)] == -line.quantity
        if status == "cancelled":
            assert back[(line.order_id, line.product_id)] == line.quantity
    assert len(back) > 0
    assert len(sold) == len(lines)


async def test_roles_users_and_passwords(session: AsyncSession, demo: DemoResult) -> None:
    assert set(demo.passwords) == {"admin", "staff"}
    users = {u.username: u for u in (await session.scalars(select(User))).all()}
    for username, password in demo.passwords.items():
        assert verify_password(password, users[username].password_hash)
        assert users[username].email == f"{username}@opsgraph.example.com"
    granted: dict[str, set[str]] = defaultdict(set)
    rows = await session.execute(select(Role.name, RolePermission.permission).join(RolePermission))
    for name, permission in rows:
        granted[name].add(permission)
    assert granted == {name: set(perms) for name, (_, perms) in BUILTIN_ROLES.items()}
    roles = await session.execute(
        select(User.username, Role.name).join(UserRole, UserRole.user_id == User.id).join(Role)
    )
    assert sorted(roles.all()) == [("admin", "admin"), ("staff", "staff")]


async def test_loading_twice_changes_nothing(session: AsyncSession, demo: DemoResult) -> None:
    before = await _snapshot(session)
    assert before["customer"][0] >= 30
    again = await seed_demo(session, password_rounds=4)
    assert again == DemoResult(created=False, passwords={})
    assert await _snapshot(session) == before


async def test_existing_users_are_kept(session: AsyncSession) -> None:
    hashed = hash_password("an-operators-password", rounds=4)
    await session.execute(
        insert(User).values(username="admin", email="ops@example.se", password_hash=hashed)
    )
    result = await seed_demo(session, password_rounds=4)
    assert result.created
    assert set(result.passwords) == {"staff"}
    admin = await session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    assert admin.password_hash == hashed


async def test_production_is_refused(session: AsyncSession) -> None:
    with pytest.raises(ConfigError, match="development only; refusing to load it in production"):
        await seed_demo(session, production=True)
    assert await session.scalar(select(Customer.id).where(Customer.external_id == "C-100")) is None


async def test_a_clash_with_existing_data_is_refused(session: AsyncSession) -> None:
    await session.execute(insert(Customer).values(external_id="C-105", name="Någon annan AB"))
    with pytest.raises(ConfigError, match="customer C-105 already exist"):
        await seed_demo(session, password_rounds=4)


def test_the_plan_is_deterministic() -> None:
    assert build_plan() == build_plan()
