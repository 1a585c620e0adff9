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

Customer-portal users never write purchase orders (``FORBIDDEN``): they come from
partner systems (the ``customer`` role doesn't hold ``purchase_order:write`` anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import (
    Conflict,
    InvalidInput,
    InvalidState,
    NotFound,
    StaleVersion,
)
from opsgraph.events.emit import emit
from opsgraph.events.payload import diff, fields_of
from opsgraph.models import Customer, PurchaseOrder, PurchaseOrderState
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import checked_money, checked_text
from opsgraph.services.transitions import PURCHASE_ORDER

MAX_EXTERNAL_ID = 64
MAX_SOURCE = 100
MAX_DESCRIPTION = 20_000
FINAL = frozenset({PurchaseOrderState.completed.value, PurchaseOrderState.cancelled.value})

FIELDS = ("external_id", "customer_id", "source", "state", "description", "amount", "state_version")


@dataclass(frozen=True)
class Upserted:
    purchase_order: PurchaseOrder
    created: bool


def _writer(actor: Principal) -> None:
    actor.require("purchase_order:write")
    actor.require_staff("write purchase orders")


async def _locked(session: AsyncSession, external_id: str) -> PurchaseOrder | None:
    query = select(PurchaseOrder).where(PurchaseOrder.external_id == external_id)
    found: PurchaseOrder | None = await session.scalar(query.with_for_update())
    return found


async def upsert_purchase_order(
    session: AsyncSession,
    *,
    external_id: str,
    customer_external_id: str,
    amount: Decimal,
    source: str | None = None,
    description: str | None = None,
    actor: Principal,
) -> Upserted:
    """Create the purchase order ``external_id`` or update it (None: keep as it is)."""
    _writer(actor)
    external_id = checked_text(external_id, field="externalId", limit=MAX_EXTERNAL_ID, blank=False)
    amount = checked_money(amount, field="amount")
    # None: kept as it is
    if source is not None:
        source = checked_text(source, field="source", limit=MAX_SOURCE)
    if description is not None:
        description = checked_text(description, field="description", limit=MAX_DESCRIPTION)
    # FOR KEY SHARE: the customer can't be deleted under the purchase order
    customer_id = await session.scalar(
        select(Customer.id)
        .where(Customer.external_id == customer_external_id.strip())
        .with_for_update(read=True, key_share=True)
    )
    if customer_id is None:
        raise NotFound(
            f"no customer with external id {customer_external_id!r}",
            field=["customerExternalId"],
        )
    existing = await _locked(session, external_id)
    if existing is None:
        created = await session.scalar(
            insert(PurchaseOrder)
            .values(
                external_id=external_id,
                customer_id=customer_id,
                source=source or "",
                description=description or "",
                amount=amount,
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
            raise Conflict(f"purchase order {external_id!r} changed meanwhile; try again")
    return Upserted(
        await _update(session, existing, customer_id, amount, source, description, actor),
        created=False,
    )


async def _update(
    session: AsyncSession,
    order: PurchaseOrder,
    customer_id: int,
    amount: Decimal,
    source: str | None,
    description: str | None,
    actor: Principal,
) -> PurchaseOrder:
    if order.customer_id != customer_id:
        raise Conflict(
            f"purchase order {order.external_id!r} belongs to another customer; "
            "a purchase order can't move to another customer",
            field=["customerExternalId"],
        )
    before = snapshot(order, FIELDS)
    wanted = {
        "amount": amount,
        "source": order.source if source is None else source,
        "description": order.description if description is None else description,
    }
    if all(getattr(order, name) == value for name, value in wanted.items()):
        return order  # a re-send: nothing to change, nothing to record
    if order.state in FINAL:
        raise InvalidState(
            f"purchase order {order.external_id!r} is {order.state}: it can't change any more",
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


def _stale(external_id: str, expected: int, current: int) -> StaleVersion:
    return StaleVersion(
        f"purchase order {external_id!r} is at version {current}, not {expected}: "
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
    ``expected_version``; the version goes up by one."""
    _writer(actor)
    where: ColumnElement[bool]
    if (purchase_order_id is None) == (external_id is None):
        raise InvalidInput("give either id or externalId", field=["id"])
    if purchase_order_id is not None:
        where, field, named = PurchaseOrder.id == purchase_order_id, "id", str(purchase_order_id)
    else:
        named = (external_id or "").strip()
        where, field = PurchaseOrder.external_id == named, "externalId"
    found = (
        await session.execute(
            select(
                PurchaseOrder.id,
                PurchaseOrder.external_id,
                PurchaseOrder.state,
                PurchaseOrder.state_version,
            ).where(where)
        )
    ).one_or_none()
    if found is None:
        raise NotFound(f"no purchase order {named!r}", field=[field])
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
            **fields_of(order, ("id", "external_id", "customer_id"), type_name="PurchaseOrder"),
            "changes": diff(
                {"state": found.state, "state_version": found.state_version},
                {"state": state, "state_version": version},
            ),
        },
        actor=actor,
    )
    await session.flush()
    return order
