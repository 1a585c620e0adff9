"""The outbox's cost on a write: ``orderCreate``'s transaction (the service and its
commit, in this process) with the event emitted, without it, and with one active webhook
endpoint subscribed (a delivery row and a queue job more).

"Without" patches ``emit`` out of the order and stock services in this process only, for
those runs; the three variants take turns run by run, on the same database, so drift of
the machine touches them alike.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from opsgraph.auth.permissions import PERMISSIONS, PORTAL_SCOPED
from opsgraph.auth.principal import Principal
from opsgraph.models import Event, WebhookDelivery, WebhookEndpoint
from opsgraph.services import order as order_service
from opsgraph.services import stock as stock_service
from opsgraph.services.customer import create_customer
from opsgraph.services.order import LineInput, create_order
from opsgraph.services.product import create_product
from opsgraph.services.user import create_user

TARGET = 0.10  # the outbox may add at most 10 % to the p50


@dataclass(frozen=True)
class OutboxFigures:
    runs: int
    without_ms: float
    with_ms: float
    endpoint_ms: float
    events: int
    deliveries: int

    def __str__(self) -> str:
        extra = self.with_ms / self.without_ms - 1
        endpoint = self.endpoint_ms / self.without_ms - 1
        return "\n".join(
            [
                f"orderCreate transaction (service + commit, in-process), p50 of {self.runs} each:",
                f"  without the outbox            {self.without_ms:7.2f} ms",
                f"  with the outbox (no endpoint) {self.with_ms:7.2f} ms  ({extra:+.1%})",
                f"  with one active endpoint      {self.endpoint_ms:7.2f} ms  ({endpoint:+.1%})",
                f"  ({self.events} events and {self.deliveries} deliveries written)",
                f"target: the outbox adds < {TARGET:.0%} to the p50:"
                f" {'met' if extra < TARGET else 'NOT met'} ({extra:+.1%})",
            ]
        )


async def _no_emit(*args: Any, **kwargs: Any) -> None:
    return None


@contextmanager
def emission_off() -> Any:
    saved = order_service.emit, stock_service.emit
    order_service.emit = stock_service.emit = _no_emit  # type: ignore[assignment]
    try:
        yield
    finally:
        order_service.emit, stock_service.emit = saved  # type: ignore[assignment]


async def bench_outbox(url: str, runs: int) -> OutboxFigures:
    engine = create_async_engine(url, pool_size=2)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    salt = uuid.uuid4().hex[:6].upper()
    async with factory() as session, session.begin():
        user = await create_user(
            session,
            username=f"bench-outbox-{salt.lower()}",
            email=f"bench-outbox-{salt.lower()}@example.com",
            password=uuid.uuid4().hex,  # never used to sign in
            roles=["admin"],
            password_rounds=4,
        )
        actor = Principal(user.id, user.username, PERMISSIONS - {PORTAL_SCOPED})
        plain = await create_customer(session, name="Outbox Plain", actor=actor)
        subscribed = await create_customer(session, name="Outbox Subscribed", actor=actor)
        product = await create_product(
            session,
            sku=f"OUTBOX-{salt}",
            name="Outbox bench",
            unit_price=Decimal("9.90"),
            initial_stock=1_000_000,
            actor=actor,
        )
        # receives the events of ``subscribed`` only
        session.add(
            WebhookEndpoint(
                url="https://hooks.example.com/bench",
                secret="whsec_" + "b" * 32,
                customer_id=subscribed.id,
            )
        )

    def placing(customer_id: int) -> Callable[[], Awaitable[None]]:
        async def once() -> None:
            async with factory() as session, session.begin():
                await create_order(
                    session,
                    customer_id=customer_id,
                    lines=[LineInput(product.id, 1)],
                    actor=actor,
                )

        return once

    async def without() -> None:
        with emission_off():
            await placing(plain.id)()

    variants = [without, placing(plain.id), placing(subscribed.id)]
    timings: list[list[float]] = [[] for _ in variants]
    try:
        for _ in range(10):  # warm up
            for variant in variants:
                await variant()
        for _ in range(runs):
            for variant, times in zip(variants, timings, strict=True):
                started = time.perf_counter()
                await variant()
                times.append((time.perf_counter() - started) * 1000)
        async with factory() as session:
            events = await session.scalar(select(func.count()).select_from(Event))
            deliveries = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    finally:
        await engine.dispose()
    without_ms, with_ms, endpoint_ms = (statistics.median(times) for times in timings)
    return OutboxFigures(
        runs, without_ms, with_ms, endpoint_ms, int(events or 0), int(deliveries or 0)
    )
