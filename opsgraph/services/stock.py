"""Stock: ``stockAdjust`` and the movements orders write (sale, cancellation).

The invariants: a product's stock is never below zero, and it always equals the sum of its
movements' deltas (every change of ``stock_level.quantity`` writes one movement with the
quantity after it). Changes are conditional UPDATEs (``... WHERE quantity + d >= 0
RETURNING quantity``) or run on rows locked ``FOR UPDATE`` in product-id order, so
concurrent requests can't oversell; the CHECK constraints are only the last line.

``stock.low`` is emitted when a change takes a product's stock from above its reorder
level to at or below it: once per fall, not again for every movement while it stays low
(it fires again after the stock has risen above the level and falls once more).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import BigInteger, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import InsufficientStock, InvalidInput, NotFound
from opsgraph.events.emit import emit
from opsgraph.events.payload import fields_of
from opsgraph.graph.names import article, enum_value, enum_values, named
from opsgraph.models import Product, StockLevel, StockMovement, StockReason
from opsgraph.permissions import Permission
from opsgraph.services.audit import record
from opsgraph.services.checks import InputChecks, checked_text
from opsgraph.services.product import MAX_QUANTITY

# what stockAdjust may write; initial, sale and cancellation are written by the system
ADJUSTABLE = (StockReason.adjustment, StockReason.receipt)
MAX_NOTE = 1000


@dataclass(frozen=True)
class Adjusted:
    product_id: int
    movement_id: int
    quantity: int


def _checked_adjustment(delta: int, reason: str, note: str | None) -> str | None:
    """The note as stored; every broken rule (delta, reason, note) at once."""
    checks = InputChecks()
    if delta == 0:
        checks.add(InvalidInput("delta must not be 0", field=["delta"]))
    if reason not in ADJUSTABLE:
        checks.add(
            InvalidInput(
                f"stock is adjusted with reason {enum_values(ADJUSTABLE)}; "
                f"{enum_value(reason)} movements are written by the system",
                field=["reason"],
            )
        )
    elif reason == StockReason.receipt and delta < 0:
        checks.add(
            InvalidInput(
                f"{article(enum_value(reason))} adds stock: its delta must be positive",
                field=["delta"],
            )
        )
    with checks:
        note = checked_text(note, field="note", limit=MAX_NOTE) or None
    checks.done()
    return note


@dataclass(frozen=True)
class Level:
    """A product's stock after a change, and its reorder level."""

    quantity: int
    reorder_level: int


async def _apply(session: AsyncSession, product_id: int, delta: int) -> Level | None:
    """Add ``delta`` to the product's stock if it stays within 0..MAX_QUANTITY: the new
    level, or None (no stock level row, or out of bounds). One conditional UPDATE: the
    row lock it takes lasts to the end of the transaction."""
    after = StockLevel.quantity + literal(delta, BigInteger)  # bigint: no int4 overflow
    row = (
        await session.execute(
            update(StockLevel)
            .where(StockLevel.product_id == product_id, after >= 0, after <= MAX_QUANTITY)
            .values(quantity=StockLevel.quantity + delta, updated_at=func.now())
            .returning(StockLevel.quantity, StockLevel.reorder_level)
        )
    ).one_or_none()
    return None if row is None else Level(int(row.quantity), int(row.reorder_level))


async def _check_low(
    session: AsyncSession,
    product_id: int,
    before: int,
    level: Level,
    actor: Principal,
    sku: str | None = None,
) -> None:
    """Emit ``stock.low`` when this change took the stock from above the reorder level to
    at or below it."""
    if not before > level.reorder_level >= level.quantity:
        return
    if sku is None:
        sku = await session.scalar(select(Product.sku).where(Product.id == product_id))
    await emit(
        session,
        "stock.low",
        entity_type="StockLevel",
        entity_id=product_id,
        customer_id=None,
        data={
            **fields_of({"product_id": product_id}, ("product_id",)),
            "sku": sku,
            "quantity": level.quantity,
            "previousQuantity": before,
            "reorderLevel": level.reorder_level,
        },
        actor=actor,
    )


async def adjust_stock(
    session: AsyncSession,
    *,
    product_id: int,
    delta: int,
    reason: str,
    note: str | None = None,
    actor: Principal,
) -> Adjusted:
    """``stockAdjust``: add ``delta`` (negative: remove) to a product's stock, with a
    movement. Never below zero: ``INSUFFICIENT_STOCK`` says how many are on hand."""
    actor.require(Permission.STOCK_WRITE)
    actor.require_staff("change stock")
    note = _checked_adjustment(delta, reason, note)
    sku = await session.scalar(select(Product.sku).where(Product.id == product_id))
    if sku is None:
        raise NotFound(f"no {named('Product', product_id)}", field=["productId"])
    product = named("Product", key=sku)
    level = await _apply(session, product_id, delta)
    if level is None:
        # a product without a stock level row has none: make it (at 0), then try again
        await session.execute(
            insert(StockLevel).values(product_id=product_id, quantity=0).on_conflict_do_nothing()
        )
        level = await _apply(session, product_id, delta)
    if level is None:
        on_hand = int(
            await session.scalar(
                select(StockLevel.quantity).where(StockLevel.product_id == product_id)
            )
            or 0
        )
        if delta < 0:
            raise InsufficientStock(
                f"only {on_hand} of {product} in stock: can't remove {-delta}", field=["delta"]
            )
        raise InvalidInput(
            f"stock of {product} can't exceed {MAX_QUANTITY} ({on_hand} on hand)", field=["delta"]
        )
    quantity = level.quantity
    movement = StockMovement(
        product_id=product_id,
        delta=delta,
        reason=reason,
        quantity_after=quantity,
        actor_id=actor.user_id,
        note=note,
    )
    session.add(movement)
    await session.flush()
    record(
        session,
        actor,
        "stock.adjust",
        "StockLevel",
        product_id,
        before={"quantity": quantity - delta},
        after={"quantity": quantity},
        sku=sku,
        delta=delta,
        reason=reason,
        note=note,
        movement_id=movement.id,
    )
    await _check_low(session, product_id, quantity - delta, level, actor, sku)
    await session.flush()
    return Adjusted(product_id, movement.id, quantity)


async def lock_stock(session: AsyncSession, product_ids: Iterable[int]) -> dict[int, int]:
    """The quantity on hand of each product, its stock level row locked ``FOR UPDATE``
    until the transaction ends. Rows are locked in product-id order, so two orders of the
    same products can't deadlock. A product without a stock level row has none (absent)."""
    ids = sorted(set(product_ids))
    rows = await session.execute(
        select(StockLevel.product_id, StockLevel.quantity)
        .where(StockLevel.product_id.in_(ids))
        .order_by(StockLevel.product_id)
        .with_for_update()
    )
    return {int(row.product_id): int(row.quantity) for row in rows}


async def move_stock(
    session: AsyncSession,
    *,
    moves: Iterable[tuple[int, int]],
    reason: StockReason,
    order_id: int,
    on_hand: Mapping[int, int],
    actor: Principal,
) -> dict[int, int]:
    """Write the ``(product id, delta)`` moves of an order (its lines, in order): one
    movement each with the running quantity after it, then one UPDATE per product, in
    product-id order. The stock rows must be locked already (``lock_stock``) and the
    moves checked against ``on_hand``. Returns each product's quantity after."""
    running = dict(on_hand)
    movements = []
    for product_id, delta in moves:
        running[product_id] = running.get(product_id, 0) + delta
        movements.append(
            StockMovement(
                product_id=product_id,
                delta=delta,
                reason=reason.value,
                quantity_after=running[product_id],
                order_id=order_id,
                actor_id=actor.user_id,
            )
        )
    missing = [product_id for product_id in running if product_id not in on_hand]
    if missing:  # restoring stock of a product that lost its stock level row
        await session.execute(
            insert(StockLevel)
            .values([{"product_id": product_id, "quantity": 0} for product_id in missing])
            .on_conflict_do_nothing()
        )
    for product_id in sorted(running):
        before = on_hand.get(product_id, 0)
        level = await _apply(session, product_id, running[product_id] - before)
        if level is None or level.quantity != running[product_id]:
            # the rows were not locked: a bug, not a user error
            raise AssertionError(f"stock of product {product_id} changed under its lock")
        await _check_low(session, product_id, before, level, actor)
    session.add_all(movements)
    await session.flush()
    return running
