"""Products: productCreate (with its stock level and ``initial`` movement), productUpdate,
productDeactivate; the checks of SKUs and money every product and order path shares.

Every function flushes, never commits: the caller owns the transaction. Failures are
``DomainError``s with ``field`` the path into the GraphQL input (camelCase).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import DuplicateSku, InvalidInput, InvalidSku, InvalidState, NotFound
from opsgraph.models import Product, StockLevel, StockMovement, StockReason
from opsgraph.models.product import SKU_PATTERN
from opsgraph.services.audit import record, snapshot

SKU = re.compile(SKU_PATTERN)
SKU_CONSTRAINT = "uq_product_sku"
MAX_NAME = 200
MAX_DESCRIPTION = 5000
# NUMERIC(12,2): ten digits before the point
MAX_MONEY = Decimal("9999999999.99")
MAX_QUANTITY = 2**31 - 1  # stock_level.quantity is an INTEGER
CENT = Decimal("0.01")
FIELDS = ("sku", "name", "description", "unit_price", "active")


def checked_money(value: Decimal, *, field: Sequence[str], what: str = "amount") -> Decimal:
    """An amount of money as stored: finite, not negative, at most 2 decimals and within
    NUMERIC(12,2); a typed BAD_USER_INPUT naming ``field`` otherwise."""
    if not value.is_finite():
        raise InvalidInput(f"{what} must be a number, not {value}", field=field)
    if value < 0:
        raise InvalidInput(f"{what} must not be negative (got {value})", field=field)
    if value > MAX_MONEY:
        raise InvalidInput(f"{what} must be at most {MAX_MONEY} (got {value})", field=field)
    if value != value.quantize(CENT):
        raise InvalidInput(f"{what} must have at most 2 decimals (got {value})", field=field)
    return value.quantize(CENT) + 0  # + 0: no negative zero


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


def _checked_name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise InvalidInput("name must not be blank", field=["name"])
    if len(name) > MAX_NAME:
        raise InvalidInput(f"name must be at most {MAX_NAME} characters", field=["name"])
    return name


def _checked_description(raw: str) -> str:
    description = raw.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"description must be at most {MAX_DESCRIPTION} characters", field=["description"]
        )
    return description


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
    try:
        await session.flush()
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        if constraint == SKU_CONSTRAINT:
            raise _duplicate(sku) from None
        raise


async def product_for_update(session: AsyncSession, product_id: int, *, field: str) -> Product:
    product = await session.scalar(
        select(Product).where(Product.id == product_id).with_for_update()
    )
    if product is None:
        raise NotFound(f"no product with id {product_id}", field=[field])
    return product


async def create_product(
    session: AsyncSession,
    *,
    sku: str,
    name: str,
    description: str = "",
    unit_price: Decimal,
    initial_stock: int = 0,
    actor: Principal,
) -> Product:
    """``productCreate``: the product, its stock level of ``initial_stock`` and the
    ``initial`` movement that explains it (delta = the initial stock, even 0)."""
    actor.require("product:write")
    sku = checked_sku(sku)
    name = _checked_name(name)
    description = _checked_description(description)
    price = checked_money(unit_price, field=["unitPrice"], what="unit price")
    if not 0 <= initial_stock <= MAX_QUANTITY:
        raise InvalidInput(
            f"initial stock must be 0 or more (got {initial_stock})", field=["initialStock"]
        )
    await _check_sku_free(session, sku, other_than=None)
    product = Product(sku=sku, name=name, description=description, unit_price=price, active=True)
    session.add(product)
    await _flush_sku(session, sku)
    session.add(StockLevel(product_id=product.id, quantity=initial_stock))
    session.add(
        StockMovement(
            product_id=product.id,
            delta=initial_stock,
            reason=StockReason.initial.value,
            quantity_after=initial_stock,
            actor_id=actor.user_id,
        )
    )
    record(
        session,
        actor,
        "product.create",
        "Product",
        product.id,
        after=snapshot(product, FIELDS),
        initial_stock=initial_stock,
    )
    await session.flush()
    return product


async def update_product(
    session: AsyncSession,
    *,
    product_id: int,
    sku: str | None = None,
    name: str | None = None,
    description: str | None = None,
    unit_price: Decimal | None = None,
    actor: Principal,
) -> Product:
    """``productUpdate``: the fields given (None: unchanged). A new SKU gets the same
    checks as on create. Existing order lines keep the price they were sold at. Audited
    only when something changed."""
    actor.require("product:write")
    product = await product_for_update(session, product_id, field="id")
    before = snapshot(product, FIELDS)
    changes: dict[str, Any] = {}
    if sku is not None:
        changes["sku"] = checked_sku(sku)
    if name is not None:
        changes["name"] = _checked_name(name)
    if description is not None:
        changes["description"] = _checked_description(description)
    if unit_price is not None:
        changes["unit_price"] = checked_money(unit_price, field=["unitPrice"], what="unit price")
    changed = {key: value for key, value in changes.items() if before[key] != snapshot_value(value)}
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
    actor.require("product:write")
    product = await product_for_update(session, product_id, field="id")
    if not product.active:
        raise InvalidState(f"product {product.sku} is already inactive", field=["id"])
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
