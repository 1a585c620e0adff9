"""Orders: ``orderCreate`` and the status changes ``orderConfirm``, ``orderComplete``,
``orderCancel`` (one transition table: ``opsgraph.services.transitions.ORDER``).

Creating an order takes its products' stock atomically: every rule is checked on rows
locked for the transaction (products ``FOR SHARE``, stock levels ``FOR UPDATE``, both in
product-id order so concurrent orders can't deadlock), then the order, its lines, one
``sale`` movement per line and the customer's ``order_count`` (a conditional UPDATE) are
written together, or nothing is. Cancelling gives the stock back with ``cancellation``
movements and takes the order off ``order_count``.

Lock order, the same on every path: order row, products, stock levels, customer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import (
    AlreadyInvoiced,
    DuplicateExternalId,
    Inactive,
    InsufficientStock,
    InvalidInput,
    NotFound,
)
from opsgraph.events.emit import emit
from opsgraph.events.payload import diff, fields_of
from opsgraph.graph.names import name_of, named
from opsgraph.models import (
    Customer,
    Invoice,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    StockReason,
)
from opsgraph.permissions import Permission
from opsgraph.services.audit import jsonable, record
from opsgraph.services.checks import MAX_MONEY, InputChecks, checked_money, checked_text
from opsgraph.services.customer import lock_customer
from opsgraph.services.property import check_property_of
from opsgraph.services.rows import flush_unique, locked
from opsgraph.services.stock import lock_stock, move_stock
from opsgraph.services.transitions import ORDER

MAX_LINES = 200
MAX_EXTERNAL_ID = 64
EXTERNAL_ID_CONSTRAINT = "uq_order_external_id"
ORDER_FIELDS = ("customer_id", "property_id", "status", "external_id", "subtotal", "tax", "total")
# what order.created carries of the order and of each line; what identifies an order
EVENT_FIELDS = ("id", *ORDER_FIELDS)
LINE_EVENT_FIELDS = ("id", "product_id", "quantity", "unit_price", "line_total")
IDENTIFYING = ("id", "external_id", "customer_id")


@dataclass(frozen=True)
class LineInput:
    """One line of ``orderCreate``; ``unit_price`` None: the product's price."""

    product_id: int
    quantity: int
    unit_price: Decimal | None = None


def _line_field(index: int, name: str) -> list[str]:
    return ["lines", str(index), name]


def _checked_input(
    lines: Sequence[LineInput], tax: Decimal, external_id: str | None
) -> tuple[list[LineInput], Decimal, str | None]:
    """The input as stored (prices to the cent, the external id trimmed); every rule it
    breaks (the lines, each line's quantity and price, the tax, the external id) at once."""
    checks = InputChecks()
    if not lines:
        checks.add(InvalidInput("an order needs at least one line", field=["lines"]))
    if len(lines) > MAX_LINES:
        checks.add(InvalidInput(f"an order has at most {MAX_LINES} lines", field=["lines"]))
    checked = []
    for index, line in enumerate(lines[:MAX_LINES]):
        if line.quantity <= 0:
            checks.add(
                InvalidInput(
                    f"quantity must be at least 1 (got {line.quantity})",
                    field=_line_field(index, "quantity"),
                )
            )
        price = line.unit_price
        with checks:
            if price is not None:
                field = _line_field(index, "unitPrice")
                price = checked_money(price, field=field, label="unit price")
        checked.append(LineInput(line.product_id, line.quantity, price))
    with checks:
        tax = checked_money(tax, field="tax")
    with checks:
        if external_id is not None:
            external_id = checked_text(
                external_id, field="externalId", limit=MAX_EXTERNAL_ID, blank=False
            )
    checks.done()
    return checked, tax, external_id


async def _products(session: AsyncSession, lines: Sequence[LineInput]) -> dict[int, Any]:
    """Every product of the lines, existing and active, locked ``FOR SHARE`` (its price and
    active flag hold until the order is written)."""
    rows = await session.execute(
        select(Product.id, Product.sku, Product.unit_price, Product.active)
        .where(Product.id.in_({line.product_id for line in lines}))
        .order_by(Product.id)
        .with_for_update(read=True)
    )
    found = {row.id: row for row in rows}
    for index, line in enumerate(lines):
        product = found.get(line.product_id)
        if product is None:
            raise NotFound(
                f"no {named('Product', line.product_id)}", field=_line_field(index, "productId")
            )
        if not product.active:
            raise Inactive(
                f"{name_of(product, 'Product')} is inactive and can't be ordered",
                field=_line_field(index, "productId"),
            )
    return found


def _check_stock(
    lines: Sequence[LineInput], products: dict[int, Any], on_hand: dict[int, int]
) -> None:
    """Enough stock for every line; lines of one product count together, and the line
    where their sum passes what is on hand is the one named."""
    needed: dict[int, int] = defaultdict(int)
    for index, line in enumerate(lines):
        needed[line.product_id] += line.quantity
        have = on_hand.get(line.product_id, 0)
        if needed[line.product_id] > have:
            product = name_of(products[line.product_id], "Product")
            raise InsufficientStock(
                f"only {have} of {product} in stock; the order needs {needed[line.product_id]}",
                field=_line_field(index, "quantity"),
            )


def _priced(lines: Sequence[LineInput], products: dict[int, Any]) -> list[OrderLine]:
    priced = []
    for index, line in enumerate(lines):
        price = line.unit_price
        unit_price = products[line.product_id].unit_price if price is None else price
        line_total = unit_price * line.quantity
        if line_total > MAX_MONEY:
            raise InvalidInput(
                f"the line total {line_total} is more than {MAX_MONEY}",
                field=_line_field(index, "quantity"),
            )
        priced.append(
            OrderLine(
                product_id=line.product_id,
                quantity=line.quantity,
                unit_price=unit_price,
                line_total=line_total,
            )
        )
    return priced


def _line_snapshot(line: OrderLine, sku: str) -> dict[str, Any]:
    return {
        "product_id": line.product_id,
        "sku": sku,
        "quantity": line.quantity,
        "unit_price": jsonable(line.unit_price),
        "line_total": jsonable(line.line_total),
    }


async def _count_order(session: AsyncSession, customer_id: int, step: int) -> None:
    """Add ``step`` to the customer's order_count in place (never below zero)."""
    statement = update(Customer).where(Customer.id == customer_id)
    if step < 0:
        statement = statement.where(Customer.order_count >= -step)
    await session.execute(statement.values(order_count=Customer.order_count + step))


async def create_order(
    session: AsyncSession,
    *,
    customer_id: int,
    lines: Sequence[LineInput],
    property_id: int | None = None,
    tax: Decimal = Decimal("0"),
    external_id: str | None = None,
    actor: Principal,
) -> Order:
    """``orderCreate``: a pending order of ``lines`` for the customer, its stock taken."""
    actor.require(Permission.ORDER_WRITE)
    actor.require_staff("write orders")
    lines, tax, external_id = _checked_input(lines, tax, external_id)
    # FOR KEY SHARE: a customerDelete racing this order waits, then sees the order
    await lock_customer(session, customer_id)
    if property_id is not None:
        await check_property_of(session, property_id, customer_id)
    duplicate = DuplicateExternalId(
        f"{named('Order', key=external_id)} already exists", field=["externalId"]
    )
    if external_id is not None and await session.scalar(
        select(Order.id).where(Order.external_id == external_id)
    ):
        raise duplicate
    products = await _products(session, lines)
    on_hand = await lock_stock(session, products)
    _check_stock(lines, products, on_hand)
    priced = _priced(lines, products)
    subtotal = sum((line.line_total for line in priced), Decimal("0.00"))
    if subtotal + tax > MAX_MONEY:
        raise InvalidInput(
            f"the order total {subtotal + tax} is more than {MAX_MONEY}", field=["lines"]
        )
    order = Order(
        customer_id=customer_id,
        property_id=property_id,
        status=OrderStatus.pending.value,
        external_id=external_id,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
    )
    session.add(order)
    # the external id may have been taken meanwhile
    await flush_unique(session, constraint=EXTERNAL_ID_CONSTRAINT, error=duplicate)
    for line in priced:
        line.order_id = order.id
    session.add_all(priced)
    after = await move_stock(
        session,
        moves=[(line.product_id, -line.quantity) for line in priced],
        reason=StockReason.sale,
        order_id=order.id,
        on_hand=on_hand,
        actor=actor,
    )
    await _count_order(session, customer_id, +1)
    record(
        session,
        actor,
        "order.create",
        "Order",
        order.id,
        after={
            **{name: getattr(order, name) for name in ORDER_FIELDS},
            "lines": [_line_snapshot(line, products[line.product_id].sku) for line in priced],
        },
        stock_after={str(product_id): quantity for product_id, quantity in after.items()},
    )
    lines_data = [
        {
            **fields_of(line, LINE_EVENT_FIELDS, type_name="OrderLine"),
            "sku": products[line.product_id].sku,
        }
        for line in priced
    ]
    await emit(
        session,
        "order.created",
        entity_type="Order",
        entity_id=order.id,
        customer_id=customer_id,
        data={**fields_of(order, EVENT_FIELDS, type_name="Order"), "lines": lines_data},
        actor=actor,
    )
    await session.flush()
    return order


async def change_order_status(
    session: AsyncSession, *, order_id: int, status: OrderStatus, actor: Principal
) -> Order:
    """Move an order to ``status`` if the transition table allows it from where it is
    (``INVALID_TRANSITION`` otherwise). Cancelling restores the stock of every line and
    takes the order off the customer's order_count."""
    actor.require(Permission.ORDER_WRITE)
    actor.require_staff("write orders")
    order = await locked(session, Order, order_id)
    ORDER.check(order.status, status.value, field="id")
    before = order.status
    extra: dict[str, Any] = {}
    if status is OrderStatus.cancelled:
        # invoiceCreateFromOrder locks the order too, so no invoice can appear meanwhile
        invoice = await session.scalar(
            select(Invoice.number).where(Invoice.order_id == order.id, Invoice.status != "void")
        )
        if invoice is not None:
            raise AlreadyInvoiced(
                f"{name_of(order)} is invoiced ({named('Invoice', key=invoice)}): void the "
                "invoice before cancelling",
                field=["id"],
            )
        lines = (
            await session.scalars(
                select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
            )
        ).all()
        on_hand = await lock_stock(session, (line.product_id for line in lines))
        after = await move_stock(
            session,
            moves=[(line.product_id, line.quantity) for line in lines],
            reason=StockReason.cancellation,
            order_id=order.id,
            on_hand=on_hand,
            actor=actor,
        )
        await _count_order(session, order.customer_id, -1)
        extra = {
            "restored": [
                {"product_id": line.product_id, "quantity": line.quantity} for line in lines
            ],
            "stock_after": {str(product_id): quantity for product_id, quantity in after.items()},
        }
    order.status = status.value
    await session.flush()
    record(
        session,
        actor,
        f"order.{ACTIONS[status]}",
        "Order",
        order.id,
        before={"status": before},
        after={"status": order.status},
        **extra,
    )
    await emit(
        session,
        "order.status_changed",
        entity_type="Order",
        entity_id=order.id,
        customer_id=order.customer_id,
        data={
            **fields_of(order, IDENTIFYING, type_name="Order"),
            "changes": diff({"status": before}, {"status": order.status}),
        },
        actor=actor,
    )
    await session.flush()
    return order


ACTIONS = {
    OrderStatus.confirmed: "confirm",
    OrderStatus.completed: "complete",
    OrderStatus.cancelled: "cancel",
}


async def confirm_order(session: AsyncSession, *, order_id: int, actor: Principal) -> Order:
    return await change_order_status(
        session, order_id=order_id, status=OrderStatus.confirmed, actor=actor
    )


async def complete_order(session: AsyncSession, *, order_id: int, actor: Principal) -> Order:
    return await change_order_status(
        session, order_id=order_id, status=OrderStatus.completed, actor=actor
    )


async def cancel_order(session: AsyncSession, *, order_id: int, actor: Principal) -> Order:
    return await change_order_status(
        session, order_id=order_id, status=OrderStatus.cancelled, actor=actor
    )
