"""The dashboard benchmark: GraphQL through the real HTTP server vs one json_agg query.

Data: 1,000 customers x 10 orders x 1 invoice x 2 payments (deterministic, made with
generate_series). The query: the first 100 customers with all their orders -> invoice ->
payments, about 4,100 objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import psycopg

from bench.hostile import HostileFigures, bench_hostile

CUSTOMERS, ORDERS_EACH = 1_000, 10

DASHBOARD = """{ customers(first: 100) { edges { node { id name
  orders(first: 100) { edges { node { id total status
    invoices(first: 10) { edges { node { number total
      payments(first: 10) { edges { node { amount paidAt } } } } } } } } } } } } }"""

FLOOR_SQL = """
SELECT json_build_object('data', json_build_object('customers', json_build_object('edges',
  coalesce(json_agg(json_build_object('node', json_build_object('id', c.id, 'name', c.name,
    'orders', json_build_object('edges', (
      SELECT coalesce(json_agg(json_build_object('node', json_build_object(
        'id', o.id, 'total', o.total, 'status', o.status,
        'invoices', json_build_object('edges', (
          SELECT coalesce(json_agg(json_build_object('node', json_build_object(
            'number', i.number, 'total', i.total,
            'payments', json_build_object('edges', (
              SELECT coalesce(json_agg(json_build_object('node', json_build_object(
                'amount', p.amount, 'paidAt', p.paid_at)) ORDER BY p.id), '[]')
              FROM payment p WHERE p.invoice_id = i.id)))) ORDER BY i.id), '[]')
          FROM invoice i WHERE i.order_id = o.id)))) ORDER BY o.id), '[]')
      FROM "order" o WHERE o.customer_id = c.id)))) ORDER BY c.id), '[]'))))::text
FROM (SELECT * FROM customer ORDER BY id LIMIT 100) c
"""

SEED_SQL = [
    f"""INSERT INTO customer (id, name, email, external_id)
        SELECT g, 'Bench Kund ' || g, 'kund' || g || '@bench.example', 'BENCH-' || g
        FROM generate_series(1, {CUSTOMERS}) g""",
    f"""INSERT INTO "order" (id, customer_id, status, subtotal, tax, total, placed_at)
        SELECT (c - 1) * {ORDERS_EACH} + k, c,
               (ARRAY['pending', 'confirmed', 'completed'])[1 + (c + k) % 3],
               100 + k, (100 + k) * 0.25, (100 + k) * 1.25,
               timestamptz '2026-01-01 08:00+00' + (c * {ORDERS_EACH} + k) * interval '1 hour'
        FROM generate_series(1, {CUSTOMERS}) c, generate_series(1, {ORDERS_EACH}) k""",
    """INSERT INTO invoice (id, number, customer_id, order_id, period_start, period_end,
                           issued_date, due_date, subtotal, tax, total, status)
       SELECT id, 'BENCH-INV-' || id, customer_id, id, '2026-01-01', '2026-01-31',
              '2026-02-01', '2026-03-01', subtotal, tax, total, 'sent' FROM "order" """,
    """INSERT INTO payment (invoice_id, amount, paid_at, method, reference)
       SELECT i.id, 10 * k, timestamptz '2026-02-10 10:00+00' + k * interval '1 day',
              'bank_transfer', 'R' || k
       FROM invoice i, generate_series(1, 2) k""",
    """UPDATE customer c SET order_count = (SELECT count(*) FROM "order" o
       WHERE o.customer_id = c.id AND o.status <> 'cancelled')""",
    "SELECT setval(pg_get_serial_sequence('customer', 'id'), (SELECT max(id) FROM customer))",
    """SELECT setval(pg_get_serial_sequence('"order"', 'id'), (SELECT max(id) FROM "order"))""",
    "SELECT setval(pg_get_serial_sequence('invoice', 'id'), (SELECT max(id) FROM invoice))",
    'ANALYZE customer, "order", invoice, payment',
]


def seed(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        have = conn.execute("SELECT count(*) FROM customer WHERE external_id LIKE 'BENCH-%'")
        if (row := have.fetchone()) is not None and row[0] == CUSTOMERS:
            return  # reuse
        for statement in SEED_SQL:
            conn.execute(statement)


@dataclass
class Result:
    name: str
    statements: int
    p50_ms: float
    p95_ms: float
    rps: float
    hostile: HostileFigures | None = None  # measured against the same server


BENCH_USER = "bench-admin"
BENCH_PASSWORD = "bench-admin-password"  # noqa: S105 - the benchmark database only


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _measure(
    name: str, statements: int, once: Callable[[], Awaitable[None]], runs: int, burst: int
) -> Result:
    for _ in range(3):  # warm up
        await once()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await once()
        timings.append((time.perf_counter() - started) * 1000)
    done = 0

    async def worker() -> None:
        nonlocal done
        while done < burst:
            done += 1
            await once()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(8)))
    elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(timings, n=20)
    return Result(name, statements, statistics.median(timings), quantiles[18], done / elapsed)


@contextlib.asynccontextmanager
async def served(
    url: str,
    *,
    compiled: bool = True,
    production: bool = False,
    env: dict[str, str] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """``opsgraph serve`` (one worker) over ``url``, and a client signed in as its admin."""
    port = _free_port()
    server_env = {
        **os.environ,
        "OPSGRAPH_DATABASE_URL": url,
        "OPSGRAPH_PORT": str(port),
        "OPSGRAPH_LOG_LEVEL": "WARNING",
        "OPSGRAPH_ENVIRONMENT": "production" if production else "development",
        "OPSGRAPH_JWT_SECRET": "bench-" + "x" * 40,
        "OPSGRAPH_ENV_FILE": "",
        "OPSGRAPH_COMPILED_READS": str(compiled).lower(),
        # the graph needs a signed-in caller: the server creates this admin when the
        # database has none, and the benchmark signs in as it
        "OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME": BENCH_USER,
        "OPSGRAPH_BOOTSTRAP_ADMIN_EMAIL": f"{BENCH_USER}@example.com",
        "OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD": BENCH_PASSWORD,
        **(env or {}),
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before any timing
        [sys.executable, "-m", "opsgraph", "serve", "--workers", "1"], env=server_env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for _ in range(300):
                try:
                    if (await client.get("/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            token = await client.post(
                "/auth/token", data={"username": BENCH_USER, "password": BENCH_PASSWORD}
            )
            assert token.status_code == 200, (
                f"cannot sign in as {BENCH_USER} (another admin exists?): {token.text}"
            )
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            yield client
    finally:
        server.terminate()
        server.wait(timeout=60)


async def bench_graphql(url: str, runs: int, burst: int, *, compiled: bool = True) -> Result:
    async with served(url, compiled=compiled) as client:
        probe = await client.post(
            "/graphql", json={"query": DASHBOARD}, headers={"X-Opsgraph-Statements": "1"}
        )
        body = probe.json()
        assert "errors" not in body, body
        statements = body["extensions"]["sqlStatements"]
        read_path = body["extensions"]["readPath"]
        assert read_path == ("compiled" if compiled else "resolvers"), read_path

        async def once() -> None:
            response = await client.post("/graphql", json={"query": DASHBOARD})
            response.raise_for_status()

        name = f"GraphQL, {read_path} (HTTP)"
        result = await _measure(name, statements, once, runs, burst)
        if compiled:
            result.hostile = await bench_hostile(str(client.base_url).rstrip("/"))
        return result


async def bench_floor(dsn: str, runs: int, burst: int) -> Result:
    connections = [await psycopg.AsyncConnection.connect(dsn) for _ in range(8)]
    free: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()
    for conn in connections:
        free.put_nowait(conn)

    async def once() -> None:
        conn = await free.get()
        try:
            cursor = await conn.execute(FLOOR_SQL)
            row = await cursor.fetchone()
            assert row is not None
        finally:
            free.put_nowait(conn)

    try:
        return await _measure("json_agg SQL (psycopg)", 1, once, runs, burst)
    finally:
        for conn in connections:
            await conn.close()


MAX_STATEMENTS, MAX_RATIO = 6, 8.0  # the read path's targets


def print_table(results: list[Result]) -> None:
    """The results, the floor last; then whether the first (the served path) meets the
    targets."""
    floor = results[-1]
    print(f"{'':28} {'SQL/req':>8} {'p50 ms':>8} {'p95 ms':>8} {'req/s @8':>9} {'p50 ratio':>10}")
    for r in results:
        ratio = r.p50_ms / floor.p50_ms
        print(
            f"{r.name:28} {r.statements:>8} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} {r.rps:>9.1f}"
            f" {ratio:>9.1f}x"
        )
    for r in results:
        if r.hostile is not None:
            print(r.hostile)
    served = results[0]
    ratio = served.p50_ms / floor.p50_ms
    met = served.statements <= MAX_STATEMENTS and ratio <= MAX_RATIO
    print(
        f"target: <= {MAX_STATEMENTS} SQL statements and p50 <= {MAX_RATIO:.0f}x the floor:"
        f" {'met' if met else 'NOT met'} ({served.statements} statements, {ratio:.1f}x)"
    )
