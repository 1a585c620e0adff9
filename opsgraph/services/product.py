"""Products: productCreate (with its stock level and ``initial`` movement), productUpdate,
productDeactivate; the check of SKUs.

Every function flushes, never commits: the caller owns the transaction. Failures are
``DomainError``s with ``field`` the path into the GraphQL input (camelCase).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import DuplicateSku, InvalidInput, InvalidSku, InvalidState
from opsgraph.graph.names import name_of
from opsgraph.models import Product, StockLevel, StockMovement, StockReason
from opsgraph.models.product import SKU_PATTERN
from opsgraph.permissions import Permission
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import InputChecks, checked_money, checked_text
from opsgraph.services.patch import KEEP, Patch, required
from opsgraph.services.rows import flush_unique, locked

SKU = re.compile(SKU_PATTERN)
SKU_CONSTRAINT = "uq_product_sku"
MAX_NAME = 200
MAX_DESCRIPTION = 5000
MAX_QUANTITY = 2**31 - 1  # stock_level.quantity is an INTEGER
FIELDS = ("sku", "name", "description", "unit_price", "active")


def checked_sku(raw: str, *, field: str = "sku") -> str:
    """A SKU as stored: surrounding blanks dropped, otherwise exactly as given (no case
    folding: ``snow-shovel`` is refused, not silently made ``SNOW-SHOVEL``)."""
    sku = raw.strip()
    if not SKU.match(sku):
        raise InvalidSku(
            f"SKU {raw!r} is not valid: 3-32 characters, upper-case letters A-Z, digits and "
            "'-', starting with a letter or digit and not ending with '-'",
            field=[field],
        )
    return sku


def _duplicate(sku: str) -> DuplicateSku:
    return DuplicateSku(f"a product with the SKU {sku!r} already exists", field=["sku"])


async def _check_sku_free(session: AsyncSession, sku: str, *, other_than: int | None) -> None:
    query = select(Product.id).where(Product.sku == sku)
    if other_than is not None:
        query = query.where(Product.id != other_than)
    if await session.scalar(query) is not None:
        raise _duplicate(sku)


async def _flush_sku(session: AsyncSession, sku: str) -> None:
    """Flush; a SKU taken meanwhile by a concurrent request is ``DuplicateSku``."""
    await flush_unique(session, constraint=SKU_CONSTRAINT, error=_duplicate(sku))


async def create_product(
    session: AsyncSession,
    *,
    sku: str,
    name: str,
    description: str = "",
    unit_price: Decimal,
    initial_stock: int = 0,
    reorder_level: int = 0,
    actor: Principal,
) -> Product:
    """``productCreate``: the product, its stock level of ``initial_stock`` and the
    ``initial`` movement that explains it (delta = the initial stock, even 0)."""
    actor.require(Permission.PRODUCT_WRITE)
    actor.require_staff("write products")
    checks = InputChecks()  # every broken input rule at once
    with checks:
        sku = checked_sku(sku)
    with checks:
        name = checked_text(name, field="name", limit=MAX_NAME, blank=False)
    with checks:
        description = checked_text(description, field="description", limit=MAX_DESCRIPTION)
    with checks:
        price = checked_money(unit_price, field="unitPrice", label="unit price")
    if not 0 <= initial_stock <= MAX_QUANTITY:
        checks.add(
            InvalidInput(
                f"initialStock must be 0 to {MAX_QUANTITY} (got {initial_stock})",
                field=["initialStock"],
            )
        )
    with checks:
        _check_reorder_level(reorder_level)
    checks.done()
    await _check_sku_free(session, sku, other_than=None)
    product = Product(sku=sku, name=name, description=description, unit_price=price, active=True)
    session.add(product)
    await _flush_sku(session, sku)
    session.add(
        StockLevel(product_id=product.id, quantity=initial_stock, reorder_level=reorder_level)
    )
    session.add(
        StockMovement(
            product_id=product.id,
            delta=initial_stock,
            reason=StockReason.initial.value,
            quantity_after=initial_stock,
            actor_id=actor.user_id,
        )
    )
    extra: dict[str, Any] = {"reorder_level": reorder_level} if reorder_level else {}
    record(
        session,
        actor,
        "product.create",
        "Product",
        product.id,
        after=snapshot(product, FIELDS),
        initial_stock=initial_stock,
        **extra,
    )
    await session.flush()
    return product


def _check_reorder_level(level: int) -> None:
    if not 0 <= level <= MAX_QUANTITY:
        raise InvalidInput(
            f"reorderLevel must be 0 to {MAX_QUANTITY} (got {level})", field=["reorderLevel"]
        )


async def _set_reorder_level(
    session: AsyncSession, product: Product, level: int, actor: Principal
) -> None:
    """Set the product's reorder level (audited when it changes). Setting it above the
    stock on hand emits nothing: ``stock.low`` is about movements."""
    _check_reorder_level(level)
    before = await session.scalar(
        select(StockLevel.reorder_level)
        .where(StockLevel.product_id == product.id)
        .with_for_update()
    )
    if before == level:
        return
    if before is None:
        session.add(StockLevel(product_id=product.id, quantity=0, reorder_level=level))
    else:
        await session.execute(
            update(StockLevel)
            .where(StockLevel.product_id == product.id)
            .values(reorder_level=level, updated_at=func.now())
        )
    record(
        session,
        actor,
        "stock.reorder_level",
        "StockLevel",
        product.id,
        before={"reorder_level": before},
        after={"reorder_level": level},
        sku=product.sku,
    )
    await session.flush()


async def update_product(
    session: AsyncSession,
    *,
    product_id: int,
    sku: Patch[str | None] = KEEP,
    name: Patch[str | None] = KEEP,
    description: Patch[str | None] = KEEP,
    unit_price: Patch[Decimal | None] = KEEP,
    reorder_level: Patch[int | None] = KEEP,
    actor: Principal,
) -> Product:
    """``productUpdate``: the fields given (none can be null). A new SKU gets the same
    checks as on create. Existing order lines keep the price they were sold at. Audited
    only when something changed."""
    actor.require(Permission.PRODUCT_WRITE)
    actor.require_staff("write products")
    changes: dict[str, Any] = {}
    checks = InputChecks()  # every broken input rule at once
    with checks:
        if (new_sku := required(sku, field="sku")) is not KEEP:
            changes["sku"] = checked_sku(new_sku)
    with checks:
        if (new_name := required(name, field="name")) is not KEEP:
            changes["name"] = checked_text(new_name, field="name", limit=MAX_NAME, blank=False)
    with checks:
        if (new_description := required(description, field="description")) is not KEEP:
            changes["description"] = checked_text(
                new_description, field="description", limit=MAX_DESCRIPTION
            )
    with checks:
        if (price := required(unit_price, field="unitPrice")) is not KEEP:
            changes["unit_price"] = checked_money(price, field="unitPrice", label="unit price")
    level: Patch[int] = KEEP
    with checks:
        if (level := required(reorder_level, field="reorderLevel")) is not KEEP:
            _check_reorder_level(level)
    checks.done()
    product = await locked(session, Product, product_id)
    before = snapshot(product, FIELDS)
    changed = {key: value for key, value in changes.items() if before[key] != snapshot_value(value)}
    if level is not KEEP:
        await _set_reorder_level(session, product, level, actor)
    if not changed:
        return product
    if "sku" in changed:
        await _check_sku_free(session, changed["sku"], other_than=product.id)
    for key, value in changed.items():
        setattr(product, key, value)
    await _flush_sku(session, product.sku)
    record(
        session,
        actor,
        "product.update",
        "Product",
        product.id,
        before=before,
        after=snapshot(product, FIELDS),
    )
    await session.flush()
    await session.refresh(product)
    return product


def snapshot_value(value: Any) -> Any:
    """``value`` as ``snapshot`` keeps it (money as a string), to compare with one."""
    return str(value) if isinstance(value, Decimal) else value


async def deactivate_product(
    session: AsyncSession, *, product_id: int, actor: Principal
) -> Product:
    """``productDeactivate``: the product can't be ordered any more (its stock, movements
    and past orders stay). An already inactive product is ``INVALID_STATE``."""
    actor.require(Permission.PRODUCT_WRITE)
    actor.require_staff("write products")
    product = await locked(session, Product, product_id)
    if not product.active:
        raise InvalidState(f"{name_of(product)} is already inactive", field=["id"])
    product.active = False
    record(
        session,
        actor,
        "product.deactivate",
        "Product",
        product.id,
        before={"active": True},
        after={"active": False},
        sku=product.sku,
    )
    await session.flush()
    await session.refresh(product)
    return product
