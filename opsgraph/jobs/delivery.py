"""The delivery job: ``webhooks.deliver(delivery_id, attempt)`` on queue ``webhooks``.

Each attempt of a delivery is one job. ``emit`` defers the first (attempt 1) with the event;
a failed attempt defers the next, with ``schedule_at`` from the retry schedule
(``opsgraph.webhooks.schedule``), in the same transaction that records the failure. So a
worker killed at any point loses nothing: before that transaction commits, the job is
still ``doing`` and comes back as a stalled job (``opsgraph.jobs.worker``); after it,
the next job exists. An attempt may therefore be sent twice (a receiver tells by the
``webhook-id``), never not at all.

A job runs only if it is the delivery's next attempt: the delivery is pending or failed
and has made ``attempt - 1`` attempts. Any other job (the delivery was re-sent by hand,
another worker recorded the attempt first, the delivery is gone) does nothing. No database
transaction is held during the HTTP request.

The worker hands the job its context (``additional_context``): ``session_factory``,
``settings``, and the ``clock`` and ``random`` source the schedule uses (tests pass
controlled ones); missing ones default to the process's own.
"""

from __future__ import annotations

import datetime as dt
import logging
import random as random_module
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from procrastinate import JobContext
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.db import SessionFactory
from opsgraph.db.faults import describe, unavailable
from opsgraph.events.emit import DELIVER_TASK, DELIVERY_QUEUE, envelope, public_id
from opsgraph.events.queue import RunAgain, defer, job_session_factory, queue_app
from opsgraph.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint
from opsgraph.services.webhook import signing_secrets
from opsgraph.settings import Settings, get_settings
from opsgraph.webhooks.schedule import RandomSource, next_attempt_at
from opsgraph.webhooks.sender import Outcome, post
from opsgraph.webhooks.signing import signed_headers

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
OPEN: Final = (DeliveryStatus.pending.value, DeliveryStatus.failed.value)
MAX_ERROR: Final = 2000
# an unexpected error: the job runs again this many times before it is left failed
UNEXPECTED_RUNS: Final = 5


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Attempt:
    """What one attempt sends, read before the request."""

    url: str
    message_id: str
    body: bytes
    secrets: list[str]


@dataclass(frozen=True)
class JobDeps:
    session_factory: SessionFactory
    settings: Settings
    clock: Clock
    random: RandomSource


def deps_of(context: JobContext) -> JobDeps:
    given: dict[str, Any] = context.additional_context
    return JobDeps(
        session_factory=job_session_factory(context),
        settings=given.get("settings") or get_settings(),
        clock=given.get("clock") or system_clock,
        random=given.get("random") or random_module.random,
    )


def _is_next(delivery_id: int, attempt: int) -> Any:
    return (
        (WebhookDelivery.id == delivery_id)
        & (WebhookDelivery.attempts == attempt - 1)
        & WebhookDelivery.status.in_(OPEN)
    )


async def load_attempt(
    session: AsyncSession, *, delivery_id: int, attempt: int, now: dt.datetime
) -> Attempt | None:
    """What attempt ``attempt`` of the delivery sends; None for a stale job, or when the
    endpoint is inactive (the delivery is then dead)."""
    row = (
        await session.execute(
            select(WebhookEndpoint, Event)
            .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(_is_next(delivery_id, attempt))
        )
    ).one_or_none()
    if row is None:
        log.info(
            "delivery %s attempt %s: not the next attempt; nothing to do", delivery_id, attempt
        )
        return None
    endpoint, event = row
    if not endpoint.active:
        await session.execute(
            update(WebhookDelivery)
            .where(_is_next(delivery_id, attempt))
            .values(
                status=DeliveryStatus.dead.value,
                next_attempt_at=None,
                last_error="the endpoint is inactive",
            )
        )
        log.info("delivery %s: endpoint %s is inactive; dead", delivery_id, endpoint.id)
        return None
    return Attempt(
        url=endpoint.url,
        message_id=public_id(event),
        body=orjson.dumps(envelope(event)),
        secrets=signing_secrets(endpoint, now),
    )


async def record_attempt(
    session: AsyncSession,
    *,
    delivery_id: int,
    attempt: int,
    outcome: Outcome,
    now: dt.datetime,
    random: RandomSource,
) -> str | None:
    """Record how attempt ``attempt`` went and what follows (the delivery's new status):
    succeeded; dead after a 410 (the endpoint is turned off) or the last attempt; or
    failed, with the next attempt's job deferred in this transaction. None when another
    run recorded this attempt first."""
    delivery = await session.scalar(
        select(WebhookDelivery).where(_is_next(delivery_id, attempt)).with_for_update()
    )
    if delivery is None:
        return None
    delivery.attempts = attempt
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error[:MAX_ERROR] if outcome.error else None
    delivery.last_attempt_at = now
    delivery.next_attempt_at = None
    if outcome.succeeded:
        delivery.status = DeliveryStatus.succeeded.value
    elif outcome.gone:
        delivery.status = DeliveryStatus.dead.value
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == delivery.endpoint_id, WebhookEndpoint.active)
            .values(
                active=False,
                disabled_reason=f"the receiver answered 410 Gone at {now.isoformat()}",
            )
        )
    else:
        due = next_attempt_at(attempt, now, random)
        if due is None:
            delivery.status = DeliveryStatus.dead.value
        else:
            delivery.status = DeliveryStatus.failed.value
            delivery.next_attempt_at = due
            await defer(
                session,
                DELIVER_TASK,
                [{"delivery_id": delivery_id, "attempt": attempt + 1}],
                queue=DELIVERY_QUEUE,
                schedule_at=due,
            )
    await session.flush()
    return delivery.status


async def run_attempt(deps: JobDeps, delivery_id: int, attempt: int) -> str | None:
    """Attempt ``attempt`` of the delivery, end to end; the delivery's new status (None:
    the job was stale)."""
    started = deps.clock()
    async with deps.session_factory() as session, session.begin():
        what = await load_attempt(
            session, delivery_id=delivery_id, attempt=attempt, now=dt.datetime.now(dt.UTC)
        )
    if what is None:
        return None
    headers = signed_headers(what.message_id, what.body, what.secrets, at=dt.datetime.now(dt.UTC))
    outcome = await post(
        what.url, what.body, headers, allow_insecure=deps.settings.webhooks_allow_insecure
    )
    async with deps.session_factory() as session, session.begin():
        status = await record_attempt(
            session,
            delivery_id=delivery_id,
            attempt=attempt,
            outcome=outcome,
            now=started,
            random=deps.random,
        )
    if status is not None and status != DeliveryStatus.succeeded.value:
        level = logging.WARNING if status == DeliveryStatus.dead.value else logging.INFO
        log.log(
            level, "delivery %s attempt %s: %s (%s)", delivery_id, attempt, outcome.error, status
        )
    return status


@queue_app.task(
    name=DELIVER_TASK,
    queue=DELIVERY_QUEUE,
    pass_context=True,
    retry=RunAgain(unexpected_runs=UNEXPECTED_RUNS),
)
async def deliver(context: JobContext, delivery_id: int, attempt: int) -> None:
    """Make attempt ``attempt`` of webhook delivery ``delivery_id``."""
    try:
        await run_attempt(deps_of(context), delivery_id, attempt)
    except Exception as exc:
        if not unavailable(exc):
            log.exception("delivery %s attempt %s failed unexpectedly", delivery_id, attempt)
            raise
        log.warning(
            "delivery %s attempt %s: database unavailable (%s); the job runs again",
            delivery_id,
            attempt,
            describe(exc),
        )
        raise
