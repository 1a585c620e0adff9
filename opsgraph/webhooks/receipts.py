"""The job that processes a stored inbound webhook: ``webhooks.process_receipt`` on queue
``inbound`` (deferred by ``opsgraph.services.webhook_receipt`` with the receipt itself).

The service decides (processed, or failed with a business refusal, never retried). A
database that is unavailable, or a transaction that lost a race (deadlock, serialization
failure), raises out of the job and procrastinate runs it again later
(``WhileUnavailable``); anything else unexpected fails the receipt and is logged. A job
whose receipt is no longer ``received`` (a worker died after committing it) does nothing.

The worker hands the job a session factory in its ``additional_context``
(``{"session_factory": ...}``); without one, the job opens an engine of its own on
``OPSGRAPH_DATABASE_URL``.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from procrastinate import BaseRetryStrategy, JobContext, RetryDecision
from procrastinate.jobs import Job

from opsgraph.db import SessionFactory, create_engine, create_session_factory
from opsgraph.db.faults import describe, sqlstate, unavailable
from opsgraph.events.queue import queue_app
from opsgraph.services.webhook_receipt import (
    PROCESS_QUEUE,
    PROCESS_TASK,
    fail_receipt,
    process_sales_receipt,
)
from opsgraph.settings import get_settings

log = logging.getLogger(__name__)

# deadlock_detected, serialization_failure: the transaction may simply run again
RACES = frozenset({"40001", "40P01"})
# seconds before the next run of a job that met an unavailable database: doubling from 2,
# at most 5 minutes apart; about a day of attempts in all
FIRST_WAIT = 2
MAX_WAIT = 300
MAX_ATTEMPTS = 300


def transient(error: BaseException) -> bool:
    """Whether running the job again may succeed: the database was unavailable, or the
    transaction lost a race."""
    return unavailable(error) or sqlstate(error) in RACES


class WhileUnavailable(BaseRetryStrategy):
    """Retry a job that failed on a transient database error, with a doubling wait."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if not transient(exception) or job.attempts >= MAX_ATTEMPTS:
            return None
        wait = min(MAX_WAIT, FIRST_WAIT * 2 ** min(job.attempts, 16))
        return RetryDecision(retry_in={"seconds": wait})


@lru_cache(maxsize=1)
def _own_session_factory() -> SessionFactory:
    settings = get_settings()
    if not settings.database_url:
        raise RuntimeError("OPSGRAPH_DATABASE_URL is not set for the worker")
    return create_session_factory(create_engine(settings.database_url, settings))


def session_factory_of(context: JobContext) -> SessionFactory:
    given: Any = context.additional_context.get("session_factory")
    return given if given is not None else _own_session_factory()


@queue_app.task(name=PROCESS_TASK, queue=PROCESS_QUEUE, pass_context=True, retry=WhileUnavailable())
async def process_receipt(context: JobContext, receipt_id: int) -> None:
    """Process the stored inbound webhook ``receipt_id``."""
    factory = session_factory_of(context)
    try:
        async with factory() as session, session.begin():
            await process_sales_receipt(session, receipt_id=receipt_id)
    except Exception as exc:
        if transient(exc):
            log.warning("receipt %s: will retry: %s", receipt_id, describe(exc))
            raise
        log.exception("receipt %s: processing failed unexpectedly", receipt_id)
        async with factory() as session, session.begin():
            await fail_receipt(
                session, receipt_id=receipt_id, error="an unexpected error; see the server log"
            )
