"""Outbound webhook endpoints and their delivery log: register, change and delete an
endpoint, rotate its signing secret, re-send one delivery.

Everything here needs ``webhook:manage`` and is staff work (never a customer-portal
principal). An endpoint may be scoped to one customer (``customer_id``): it then receives
only that customer's events. Who may subscribe to what follows the event feed: a caller
subscribes only to event types whose objects it may read.

The signing secret (``whsec_...``) is made here, handed back once by ``create`` and by
``rotate``, and never read out again. A rotation keeps the previous secret for
``overlap`` (``OPSGRAPH_WEBHOOKS_SECRET_OVERLAP_HOURS``), during which deliveries carry a
signature by each (``signing_secrets``). URLs go through the address guard
(``opsgraph.webhooks.addresses.check_url``) on every write; the worker checks the
resolved addresses again at send time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import Inactive, InvalidInput, InvalidState, NotFound
from opsgraph.events.catalogue import CATALOGUE, readable_types
from opsgraph.events.emit import DELIVER_TASK, DELIVERY_QUEUE
from opsgraph.events.queue import defer
from opsgraph.graph.names import enum_value, name_of, named
from opsgraph.models import Customer, DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint
from opsgraph.permissions import Permission
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import InputChecks, checked_text
from opsgraph.services.patch import KEEP, Patch, given
from opsgraph.services.rows import locked
from opsgraph.webhooks.addresses import check_url
from opsgraph.webhooks.signing import new_secret

MAX_DESCRIPTION: Final = 500
# what the audit trail keeps of an endpoint: never its secrets
AUDITED: Final = ("url", "description", "event_types", "active", "disabled_reason", "customer_id")
# a delivery in these states may be sent again; a pending one is queued already
RETRYABLE: Final = frozenset({DeliveryStatus.failed, DeliveryStatus.dead, DeliveryStatus.succeeded})


@dataclass(frozen=True)
class EndpointSecret:
    """An endpoint with the secret it signs with from now on: shown this once."""

    endpoint: WebhookEndpoint
    secret: str


def signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    """The secrets a delivery made at ``now`` is signed with: the current one, and the
    previous one while its overlap after a rotation has not run out."""
    secrets_ = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and now < expires:
        secrets_.append(endpoint.previous_secret)
    return secrets_


def _authorise(actor: Principal) -> None:
    actor.require(Permission.WEBHOOK_MANAGE)
    actor.require_staff("manage webhooks")


def checked_event_types(types: Sequence[str], actor: Principal) -> list[str]:
    """The event types as stored (catalogue order, each once; none: every type), if the
    actor may read the objects of each (for none: of every type)."""
    unknown = sorted({name for name in types if name not in CATALOGUE})
    if unknown:
        raise InvalidInput(f"unknown event types: {', '.join(unknown)}", field=["eventTypes"])
    wanted = [name for name in CATALOGUE if name in set(types)]
    readable = set(readable_types(actor.permissions))
    beyond = [name for name in wanted or CATALOGUE if name not in readable]
    if beyond:
        raise InvalidInput(
            "you can't subscribe to events about objects you can't read: "
            + ", ".join(f"{name} ({CATALOGUE[name].permission})" for name in beyond),
            field=["eventTypes"],
        )
    return wanted


async def _checked_customer(session: AsyncSession, customer_id: int | None) -> int | None:
    if customer_id is not None and await session.get(Customer, customer_id) is None:
        raise NotFound(f"no {named('Customer', customer_id)}", field=["customerId"])
    return customer_id


async def create_webhook_endpoint(
    session: AsyncSession,
    *,
    url: str,
    event_types: Sequence[str],
    description: str,
    active: bool,
    customer_id: int | None,
    allow_insecure: bool,
    actor: Principal,
) -> EndpointSecret:
    """``webhookEndpointCreate``: a new endpoint with a fresh secret (returned, not kept
    anywhere but the row)."""
    _authorise(actor)
    checks = InputChecks()  # every broken input rule at once
    with checks:
        url = check_url(url, allow_insecure=allow_insecure).url
    with checks:
        event_types = checked_event_types(event_types, actor)
    with checks:
        description = checked_text(description, field="description", limit=MAX_DESCRIPTION)
    checks.done()
    endpoint = WebhookEndpoint(
        url=url,
        event_types=event_types,
        description=description,
        active=active,
        customer_id=await _checked_customer(session, customer_id),
        secret=new_secret(),
        created_by=actor.user_id,
    )
    session.add(endpoint)
    await session.flush()
    record(
        session,
        actor,
        "webhook_endpoint.create",
        "WebhookEndpoint",
        endpoint.id,
        after=snapshot(endpoint, AUDITED),
    )
    return EndpointSecret(endpoint, endpoint.secret)


async def _endpoint(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    return await locked(session, WebhookEndpoint, endpoint_id)


async def update_webhook_endpoint(
    session: AsyncSession,
    *,
    endpoint_id: int,
    url: Patch[str | None] = KEEP,
    event_types: Patch[list[str] | None] = KEEP,
    description: Patch[str | None] = KEEP,
    active: Patch[bool | None] = KEEP,
    customer_id: Patch[int | None] = KEEP,
    allow_insecure: bool,
    actor: Principal,
) -> WebhookEndpoint:
    """``webhookEndpointUpdate``: the fields given (``customer_id`` None unscopes it; the
    others can't be null). Turning an endpoint on again clears why the server turned it
    off."""
    _authorise(actor)
    changes = given(
        url=url,
        event_types=event_types,
        description=description,
        active=active,
        customer_id=customer_id,
    )
    checks = InputChecks()  # every broken input rule at once
    given_values: dict[str, Any] = {}
    for name in ("url", "event_types", "description", "active"):
        if name in changes and changes[name] is None:
            checks.add(InvalidInput(f"{_camel(name)} can't be null", field=[_camel(name)]))
        elif name in changes:
            with checks:
                given_values[name] = _checked_change(name, changes[name], allow_insecure, actor)
    checks.done()
    endpoint = await _endpoint(session, endpoint_id)
    before = snapshot(endpoint, AUDITED)
    for name in ("url", "event_types", "description"):
        if name in given_values:
            setattr(endpoint, name, given_values[name])
    if "customer_id" in changes:
        endpoint.customer_id = await _checked_customer(session, changes["customer_id"])
    if "active" in changes:
        if changes["active"] and not endpoint.active:
            endpoint.disabled_reason = None
        endpoint.active = bool(changes["active"])
    await session.flush()
    await session.refresh(endpoint)  # updated_at, set by the database
    record(
        session,
        actor,
        "webhook_endpoint.update",
        "WebhookEndpoint",
        endpoint.id,
        before=before,
        after=snapshot(endpoint, AUDITED),
    )
    return endpoint


def _checked_change(name: str, value: Any, allow_insecure: bool, actor: Principal) -> Any:
    if name == "url":
        return check_url(value, allow_insecure=allow_insecure).url
    if name == "event_types":
        return checked_event_types(value, actor)
    if name == "description":
        return checked_text(value, field="description", limit=MAX_DESCRIPTION)
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def delete_webhook_endpoint(
    session: AsyncSession, *, endpoint_id: int, actor: Principal
) -> int:
    """``webhookEndpointDelete``: the endpoint and (by cascade) its deliveries; their
    queued jobs find no delivery and do nothing. The deleted id."""
    _authorise(actor)
    endpoint = await _endpoint(session, endpoint_id)
    record(
        session,
        actor,
        "webhook_endpoint.delete",
        "WebhookEndpoint",
        endpoint.id,
        before=snapshot(endpoint, AUDITED),
    )
    await session.delete(endpoint)
    await session.flush()
    return endpoint_id


async def rotate_webhook_endpoint_secret(
    session: AsyncSession,
    *,
    endpoint_id: int,
    keep_previous: bool,
    overlap: dt.timedelta,
    actor: Principal,
    now: dt.datetime | None = None,
) -> EndpointSecret:
    """``webhookEndpointRotateSecret``: a fresh secret. With ``keep_previous`` the one
    it replaces still signs deliveries for ``overlap`` (a secret older than that is
    dropped now); without, it stops at once (a leaked secret)."""
    _authorise(actor)
    endpoint = await _endpoint(session, endpoint_id)
    moment = now or dt.datetime.now(dt.UTC)
    if keep_previous:
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = moment + overlap
    else:
        endpoint.previous_secret = None
        endpoint.previous_secret_expires_at = None
    endpoint.secret = new_secret()
    await session.flush()
    await session.refresh(endpoint)  # updated_at, set by the database
    record(
        session,
        actor,
        "webhook_endpoint.rotate_secret",
        "WebhookEndpoint",
        endpoint.id,
        previous_secret_expires_at=endpoint.previous_secret_expires_at,
    )
    return EndpointSecret(endpoint, endpoint.secret)


async def list_webhook_endpoints(
    session: AsyncSession, *, actor: Principal
) -> list[WebhookEndpoint]:
    """``webhookEndpoints``: every endpoint, oldest first."""
    _authorise(actor)
    found = await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return list(found.all())


# --- the delivery log ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryPage:
    """Deliveries, newest first, and whether older ones follow."""

    rows: list[Row[Any]]
    has_next: bool


def _delivery_rows() -> Select[Any]:
    """Deliveries with what their event shows receivers (its id, type, time, object)."""
    return select(
        *WebhookDelivery.__table__.c,
        Event.uid.label("event_uid"),
        Event.type.label("event_type"),
        Event.occurred_at.label("event_occurred_at"),
        Event.entity_type.label("event_entity_type"),
        Event.entity_id.label("event_entity_id"),
    ).join(Event, Event.id == WebhookDelivery.event_id)


def _delivery_filters(
    endpoint_id: int | None, statuses: Sequence[str]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if endpoint_id is not None:
        conditions.append(WebhookDelivery.endpoint_id == endpoint_id)
    if statuses:
        conditions.append(WebhookDelivery.status.in_(list(statuses)))
    return conditions


async def list_webhook_deliveries(
    session: AsyncSession,
    *,
    endpoint_id: int | None,
    statuses: Sequence[str],
    before_id: int | None,
    limit: int,
    actor: Principal,
) -> DeliveryPage:
    """``webhookDeliveries``: up to ``limit`` deliveries older than ``before_id`` (all
    when None), newest first, of one endpoint and in ``statuses`` if given."""
    _authorise(actor)
    query = _delivery_rows().where(*_delivery_filters(endpoint_id, statuses))
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    rows = list(
        (await session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1))).all()
    )
    return DeliveryPage(rows[:limit], has_next=len(rows) > limit)


async def count_webhook_deliveries(
    session: AsyncSession, *, endpoint_id: int | None, statuses: Sequence[str], actor: Principal
) -> int:
    """How many deliveries ``list_webhook_deliveries`` pages through."""
    _authorise(actor)
    query = select(func.count()).select_from(WebhookDelivery)
    return int(await session.scalar(query.where(*_delivery_filters(endpoint_id, statuses))) or 0)


async def retry_webhook_delivery(
    session: AsyncSession, *, delivery_id: int, actor: Principal
) -> Row[Any]:
    """``webhookDeliveryRetry``: send a failed, dead or succeeded delivery again (a
    receiver may have lost one it acknowledged) with one new job, as the attempt after the
    last; a pending one is queued already (``INVALID_STATE``). A job of the delivery
    scheduled before goes stale: the worker runs only the job of attempt ``attempts + 1``
    of a pending or failed delivery, so attempts never double up."""
    _authorise(actor)
    delivery = await locked(session, WebhookDelivery, delivery_id)
    if delivery.status not in RETRYABLE:
        raise InvalidState(
            f"{name_of(delivery)} is {enum_value(delivery.status)}: an attempt is queued already",
            field=["id"],
        )
    endpoint = await session.get_one(WebhookEndpoint, delivery.endpoint_id)
    if not endpoint.active:
        raise Inactive(
            f"{name_of(endpoint)} is inactive: turn it on before re-sending",
            field=["id"],
        )
    before = {"status": delivery.status}
    delivery.status = DeliveryStatus.pending.value
    delivery.next_attempt_at = dt.datetime.now(dt.UTC)
    attempt = delivery.attempts + 1
    await session.flush()
    await defer(
        session,
        DELIVER_TASK,
        [{"delivery_id": delivery.id, "attempt": attempt}],
        queue=DELIVERY_QUEUE,
    )
    record(
        session,
        actor,
        "webhook_delivery.retry",
        "WebhookDelivery",
        delivery.id,
        before=before,
        after={"status": delivery.status},
        attempt=attempt,
    )
    row: Row[Any] = (
        await session.execute(_delivery_rows().where(WebhookDelivery.id == delivery.id))
    ).one()
    return row
