"""Inbound webhooks, stored as receipts: a regional office's sales report and a
manufacturer's state report, and the ``webhookReceipts`` log.

Rules:
- a receipt is idempotent on ``(source, dedup_key)``: the sender's ``webhook-id``, or what
  identifies the message without one. The first delivery stores it; a repeat with the same
  body finds it and answers as the first did; a repeat with another body is a
  ``CONFLICT``. The insert is ``ON CONFLICT DO NOTHING``: of concurrent deliveries of one
  key, one stores it and the others wait for that transaction, then find it.
- a sales report is stored with its processing job (``webhooks.process_receipt`` on queue
  ``inbound``) in one transaction, so a stored receipt is always processed: the purchase
  order is upserted by ``upsert_purchase_order``, acting as the key that sent it. A refusal
  of the service fails the receipt with its error, for good.
- a state report is applied at once by ``change_purchase_order_state`` (forward only), in
  the transaction that stores its receipt: processed, or failed with the refusal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, each_error
from opsgraph.events.queue import defer
from opsgraph.graph import names
from opsgraph.models import ApiKey, Customer, PurchaseOrder, ReceiptStatus, User, WebhookReceipt
from opsgraph.permissions import Permission
from opsgraph.services.purchase_order import change_purchase_order_state, of_brand
from opsgraph.services.purchase_order import upsert_purchase_order as upsert

PROCESS_TASK = "webhooks.process_receipt"
PROCESS_QUEUE = "inbound"
SALES = "sales"
MANUFACTURER = "manufacturer"
# a state report that lost a race with another change of the same purchase order reads it
# again and retries, this many times
STATE_ATTEMPTS = 3


@dataclass(frozen=True)
class Stored:
    """A receipt as a delivery finds it: ``duplicate`` when an earlier one stored it."""

    receipt: WebhookReceipt
    duplicate: bool


@dataclass(frozen=True)
class StateReport:
    """What a manufacturer's state report did: the receipt, and the purchase order as it
    is now (``receipt.status`` failed: refused, ``receipt.error`` says why)."""

    receipt: WebhookReceipt
    purchase_order: PurchaseOrder
    duplicate: bool


async def _store(
    session: AsyncSession,
    *,
    source: str,
    dedup_key: str,
    body: dict[str, Any],
    body_sha256: str,
    customer_id: int | None,
    actor: Principal,
) -> Stored:
    """Insert the receipt, or find the one stored under its key (same body, or
    ``CONFLICT``)."""
    receipt_id = await session.scalar(
        insert(WebhookReceipt)
        .values(
            source=source,
            dedup_key=dedup_key,
            body_sha256=body_sha256,
            body=body,
            customer_id=customer_id,
            api_key_id=actor.api_key_id,
        )
        .on_conflict_do_nothing(index_elements=["source", "dedup_key"])
        .returning(WebhookReceipt.id)
    )
    if receipt_id is not None:
        return Stored(await session.get_one(WebhookReceipt, receipt_id), duplicate=False)
    found = await session.scalar(
        select(WebhookReceipt).where(
            WebhookReceipt.source == source, WebhookReceipt.dedup_key == dedup_key
        )
    )
    if found is None:  # pragma: no cover - receipts are only deleted with their sender
        raise Conflict("the earlier delivery of this webhook is gone; send it again")
    if found.body_sha256 != body_sha256:
        raise Conflict(
            "a webhook with this id (or for this order) was received before with another "
            "body: send changes under a new webhook-id",
            field=["webhook-id"],
        )
    return Stored(found, duplicate=True)


def _sha256(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _check_office(session: AsyncSession, office_id: int, named: str) -> None:
    """The office a report names must be the one its key speaks for: the customer's
    external id or name (case and surrounding spaces aside)."""
    row = (
        await session.execute(
            select(Customer.name, Customer.external_id).where(Customer.id == office_id)
        )
    ).one_or_none()
    known = {value.strip().casefold() for value in row or () if value is not None}
    if named.strip().casefold() not in known:
        raise InvalidInput(
            "the API key speaks for the regional office "
            f"{row.name if row else names.named('Customer', office_id)!r}, "
            f"not {named!r}",
            field=["regional_office"],
        )


async def receive_sales_report(
    session: AsyncSession,
    *,
    report: dict[str, Any],
    webhook_id: str | None,
    actor: Principal,
) -> Stored:
    """Store a sales report (``regional_office``, ``external_order_number``, ``car_model``,
    ``brand``, checked by the caller) of the actor's regional office with the job that
    processes it; once per ``webhook_id``, or per order number without one."""
    actor.require(Permission.WEBHOOK_SALES)
    if actor.office_id is None:
        raise Forbidden("this API key is bound to no regional office")
    await _check_office(session, actor.office_id, str(report["regional_office"]))
    dedup_key = (
        f"{actor.office_id}/id/{webhook_id}"
        if webhook_id is not None
        else f"{actor.office_id}/order/{report['external_order_number']}"
    )
    stored = await _store(
        session,
        source=SALES,
        dedup_key=dedup_key,
        body=report,
        body_sha256=_sha256(report),
        customer_id=actor.office_id,
        actor=actor,
    )
    if not stored.duplicate:
        await defer(session, PROCESS_TASK, [{"receipt_id": stored.receipt.id}], queue=PROCESS_QUEUE)
    return stored


async def _sender(session: AsyncSession, receipt: WebhookReceipt) -> Principal | None:
    """The principal a sales receipt is processed as: the key that sent it, with the right
    it was stored with (``webhook:sales`` for its office); None when the key is gone."""
    if receipt.api_key_id is None:
        return None
    row = (
        await session.execute(
            select(User.id, User.username)
            .join(ApiKey, ApiKey.created_by == User.id)
            .where(ApiKey.id == receipt.api_key_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return Principal(
        user_id=row.id,
        username=row.username,
        permissions=frozenset({Permission.WEBHOOK_SALES}),
        office_id=receipt.customer_id,
        api_key_id=receipt.api_key_id,
    )


def _refusal(error: DomainError) -> str:
    return "; ".join(f"{each.code}: {each.message}" for each in each_error(error))


async def process_sales_receipt(session: AsyncSession, *, receipt_id: int) -> WebhookReceipt | None:
    """Upsert the purchase order of a stored sales report (the ``webhooks.process_receipt``
    job): processed, or failed with the service's refusal. A receipt that is not
    ``received`` any more (its job ran before) is left as it is; None: no such receipt."""
    receipt = await session.scalar(
        select(WebhookReceipt).where(WebhookReceipt.id == receipt_id).with_for_update()
    )
    if receipt is None or receipt.status != ReceiptStatus.received.value:
        return receipt
    actor = await _sender(session, receipt)
    if actor is None:
        return _finish(receipt, error="the API key that sent it no longer exists")
    body = receipt.body
    try:
        async with session.begin_nested():
            done = await upsert(
                session,
                external_id=str(body["external_order_number"]),
                customer_id=receipt.customer_id,
                brand=str(body["brand"]),
                car_model=str(body["car_model"]),
                source=str(body["regional_office"]),
                actor=actor,
            )
    except DomainError as refused:
        return _finish(receipt, error=_refusal(refused))
    return _finish(receipt, purchase_order_id=done.purchase_order.id)


def _finish(
    receipt: WebhookReceipt, *, error: str | None = None, purchase_order_id: int | None = None
) -> WebhookReceipt:
    receipt.status = (ReceiptStatus.failed if error else ReceiptStatus.processed).value
    receipt.error = error
    receipt.purchase_order_id = purchase_order_id
    receipt.processed_at = dt.datetime.now(dt.UTC)
    return receipt


async def fail_receipt(session: AsyncSession, *, receipt_id: int, error: str) -> None:
    """Fail a receipt still ``received`` whose processing broke unexpectedly."""
    receipt = await session.scalar(
        select(WebhookReceipt).where(WebhookReceipt.id == receipt_id).with_for_update()
    )
    if receipt is not None and receipt.status == ReceiptStatus.received.value:
        _finish(receipt, error=error)


async def _order_of(
    session: AsyncSession, purchase_order_id: int, actor: Principal
) -> PurchaseOrder:
    order = await session.scalar(
        select(PurchaseOrder)
        .where(PurchaseOrder.id == purchase_order_id, *of_brand(actor))
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound("no such purchase order", field=["purchase_id"])
    return order


async def receive_state_report(
    session: AsyncSession,
    *,
    purchase_order_id: int,
    state: str,
    webhook_id: str | None,
    actor: Principal,
) -> StateReport:
    """Apply a manufacturer's state report to a purchase order of its brand (any other is
    ``NOT_FOUND``): already in that state, nothing changes; a forward move is made; a
    state it can't move to (a late, older one) fails the receipt with the refusal. Once
    per ``webhook_id``, or per purchase order and state without one."""
    actor.require(Permission.WEBHOOK_MANUFACTURER)
    if actor.manufacturer is None:
        raise Forbidden("this API key is bound to no manufacturer")
    order = await _order_of(session, purchase_order_id, actor)
    body = {"purchase_order_id": order.id, "state": state}
    sender = actor.manufacturer.casefold()
    stored = await _store(
        session,
        source=MANUFACTURER,
        dedup_key=f"{sender}/id/{webhook_id}"
        if webhook_id is not None
        else f"{sender}/order/{order.id}/{state}",
        body=body,
        body_sha256=_sha256(body),
        customer_id=order.customer_id,
        actor=actor,
    )
    receipt = stored.receipt
    if stored.duplicate:  # as it is now, after the delivery that stored it
        return StateReport(receipt, await _order_of(session, order.id, actor), duplicate=True)
    for attempt in range(1, STATE_ATTEMPTS + 1):
        if order.state == state:
            break
        try:
            async with session.begin_nested():
                order = await change_purchase_order_state(
                    session,
                    purchase_order_id=order.id,
                    state=state,
                    expected_version=order.state_version,
                    actor=actor,
                )
            break
        except DomainError as refused:
            order = await _order_of(session, purchase_order_id, actor)
            if refused.code == "STALE_VERSION" and attempt < STATE_ATTEMPTS:
                continue
            _finish(receipt, error=_refusal(refused), purchase_order_id=order.id)
            await session.flush()
            return StateReport(receipt, order, duplicate=False)
    _finish(receipt, purchase_order_id=order.id)
    await session.flush()
    return StateReport(receipt, order, duplicate=False)


# --- the receipts log (webhookReceipts) --------------------------------------------------


@dataclass(frozen=True)
class ReceiptPage:
    rows: list[WebhookReceipt]
    has_next: bool


def _filters(statuses: Sequence[str], sources: Sequence[str]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if statuses:
        where.append(WebhookReceipt.status.in_(list(statuses)))
    if sources:
        where.append(WebhookReceipt.source.in_(list(sources)))
    return where


async def list_webhook_receipts(
    session: AsyncSession,
    *,
    statuses: Sequence[str],
    sources: Sequence[str],
    before_id: int | None,
    limit: int,
    actor: Principal,
) -> ReceiptPage:
    """``webhookReceipts`` (``webhook:manage``): up to ``limit`` receipts older than
    ``before_id`` (all when None), newest first, in ``statuses`` and from ``sources`` if
    given."""
    actor.require(Permission.WEBHOOK_MANAGE)
    query = select(WebhookReceipt).where(*_filters(statuses, sources))
    if before_id is not None:
        query = query.where(WebhookReceipt.id < before_id)
    found = await session.scalars(query.order_by(WebhookReceipt.id.desc()).limit(limit + 1))
    rows = list(found.all())
    return ReceiptPage(rows[:limit], has_next=len(rows) > limit)


async def count_webhook_receipts(
    session: AsyncSession, *, statuses: Sequence[str], sources: Sequence[str], actor: Principal
) -> int:
    """How many receipts ``list_webhook_receipts`` pages through."""
    actor.require(Permission.WEBHOOK_MANAGE)
    query = select(func.count()).select_from(WebhookReceipt).where(*_filters(statuses, sources))
    return int(await session.scalar(query) or 0)
