"""What the delivery tests share: a committed database of the test's own, endpoints and
events in it, an in-process worker, and polling with a deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import URL, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from opsgraph.db import SessionFactory, create_session_factory
from opsgraph.events.emit import emit
from opsgraph.jobs.worker import QueueWorker
from opsgraph.models import Event, WebhookDelivery, WebhookEndpoint
from opsgraph.settings import Settings
from opsgraph.webhooks.signing import new_secret
from tests.conftest import make_settings

T = TypeVar("T")


def worker_settings(url: URL, *, insecure: bool = True, **overrides: Any) -> Settings:
    return make_settings(
        url,
        webhooks_allow_insecure=insecure,
        worker_heartbeat_seconds=0.5,
        worker_stalled_seconds=2.0,
        worker_shutdown_seconds=5.0,
        **overrides,
    )


@dataclass
class Db:
    engine: AsyncEngine
    sessions: SessionFactory

    async def endpoint(self, url: str, secret: str | None = None) -> WebhookEndpoint:
        """A webhook endpoint stored as is (no address check: that is the worker's job)."""
        async with self.sessions() as session, session.begin():
            endpoint = WebhookEndpoint(url=url, secret=secret or new_secret(), event_types=[])
            session.add(endpoint)
        return endpoint

    async def emit(self, count: int = 1) -> None:
        """``count`` events in one transaction."""
        async with self.sessions() as session, session.begin():
            for number in range(count):
                await emit(
                    session,
                    "customer.created",
                    entity_type="Customer",
                    entity_id=number + 1,
                    customer_id=None,
                    data={"number": number},
                    actor=None,
                )

    async def deliveries(self) -> list[WebhookDelivery]:
        async with self.sessions() as session:
            rows = await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
            return list(rows)

    async def delivery(self, delivery_id: int) -> WebhookDelivery:
        async with self.sessions() as session:
            return await session.get_one(WebhookDelivery, delivery_id)

    async def public_ids(self) -> set[str]:
        async with self.sessions() as session:
            return {f"evt_{uid.hex}" for uid in await session.scalars(select(Event.uid))}

    async def jobs(self, delivery_id: int) -> list[dict[str, Any]]:
        """The delivery's jobs still in the queue (finished ones are deleted)."""
        async with self.sessions() as session:
            rows = await session.execute(
                text(
                    "SELECT id, status, scheduled_at, (args->>'attempt')::int AS attempt "
                    "FROM procrastinate_jobs WHERE (args->>'delivery_id')::bigint = :id "
                    "ORDER BY id"
                ),
                {"id": delivery_id},
            )
            return [dict(row._mapping) for row in rows]

    async def make_due(self, job_id: int) -> None:
        """Move a scheduled job to now, as if its time had come."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = :id"),
                {"id": job_id},
            )


@asynccontextmanager
async def database(url: URL) -> AsyncIterator[Db]:
    engine = create_async_engine(url, pool_size=5)
    try:
        yield Db(engine, create_session_factory(engine))
    finally:
        await engine.dispose()


@asynccontextmanager
async def running_worker(settings: Settings, **options: Any) -> AsyncIterator[QueueWorker]:
    """A worker in this event loop, reading the queue every 0.1 s besides notifications."""
    worker = QueueWorker(settings, poll_seconds=0.1, **options)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)


async def poll(
    check: Callable[[], Awaitable[T | None]], *, within: float = 30, what: str = "a condition"
) -> T:
    """``check()``'s first truthy result, asked every 50 ms; fails after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class FakeClock:
    """A clock the test sets; the worker's retry schedule reads it."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now
