"""The job that processes a stored inbound webhook: ``webhooks.process_receipt`` on queue
``inbound`` (deferred by ``opsgraph.services.webhook_receipt`` with the receipt itself).

The service decides (processed, or failed with a business refusal, never retried). A
database that is unavailable, or a transaction that lost a race (deadlock, serialization
failure), raises out of the job and procrastinate runs it again later (the queue's
``RunAgain``); anything else unexpected fails the receipt and is logged. A job whose
receipt is no longer ``received`` (a worker died after committing it) does nothing.

The worker hands the job a session factory in its ``additional_context``
(``{"session_factory": ...}``); without one, the job opens an engine of its own on
``OPSGRAPH_DATABASE_URL``.
"""

from __future__ import annotations

import logging

from procrastinate import JobContext

from opsgraph.db.faults import describe, transient
from opsgraph.events.queue import RunAgain, job_session_factory, queue_app
from opsgraph.services.webhook_receipt import (
    PROCESS_QUEUE,
    PROCESS_TASK,
    fail_receipt,
    process_sales_receipt,
)

log = logging.getLogger(__name__)


@queue_app.task(name=PROCESS_TASK, queue=PROCESS_QUEUE, pass_context=True, retry=RunAgain())
async def process_receipt(context: JobContext, receipt_id: int) -> None:
    """Process the stored inbound webhook ``receipt_id``."""
    factory = job_session_factory(context)
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
