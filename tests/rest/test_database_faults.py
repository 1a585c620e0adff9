"""A database that is slow, busy, full or gone: the app over its real engine and pool
(``opsgraph.db.create_engine``, with small timeouts), against real PostgreSQL.

A row held ``FOR UPDATE`` by another session makes a mutation answer ``TRY_AGAIN`` within
``lock_timeout``; an exhausted pool and a database that refuses connections are a 503 with
``Retry-After`` that names nothing internal, on /graphql and /auth/token alike; /ready is
503; and the app serves again, without a restart, once the database is back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from opsgraph.app import create_app
from opsgraph.db import create_engine, create_session_factory, libpq_dsn
from opsgraph.models import Customer, Invoice
from opsgraph.settings import Settings
from tests.conftest import create_and_sign_in, make_settings
from tests.mutations.helpers import gid
from tests.mutations.test_payment import PAY

UNAVAILABLE = {
    "errors": [
        {
            "message": "The database is unavailable; try again shortly.",
            "extensions": {"code": "DATABASE_UNAVAILABLE"},
        }
    ]
}
# /auth/token answers in RFC 6749's error shape
TOKEN_UNAVAILABLE = {
    "error": "temporarily_unavailable",
    "error_description": "The database is unavailable; try again shortly.",
}
QUERY = "{ customers(first: 5) { edges { node { id name } } } }"


@dataclass
class FaultyApi:
    http: httpx.AsyncClient
    engine: AsyncEngine
    settings: Settings
    url: URL
    headers: dict[str, str]

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )


@pytest.fixture
async def api(fresh_database_url: URL, request: pytest.FixtureRequest) -> AsyncIterator[FaultyApi]:
    """The app over the test's own database with the timeouts the test names."""
    overrides: dict[str, Any] = getattr(request, "param", {})
    settings = make_settings(fresh_database_url, **overrides)
    engine = create_engine(fresh_database_url, settings)
    app = create_app(settings, session_factory=create_session_factory(engine))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=60
        ) as http:
            factory = create_session_factory(engine)
            headers = await create_and_sign_in(http, factory, "fault-admin", ["admin"])
            yield FaultyApi(http, engine, settings, fresh_database_url, headers)
    finally:
        await engine.dispose()


async def sent_invoice(api: FaultyApi) -> int:
    async with create_session_factory(api.engine)() as session:
        customer = Customer(name="Låst AB")
        session.add(customer)
        await session.flush()
        invoice = Invoice(
            number="L-1",
            customer_id=customer.id,
            period_start=dt.date(2026, 4, 1),
            period_end=dt.date(2026, 4, 30),
            issued_date=dt.date(2026, 5, 1),
            due_date=dt.date(2026, 5, 31),
            subtotal=Decimal("80.00"),
            tax=Decimal("20.00"),
            total=Decimal("100.00"),
            status="sent",
        )
        session.add(invoice)
        await session.commit()
        return invoice.id


def payment(invoice: int, reference: str) -> dict[str, Any]:
    return {
        "input": {
            "invoiceId": gid("Invoice", invoice),
            "amount": "10.00",
            "method": "CARD",
            "reference": reference,
        }
    }


def assert_unavailable(response: httpx.Response, url: URL, body: Any = UNAVAILABLE) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json() == body
    for internal in ("127.0.0.1", str(url.port), url.database, "psycopg", "SELECT", "QueuePool"):
        assert internal
        assert internal not in response.text


@pytest.mark.parametrize("api", [{"db_lock_timeout": 0.5}], indirect=True)
async def test_a_locked_invoice_makes_payment_record_answer_try_again(api: FaultyApi) -> None:
    invoice = await sent_invoice(api)
    async with await psycopg.AsyncConnection.connect(libpq_dsn(api.url)) as holder:
        await holder.execute("SELECT id FROM invoice WHERE id = %s FOR UPDATE", (invoice,))
        started = time.monotonic()
        response = await api.gql(PAY, payment(invoice, "KORT 1"))
        waited = time.monotonic() - started
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        result = body["data"]["paymentRecord"]
        assert result["payment"] is None
        assert [error["code"] for error in result["errors"]] == ["TRY_AGAIN"]
        assert "may be retried" in result["errors"][0]["message"]
        assert waited < 5, f"answered after {waited:.1f} s; lock_timeout is 0.5 s"
        # reads of other clients still get through while the lock is held
        assert (await api.gql(QUERY)).status_code == 200
    # the lock is gone: the same request now succeeds, and the refused one left nothing
    retried = (await api.gql(PAY, payment(invoice, "KORT 1"))).json()["data"]["paymentRecord"]
    assert retried["errors"] == []
    assert retried["invoice"]["amountPaid"] == "10.00"


@pytest.mark.parametrize("api", [{"db_lock_timeout": 0.5}], indirect=True)
async def test_a_keyed_request_past_the_lock_timeout_keeps_its_key_unused(
    api: FaultyApi,
) -> None:
    """A request with an Idempotency-Key is one transaction: a mutation of it that meets
    the lock timeout makes it a 503 as a whole, and the repeat with the same key runs."""
    invoice = await sent_invoice(api)
    keyed = {**api.headers, "Idempotency-Key": "pay-once"}
    body = {"query": PAY, "variables": payment(invoice, "KORT 3")}
    async with await psycopg.AsyncConnection.connect(libpq_dsn(api.url)) as holder:
        await holder.execute("SELECT id FROM invoice WHERE id = %s FOR UPDATE", (invoice,))
        assert_unavailable(await api.http.post("/graphql", json=body, headers=keyed), api.url)
    repeat = await api.http.post("/graphql", json=body, headers=keyed)
    assert "idempotent-replayed" not in repeat.headers
    assert repeat.json()["data"]["paymentRecord"]["errors"] == []
    replayed = await api.http.post("/graphql", json=body, headers=keyed)
    assert replayed.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("api", [{"db_pool_size": 1, "db_pool_timeout": 0.5}], indirect=True)
async def test_an_exhausted_pool_is_a_503_within_the_checkout_timeout(api: FaultyApi) -> None:
    held = [await api.engine.connect() for _ in range(2)]  # pool of 1 plus overflow of 1
    try:
        started = time.monotonic()
        response = await api.gql(QUERY)
        assert time.monotonic() - started < 5
        assert_unavailable(response, api.url)
        strict = await api.http.post(
            "/graphql",
            json={"query": QUERY},
            headers={**api.headers, "Accept": "application/graphql-response+json"},
        )
        assert_unavailable(strict, api.url)
        token = await api.http.post(
            "/auth/token", data={"username": "fault-admin", "password": "whatever 12345"}
        )
        assert_unavailable(token, api.url, TOKEN_UNAVAILABLE)
        assert (await api.http.get("/ready")).status_code == 503
        assert (await api.http.get("/health")).status_code == 200
    finally:
        for connection in held:
            await connection.close()
    assert (await api.gql(QUERY)).status_code == 200


def _set_connections(url: URL, allowed: bool) -> None:
    """Let the test database accept connections or not; refusing also ends its sessions."""
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


async def test_a_database_that_refuses_connections_is_a_503_then_recovers(
    api: FaultyApi,
) -> None:
    assert (await api.gql(QUERY)).status_code == 200  # the pool holds a live connection
    _set_connections(api.url, allowed=False)
    try:
        assert_unavailable(await api.gql(QUERY), api.url)
        # the made-up API key of the report: the caller can't even be looked up
        made_up = {"Client-Secret": "og_MadeUp1234_" + "x" * 43}
        forged = await api.http.post("/graphql", json={"query": QUERY}, headers=made_up)
        assert_unavailable(forged, api.url)
        mutation = await api.gql(PAY, payment(1, "KORT 2"))
        assert_unavailable(mutation, api.url)
        token = await api.http.post(
            "/auth/token", data={"username": "fault-admin", "password": "whatever 12345"}
        )
        assert_unavailable(token, api.url, TOKEN_UNAVAILABLE)
        ready = await api.http.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "database is unreachable"
    finally:
        _set_connections(api.url, allowed=True)
    for _ in range(20):  # the pool's pre-ping replaces the dead connections
        if (await api.http.get("/ready")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert (await api.http.get("/ready")).status_code == 200
    response = await api.gql(QUERY)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


@pytest.mark.parametrize("api", [{"db_statement_timeout": 0.2}], indirect=True)
async def test_a_read_past_the_statement_timeout_is_a_503(api: FaultyApi) -> None:
    async with await psycopg.AsyncConnection.connect(libpq_dsn(api.url)) as holder:
        # an exclusive lock on the table makes every read of it wait past the timeout
        await holder.execute("LOCK TABLE customer IN ACCESS EXCLUSIVE MODE")
        assert_unavailable(await api.gql(QUERY), api.url)
