"""The inbound webhooks over a database of the test's own, committed for real, processed
by a real procrastinate worker run in-process on that database (``wait=False``: it stops
once the ``inbound`` queue is empty).

Twenty concurrent deliveries of one sales report make one receipt, one job and one
purchase order, and every delivery is answered 2xx; twenty reports of one order under
twenty webhook-ids, processed concurrently, still make one purchase order. Reports stored
while no worker runs (as after a crash) are processed when one starts. A database fault
during processing leaves the job to be retried by the queue; a database that refuses
connections makes the webhook a 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import procrastinate
import psycopg
import pytest
from sqlalchemy import URL, func, select, text

from opsgraph.app import create_app
from opsgraph.db import SessionFactory, create_engine, create_session_factory, libpq_dsn
from opsgraph.events.queue import queue_app
from opsgraph.jobs import receipts
from opsgraph.models import PurchaseOrder, WebhookReceipt
from tests.conftest import create_and_sign_in, make_settings
from tests.webhooks.inbound import SALES, Keys, make_keys, report, state_url

STORM = 20
assert receipts.process_receipt.name == "webhooks.process_receipt"  # registered on queue_app


@dataclass
class Committed:
    http: httpx.AsyncClient
    factory: SessionFactory
    url: URL
    keys: Keys

    async def run_worker(self, concurrency: int = 1) -> None:
        """A procrastinate worker on the test database until the inbound queue is empty."""
        connector = procrastinate.PsycopgConnector(conninfo=libpq_dsn(self.url))
        with queue_app.replace_connector(connector) as app:
            async with app.open_async():
                await app.run_worker_async(
                    queues=["inbound"],
                    wait=False,
                    concurrency=concurrency,
                    install_signal_handlers=False,
                    listen_notify=False,
                    additional_context={"session_factory": self.factory},
                )

    async def scalar(self, statement: Any) -> Any:
        async with self.factory() as session:
            return await session.scalar(statement)

    async def jobs(self) -> list[str]:
        async with self.factory() as session:
            found = await session.scalars(text("SELECT status FROM procrastinate_jobs ORDER BY id"))
            return [str(status) for status in found.all()]


@pytest.fixture
async def committed(fresh_database_url: URL) -> AsyncIterator[Committed]:
    settings = make_settings(fresh_database_url, db_pool_size=25, db_lock_timeout=0.5)
    engine = create_engine(fresh_database_url, settings)
    factory = create_session_factory(engine)
    app = create_app(settings, session_factory=factory)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=60
        ) as http:
            admin = await create_and_sign_in(http, factory, "storm-admin", ["admin"])
            keys = await make_keys(http, admin, factory)
            yield Committed(http, factory, fresh_database_url, keys)
    finally:
        await engine.dispose()


async def test_twenty_concurrent_deliveries_of_one_report_make_one_purchase_order(
    committed: Committed,
) -> None:
    headers = {**committed.keys.sales, "webhook-id": "storm-1"}
    responses = await asyncio.gather(
        *(committed.http.post(SALES, json=report("STORM-1"), headers=headers) for _ in range(STORM))
    )
    assert [r.status_code for r in responses] == [202] * STORM, [r.text for r in responses]
    assert len({r.json()["receiptId"] for r in responses}) == 1
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * (STORM - 1)
    # stored and queued, not processed: no worker has run (as if it had crashed)
    assert await committed.scalar(select(func.count()).select_from(WebhookReceipt)) == 1
    assert await committed.scalar(select(func.count()).select_from(PurchaseOrder)) == 0
    assert await committed.jobs() == ["todo"]

    await committed.run_worker()
    assert await committed.jobs() == ["succeeded"]
    orders = await committed.scalar(
        select(func.count()).where(PurchaseOrder.external_id == "STORM-1")
    )
    assert orders == 1
    receipt = await committed.scalar(select(WebhookReceipt))
    assert receipt.status == "processed"
    assert receipt.purchase_order_id is not None


async def test_one_order_under_twenty_webhook_ids_processed_concurrently_is_one_purchase_order(
    committed: Committed,
) -> None:
    responses = await asyncio.gather(
        *(
            committed.http.post(
                SALES,
                json=report("STORM-2"),
                headers={**committed.keys.sales, "webhook-id": f"storm-2-{n}"},
            )
            for n in range(STORM)
        )
    )
    assert [r.status_code for r in responses] == [202] * STORM
    await committed.run_worker(concurrency=5)
    assert await committed.jobs() == ["succeeded"] * STORM
    statuses = await committed.scalar(select(func.array_agg(WebhookReceipt.status.distinct())))
    assert statuses == ["processed"]
    orders = await committed.scalar(
        select(func.count()).where(PurchaseOrder.external_id == "STORM-2")
    )
    assert orders == 1


async def test_twenty_concurrent_deliveries_of_one_state_report_move_it_once(
    committed: Committed,
) -> None:
    async with committed.factory() as session, session.begin():
        order = PurchaseOrder(
            external_id="BMW-9", customer_id=committed.keys.office_id, brand="BMW"
        )
        session.add(order)
    headers = {**committed.keys.manufacturer, "webhook-id": "state-storm"}
    responses = await asyncio.gather(
        *(
            committed.http.post(state_url(order.id), json={"state": "approved"}, headers=headers)
            for _ in range(STORM)
        )
    )
    assert [r.status_code for r in responses] == [200] * STORM, [r.text for r in responses]
    assert {r.json()["purchaseOrder"]["stateVersion"] for r in responses} == {2}
    assert await committed.scalar(select(func.count()).select_from(WebhookReceipt)) == 1
    version = await committed.scalar(
        select(PurchaseOrder.state_version).where(PurchaseOrder.id == order.id)
    )
    assert version == 2


async def test_a_database_fault_while_processing_is_retried_by_the_queue(
    committed: Committed,
) -> None:
    response = await committed.http.post(
        SALES, json=report("LOCKED-1"), headers=committed.keys.sales
    )
    assert response.status_code == 202
    async with await psycopg.AsyncConnection.connect(libpq_dsn(committed.url)) as holder:
        # every statement on purchase_order waits past the 0.5 s lock_timeout
        await holder.execute("LOCK TABLE purchase_order IN ACCESS EXCLUSIVE MODE")
        await committed.run_worker()
        await holder.rollback()
    receipt = await committed.scalar(select(WebhookReceipt))
    assert receipt.status == "received"
    assert receipt.error is None
    async with committed.factory() as session:
        job = (
            await session.execute(
                text(
                    "SELECT status, attempts, scheduled_at > now() AS later FROM procrastinate_jobs"
                )
            )
        ).one()
    assert (job.status, job.attempts, job.later) == ("todo", 1, True)
    async with committed.factory() as session, session.begin():  # the retry falls due
        await session.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
    await committed.run_worker()
    receipt = await committed.scalar(
        select(WebhookReceipt).execution_options(populate_existing=True)
    )
    assert receipt.status == "processed"
    assert await committed.jobs() == ["succeeded"]


def _allow_connections(url: URL, allowed: bool) -> None:
    admin = url.set(database="postgres")
    with psycopg.connect(libpq_dsn(admin), autocommit=True) as conn:
        name = psycopg.sql.Identifier(url.database or "")
        flag = psycopg.sql.SQL("true" if allowed else "false")
        conn.execute(psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(name, flag))
        if not allowed:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (url.database,),
            )


async def test_an_unavailable_database_is_a_503_with_retry_after(committed: Committed) -> None:
    _allow_connections(committed.url, allowed=False)
    try:
        for path, headers in (
            (SALES, committed.keys.sales),
            ("/v1/update-state-webhook/UHVyY2hhc2VPcmRlcjox", committed.keys.manufacturer),
        ):
            response = await committed.http.post(path, json=report(), headers=headers)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            assert response.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
            assert str(committed.url.port) not in response.text
    finally:
        _allow_connections(committed.url, allowed=True)
