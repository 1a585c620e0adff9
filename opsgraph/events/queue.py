"""The job queue: procrastinate over the application's PostgreSQL.

Jobs are deferred on the connection of the caller's session (``defer``), so a job commits
or rolls back with the change that asked for it: no window in which a crash after the
commit loses it. Workers (``opsgraph worker``, or the one ``opsgraph serve`` runs) open the
app with a pool of their own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

import procrastinate
from procrastinate import BaseRetryStrategy, JobContext, RetryDecision
from procrastinate.exceptions import JobAborted
from procrastinate.jobs import Job
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.db import SessionFactory, create_engine, create_session_factory
from opsgraph.db.faults import transient
from opsgraph.settings import get_settings

# Tasks are registered on ``queue_app`` by the modules that define them; a worker imports
# these, while deferring needs only a task's name.
TASK_MODULES = ("opsgraph.jobs.delivery", "opsgraph.jobs.receipts")

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


# a job that met an unavailable database (or lost a race) runs again after a doubling wait,
# at most 5 minutes apart: about a day of runs in all
FIRST_WAIT: Final = 2
MAX_WAIT: Final = 300
TRANSIENT_RUNS: Final = 300


class RunAgain(BaseRetryStrategy):
    """The retry policy of every task: a job runs again at once when a shutdown cancelled
    it; after a doubling wait when the database was unavailable or its transaction lost a
    race (``opsgraph.db.faults.transient``), for about a day; after any other error
    ``unexpected_runs`` times (0: never; such a task records the failure itself)."""

    def __init__(self, *, unexpected_runs: int = 0) -> None:
        self.unexpected_runs = unexpected_runs

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, asyncio.CancelledError | JobAborted):
            return RetryDecision(retry_in={"seconds": 0})
        runs = TRANSIENT_RUNS if transient(exception) else self.unexpected_runs
        if job.attempts >= runs:
            return None
        wait = min(MAX_WAIT, FIRST_WAIT << min(job.attempts, 16))
        return RetryDecision(retry_in={"seconds": wait})


@lru_cache(maxsize=1)
def _own_session_factory() -> SessionFactory:
    settings = get_settings()
    if not settings.database_url:
        raise RuntimeError("OPSGRAPH_DATABASE_URL is not set for the worker")
    return create_session_factory(create_engine(settings.database_url, settings))


def job_session_factory(context: JobContext) -> SessionFactory:
    """The sessions a job works in: the worker's (``additional_context["session_factory"]``),
    or, for a job run outside ``opsgraph worker``, an engine of the process's own."""
    given: SessionFactory | None = context.additional_context.get("session_factory")
    return given if given is not None else _own_session_factory()
