"""The job queue: procrastinate over the application's PostgreSQL.

Jobs are deferred on the connection of the caller's session (``defer``), so a job commits
or rolls back with the change that asked for it: no window in which a crash after the
commit loses it. Workers (``opsgraph worker``, or the one ``opsgraph serve`` runs) open the
app with a pool of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession

# Tasks are registered on ``queue_app`` by the modules that define them; a worker imports
# these, while deferring needs only a task's name.
TASK_MODULES = ("opsgraph.webhooks.delivery", "opsgraph.webhooks.receipts")

queue_app = procrastinate.App(connector=procrastinate.PsycopgConnector())


async def driver_connection(session: AsyncSession) -> Any:
    """The psycopg connection under ``session``'s transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def defer(
    session: AsyncSession,
    task: str,
    jobs: Sequence[Mapping[str, Any]],
    *,
    queue: str,
    schedule_at: dt.datetime | None = None,
) -> list[int]:
    """Defer one job of ``task`` per item of ``jobs`` (its keyword arguments) in the
    transaction of ``session``; their ids."""
    if not jobs:
        return []
    deferrer = queue_app.configure_task(
        task,
        queue=queue,
        schedule_at=schedule_at,
        connection=await driver_connection(session),
    )
    return await deferrer.batch_defer_async(*(dict(job) for job in jobs))
