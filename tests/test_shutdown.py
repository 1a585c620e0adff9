"""Shutdown drain: `opsgraph serve` told to stop while requests wait on a row lock (and,
on the way, a client too slow to send its headers).

/ready stops answering 200 at once, the requests get the drain deadline
(``OPSGRAPH_SHUTDOWN_DRAIN_SECONDS``), then they are cancelled with a 503 and the process
exits 0, while the lock is still held.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import URL
from starlette.applications import Starlette

from opsgraph.app import create_app
from opsgraph.db import libpq_dsn
from opsgraph.rest.shutdown import SHUTTING_DOWN, CancelledAtShutdown, watch_shutdown_signals
from tests.conftest import free_port, make_settings, subprocess_env, wait_ready
from tests.mutations.helpers import gid
from tests.mutations.test_payment import PAY

DRAIN_SECONDS = 2
STUCK = 3
ADMIN_PASSWORD = "drain admin password 1"


def _sent_invoice(url: URL) -> int:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        customer = conn.execute(
            "INSERT INTO customer (name) VALUES ('Dränerad AB') RETURNING id"
        ).fetchone()
        assert customer is not None
        invoice = conn.execute(
            "INSERT INTO invoice (number, customer_id, period_start, period_end, issued_date,"
            " due_date, subtotal, tax, total, status) VALUES ('D-1', %s, '2026-04-01',"
            " '2026-04-30', '2026-05-01', '2026-05-31', 80, 20, 100, 'sent') RETURNING id",
            (customer[0],),
        ).fetchone()
        assert invoice is not None
        return int(invoice[0])


def _waiting_on_locks(url: URL) -> int:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (url.database,),
        ).fetchone()
        return int(row[0]) if row else 0


def _pay(base: str, headers: dict[str, str], invoice: int, n: int) -> Any:
    variables = {
        "input": {
            "invoiceId": gid("Invoice", invoice),
            "amount": "10.00",
            "method": "CARD",
            "reference": f"KORT {n}",
        }
    }
    try:
        return httpx.post(
            f"{base}/graphql",
            json={"query": PAY, "variables": variables},
            headers=headers,
            timeout=60,
        )
    except httpx.TransportError as error:
        return error


def test_sigterm_drains_then_exits_0_while_requests_wait_on_a_lock(
    fresh_database_url: URL,
) -> None:
    invoice = _sent_invoice(fresh_database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = subprocess_env(
        OPSGRAPH_DATABASE_URL=fresh_database_url.render_as_string(hide_password=False),
        OPSGRAPH_PORT=str(port),
        OPSGRAPH_SHUTDOWN_DRAIN_SECONDS=str(DRAIN_SECONDS),
        OPSGRAPH_DB_LOCK_TIMEOUT="120",
        OPSGRAPH_DB_STATEMENT_TIMEOUT="120",
        OPSGRAPH_BCRYPT_ROUNDS="4",
        OPSGRAPH_HTTP_HEADER_TIMEOUT="1",
        OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME="drain-admin",
        OPSGRAPH_BOOTSTRAP_ADMIN_EMAIL="drain-admin@example.com",
        OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(proc, base)
        # a client that never finishes its headers is cut off after the header timeout
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            assert slow.recv(1024) == b""  # closed by the server, nothing answered
        token = httpx.post(
            f"{base}/auth/token",
            data={"username": "drain-admin", "password": ADMIN_PASSWORD},
            timeout=30,
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        with (
            psycopg.connect(libpq_dsn(fresh_database_url)) as holder,
            ThreadPoolExecutor(STUCK) as pool,
        ):
            holder.execute("SELECT id FROM invoice WHERE id = %s FOR UPDATE", (invoice,))
            stuck = [pool.submit(_pay, base, headers, invoice, n) for n in range(STUCK)]
            for _ in range(200):
                if _waiting_on_locks(fresh_database_url) >= STUCK:
                    break
                time.sleep(0.05)
            assert _waiting_on_locks(fresh_database_url) >= STUCK

            proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            try:
                ready = httpx.get(f"{base}/ready", timeout=5)
                assert ready.status_code == 503, ready.text
            except httpx.TransportError:
                pass  # already no longer accepting connections: not ready either
            try:
                proc.wait(timeout=DRAIN_SECONDS + 15)
            except subprocess.TimeoutExpired:
                pytest.fail("opsgraph serve still running 15 s after the drain deadline")
            took = time.monotonic() - signalled
            assert proc.poll() == 0, f"exit code {proc.returncode}"
            assert took < DRAIN_SECONDS + 10, f"exited {took:.1f} s after SIGTERM"
            assert took >= DRAIN_SECONDS - 0.5, "requests in flight did not get their time"
            answers = [future.result(timeout=10) for future in stuck]
            holder.rollback()
        for answer in answers:
            assert isinstance(answer, httpx.Response), answer
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "5"
            assert answer.json()["errors"][0]["extensions"]["code"] == "SHUTTING_DOWN"
        _, err = proc.communicate(timeout=10)
        assert "Traceback" not in err, err
        assert "cancelled: still running at the shutdown deadline" in err
        with psycopg.connect(libpq_dsn(fresh_database_url)) as conn:
            assert conn.execute("SELECT count(*) FROM payment").fetchone() == (0,)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


async def test_a_shutdown_signal_makes_ready_answer_503_at_once(database_url: URL) -> None:
    """The signal hook the app installs while it serves (in front of uvicorn's own)."""
    app = create_app(make_settings(database_url))
    received: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda sig, frame: received.append(sig))
    try:
        restore = watch_shutdown_signals(app.state)
        assert app.state.draining is False
        signal.raise_signal(signal.SIGTERM)
        assert app.state.draining is True
        assert received == [signal.SIGTERM]  # handed on to the handler that was there
        restore()
    finally:
        signal.signal(signal.SIGTERM, before)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        ready = await http.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["reason"] == "the server is shutting down"


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/auth/token", {"error": "temporarily_unavailable", "error_description": SHUTTING_DOWN}),
        ("/auth/revoke", {"error": "temporarily_unavailable", "error_description": SHUTTING_DOWN}),
        ("/graphql", None),
    ],
)
async def test_a_request_cancelled_at_the_deadline_gets_503_in_its_route_shape(
    path: str, shape: dict[str, str] | None
) -> None:
    """What the server does at the drain deadline, on the middleware itself: a request
    still running is cancelled, and its answer is a 503 that its client can read."""
    started = asyncio.Event()

    async def stuck(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await asyncio.Event().wait()  # until cancelled

    app = Starlette()
    app.state.draining = True
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": path, "app": app, "headers": []}
    task = asyncio.create_task(CancelledAtShutdown(stuck)(scope, receive, send))
    await started.wait()
    task.cancel()  # what uvicorn does to the requests left at the deadline
    await task
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"5") in sent[0]["headers"]
    body = json.loads(sent[1]["body"])
    if shape is None:
        assert body["errors"][0]["extensions"]["code"] == "SHUTTING_DOWN"
    else:
        assert body == shape
