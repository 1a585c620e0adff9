"""Purchase orders that partner systems send in: purchaseOrderUpsert,
purchaseOrderChangeState.

Rules:
- upsert by ``external_id``: the customer (by its external id) must exist; a new purchase
  order starts ``received`` at version 1; an existing one gets the given amount (and the
  source and description, when given). A purchase order never moves to another customer
  (``CONFLICT``), and a completed or cancelled one is final (``INVALID_STATE``) — but an
  upsert that changes nothing succeeds on any of them, so a partner may safely re-send.
  Two upserts racing to create one external id both succeed: one creates, the other
  updates (``INSERT ... ON CONFLICT DO NOTHING``, then the row locked ``FOR UPDATE``).
- state changes follow ``transitions.PURCHASE_ORDER`` (forward only) and carry the
  ``state_version`` the caller last saw: a stale one is ``STALE_VERSION`` (the message
  says the current version). The change is one conditional ``UPDATE ... WHERE
  state_version = :expected``, which bumps the version, so of two concurrent changes
  made from the same version exactly one wins.
- amounts: 0 <= amount <= 9,999,999,999.99, at most 2 decimals (``BAD_USER_INPUT``).
  A regional office's sales report has none: a new purchase order starts at 0, an
  existing one keeps its amount. The brand and model it reports are kept when not given.
- inbound webhooks act with API keys bound to whom they speak for: a key bound to a
  regional office (``webhook:sales``) upserts purchase orders of that office only; a key
  bound to a manufacturer (``webhook:manufacturer``) changes the state of purchase orders
  of its brand only, and any other is ``NOT_FOUND`` to it.

Customer-portal users never write purchase orders (``FORBIDDEN``): they come from
partner systems (the ``customer`` role doesn't hold ``purchase_order:write`` anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidState,
    NotFound,
    StaleVersion,
)
from opsgraph.events.emit import emit
from opsgraph.events.payload import diff, fields_of
from opsgraph.graph.names import enum_value, name_of, named
from opsgraph.models import Customer, PurchaseOrder, PurchaseOrderState
from opsgraph.permissions import Permission
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import InputChecks, checked_money, checked_text
from opsgraph.services.transitions import PURCHASE_ORDER

MAX_EXTERNAL_ID = 64
MAX_SOURCE = 100
MAX_DESCRIPTION = 20_000
MAX_BRAND = 64
MAX_CAR_MODEL = 100
FINAL = frozenset({PurchaseOrderState.completed.value, PurchaseOrderState.cancelled.value})

FIELDS = (
    "external_id",
    "customer_id",
    "source",
    "state",
    "description",
    "brand",
    "car_model",
    "amount",
    "state_version",
)
# what identifies a purchase order in purchase_order.state_changed
IDENTIFYING = ("id", "external_id", "customer_id", "brand")


@dataclass(frozen=True)
class Upserted:
    purchase_order: PurchaseOrder
    created: bool


def _writer(actor: Principal, webhook: str | None = None) -> None:
    """``purchase_order:write`` (staff), or ``webhook`` for a key bound to whom it speaks
    for (the caller then scopes the rows to that)."""
    if webhook is not None and actor.can(webhook):
        bound = actor.office_id if webhook == Permission.WEBHOOK_SALES else actor.manufacturer
        if bound is not None:
            return
    actor.require(Permission.PURCHASE_ORDER_WRITE)
    actor.require_staff("write purchase orders")


async def _locked(session: AsyncSession, external_id: str) -> PurchaseOrder | None:
    query = select(PurchaseOrder).where(PurchaseOrder.external_id == external_id)
    found: PurchaseOrder | None = await session.scalar(query.with_for_update())
    return found


async def upsert_purchase_order(
    session: AsyncSession,
    *,
    external_id: str,
    customer_external_id: str | None = None,
    customer_id: int | None = None,
    amount: Decimal | None = None,
    source: str | None = None,
    description: str | None = None,
    brand: str | None = None,
    car_model: str | None = None,
    actor: Principal,
) -> Upserted:
    """Create the purchase order ``external_id`` or update it (None: keep as it is; a new
    one's amount is then 0). The customer is named by its external id or its id."""
    _writer(actor, Permission.WEBHOOK_SALES)
    checks = InputChecks()  # every broken input rule at once; None: kept as it is
    with checks:
        external_id = checked_text(
            external_id, field="externalId", limit=MAX_EXTERNAL_ID, blank=False
        )
    with checks:
        amount = None if amount is None else checked_money(amount, field="amount")
    with checks:
        source = None if source is None else checked_text(source, field="source", limit=MAX_SOURCE)
    with checks:
        if description is not None:
            description = checked_text(description, field="description", limit=MAX_DESCRIPTION)
    with checks:
        if brand is not None:
            brand = checked_text(brand, field="brand", limit=MAX_BRAND, blank=False)
    with checks:
        if car_model is not None:
            car_model = checked_text(car_model, field="carModel", limit=MAX_CAR_MODEL, blank=False)
    if (customer_external_id is None) == (customer_id is None):
        checks.add(
            InvalidInput("give either customerExternalId or customerId", field=["customerId"])
        )
    checks.done()
    customer_id = await _customer(session, customer_external_id, customer_id, actor)
    existing = await _locked(session, external_id)
    if existing is None:
        created = await session.scalar(
            insert(PurchaseOrder)
            .values(
                external_id=external_id,
                customer_id=customer_id,
                source=source or "",
                description=description or "",
                brand=brand,
                car_model=car_model,
                amount=amount or 0,
            )
            .on_conflict_do_nothing(index_elements=[PurchaseOrder.external_id])
            .returning(PurchaseOrder.id)
        )
        if created is not None:
            order = await session.get_one(PurchaseOrder, created)
            after = snapshot(order, FIELDS)
            record(session, actor, "purchase_order.create", "PurchaseOrder", order.id, after=after)
            await emit(
                session,
                "purchase_order.created",
                entity_type="PurchaseOrder",
                entity_id=order.id,
                customer_id=order.customer_id,
                data=fields_of(order, ("id", *FIELDS), type_name="PurchaseOrder"),
                actor=actor,
            )
            await session.flush()
            return Upserted(order, created=True)
        # another request created it meanwhile (and committed): update that one
        existing = await _locked(session, external_id)
        if existing is None:  # pragma: no cover - purchase orders are never deleted
            raise Conflict(
                f"{named('PurchaseOrder', key=external_id)} changed meanwhile; try again"
            )
    given = {
        "amount": amount,
        "source": source,
        "description": description,
        "brand": brand,
        "car_model": car_model,
    }
    return Upserted(await _update(session, existing, customer_id, given, actor), created=False)


async def _customer(
    session: AsyncSession, external_id: str | None, customer_id: int | None, actor: Principal
) -> int:
    """The id of the customer named by ``external_id`` or ``customer_id`` (exactly one),
    locked ``FOR KEY SHARE`` so it can't be deleted under the purchase order; a key bound
    to a regional office names only that office."""
    if (external_id is None) == (customer_id is None):
        raise InvalidInput("give either customerExternalId or customerId", field=["customerId"])
    field = "customerExternalId" if external_id is not None else "customerId"
    where = (
        Customer.external_id == external_id.strip()
        if external_id is not None
        else Customer.id == customer_id
    )
    found = await session.scalar(
        select(Customer.id).where(where).with_for_update(read=True, key_share=True)
    )
    if found is None:
        customer = (
            named("Customer", key=external_id.strip())
            if external_id is not None
            else named("Customer", customer_id)
        )
        raise NotFound(f"no {customer}", field=[field])
    if actor.office_id is not None and found != actor.office_id:
        raise Forbidden("this key reports purchase orders of its own office only", field=[field])
    return int(found)


async def _update(
    session: AsyncSession,
    order: PurchaseOrder,
    customer_id: int,
    given: Mapping[str, object],
    actor: Principal,
) -> PurchaseOrder:
    if order.customer_id != customer_id:
        raise Conflict(
            f"{name_of(order)} belongs to another customer; "
            "a purchase order can't move to another customer",
            field=["customerExternalId"],
        )
    before = snapshot(order, FIELDS)
    # None: kept as it is
    wanted = {
        name: getattr(order, name) if value is None else value for name, value in given.items()
    }
    if all(getattr(order, name) == value for name, value in wanted.items()):
        return order  # a re-send: nothing to change, nothing to record
    if order.state in FINAL:
        raise InvalidState(
            f"{name_of(order)} is {enum_value(order.state)}: it can't change any more",
            field=["externalId"],
        )
    for name, value in wanted.items():
        setattr(order, name, value)
    await session.flush()
    await session.refresh(order)
    after = snapshot(order, FIELDS)
    record(
        session,
        actor,
        "purchase_order.update",
        "PurchaseOrder",
        order.id,
        before=before,
        after=after,
    )
    await session.flush()
    return order


def of_brand(actor: Principal) -> list[ColumnElement[bool]]:
    """The rows a key bound to a manufacturer may change: its brand's (any case)."""
    if actor.manufacturer is None:
        return []
    return [func.lower(PurchaseOrder.brand) == actor.manufacturer.lower()]


def _stale(external_id: str, expected: int, current: int) -> StaleVersion:
    return StaleVersion(
        f"{named('PurchaseOrder', key=external_id)} is at version {current}, not {expected}: "
        "it changed since you read it",
        field=["expectedVersion"],
    )


async def change_purchase_order_state(
    session: AsyncSession,
    *,
    state: str,
    expected_version: int,
    purchase_order_id: int | None = None,
    external_id: str | None = None,
    actor: Principal,
) -> PurchaseOrder:
    """Move the purchase order (by id or external id) to ``state``, if it is still at
    ``expected_version``; the version goes up by one. A key bound to a manufacturer sees
    only purchase orders of its brand."""
    _writer(actor, Permission.WEBHOOK_MANUFACTURER)
    where: ColumnElement[bool]
    if (purchase_order_id is None) == (external_id is None):
        raise InvalidInput("give either id or externalId", field=["id"])
    if purchase_order_id is not None:
        where, field = PurchaseOrder.id == purchase_order_id, "id"
        wanted = named("PurchaseOrder", purchase_order_id)
    else:
        key = (external_id or "").strip()
        where, field = PurchaseOrder.external_id == key, "externalId"
        wanted = named("PurchaseOrder", key=key)
    found = (
        await session.execute(
            select(
                PurchaseOrder.id,
                PurchaseOrder.external_id,
                PurchaseOrder.state,
                PurchaseOrder.state_version,
            ).where(where, *of_brand(actor))
        )
    ).one_or_none()
    if found is None:
        raise NotFound(f"no {wanted}", field=[field])
    if found.state_version != expected_version:
        raise _stale(found.external_id, expected_version, found.state_version)
    PURCHASE_ORDER.check(found.state, state, field="state")
    # the version checked again by the UPDATE itself: of two changes from one version,
    # the second finds no row (PostgreSQL re-checks the WHERE on the row it waited for)
    version = await session.scalar(
        update(PurchaseOrder)
        .where(PurchaseOrder.id == found.id, PurchaseOrder.state_version == expected_version)
        .values(state=state, state_version=PurchaseOrder.state_version + 1, updated_at=func.now())
        .returning(PurchaseOrder.state_version)
        .execution_options(synchronize_session=False)
    )
    if version is None:
        current = await session.scalar(
            select(PurchaseOrder.state_version).where(PurchaseOrder.id == found.id)
        )
        raise _stale(found.external_id, expected_version, int(current or 0))
    record(
        session,
        actor,
        "purchase_order.change_state",
        "PurchaseOrder",
        found.id,
        before={"state": found.state, "state_version": found.state_version},
        after={"state": state, "state_version": version},
    )
    order = await session.get_one(PurchaseOrder, found.id, populate_existing=True)
    await emit(
        session,
        "purchase_order.state_changed",
        entity_type="PurchaseOrder",
        entity_id=order.id,
        customer_id=order.customer_id,
        data={
            **fields_of(order, IDENTIFYING, type_name="PurchaseOrder"),
            "changes": diff(
                {"state": found.state, "state_version": found.state_version},
                {"state": state, "state_version": version},
            ),
        },
        actor=actor,
    )
    await session.flush()
    return order
