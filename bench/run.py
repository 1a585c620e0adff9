"""opsgraph benchmarks (`make bench`).

1. The dashboard query through the real HTTP server next to its floor, one json_agg SQL
   query, measured side by side in one run (targets: <= 6 SQL statements per request,
   p50 <= 8x the floor). Against the same server, the hostile documents of
   ``bench/hostile.py``: the slowest refusal and the slowest ``/health`` answered meanwhile
   (the event loop's lag, seen from outside), and the same for the largest valid document.
2. The outbox's cost on ``orderCreate``: with the event, without it, with one endpoint
   subscribed (``bench/outbox.py``; target: under 10 % more).
3. The bulk data generator (`opsgraph seed --customers N`; budget 60 s for 10,000).
4. Webhook deliveries per second, one worker, local receiver (``bench/webhooks.py``).

The database is ``OPSGRAPH_BENCH_DATABASE_URL`` (its server: scratch databases are created
and dropped there) or an embedded PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from bench.dashboard import bench_floor, bench_graphql, print_table, seed
from bench.outbox import bench_outbox
from bench.webhooks import bench_webhooks
from opsgraph.db import libpq_dsn
from opsgraph.db.embedded import EmbeddedPostgres
from opsgraph.db.migrations import upgrade
from opsgraph.seed import seed_bulk
from opsgraph.settings import sqlalchemy_url

SEED_BUDGET_SECONDS = 60.0
SEED_BUDGET_CUSTOMERS = 10_000


@contextlib.contextmanager
def server_url() -> Iterator[object]:
    raw = os.environ.get("OPSGRAPH_BENCH_DATABASE_URL")
    if raw:
        yield sqlalchemy_url(raw)
        return
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp) / "pgdata")
        embedded.start()
        try:
            yield sqlalchemy_url(embedded.url("postgres"))
        finally:
            embedded.stop()


@contextlib.contextmanager
def scratch_database(server: object) -> Iterator[str]:
    """A migrated scratch database on ``server``; yields its SQLAlchemy URL text."""
    name = f"opsgraph_bench_{uuid.uuid4().hex[:8]}"
    admin = libpq_dsn(server)  # type: ignore[arg-type]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server.set(database=name)  # type: ignore[attr-defined]
    try:
        upgrade(url)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def bench_dashboard(server: object, runs: int, burst: int, with_resolvers: bool) -> None:
    with scratch_database(server) as url:
        dsn = libpq_dsn(url)
        seed(dsn)
        print(
            f"dashboard query: 100 customers -> 1,000 orders -> 1,000 invoices -> 2,000 payments"
            f" ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
        )
        results = [asyncio.run(bench_graphql(url, runs, burst))]
        if with_resolvers:  # the same server with compiled reads off, for comparison
            results.append(asyncio.run(bench_graphql(url, runs, burst, compiled=False)))
        results.append(asyncio.run(bench_floor(dsn, runs, burst)))
        print_table(results)


def bench_outbox_cost(server: object, runs: int) -> None:
    with scratch_database(server) as url:
        print()
        print(asyncio.run(bench_outbox(url, runs)))


def bench_seed(server: object, customers: int) -> None:
    with scratch_database(server) as url:
        started = time.perf_counter()
        stats = seed_bulk(libpq_dsn(url), customers=customers, seed=42)
        seconds = time.perf_counter() - started
    budget = SEED_BUDGET_SECONDS * customers / SEED_BUDGET_CUSTOMERS
    print(
        f"\nseed --customers {customers}: {seconds:.1f} s (budget {budget:.0f} s,"
        f" ratio {seconds / budget:.2f})"
    )
    print(f"  {stats.summary()}")


def bench_deliveries(server: object, events: int) -> None:
    with scratch_database(server) as url:
        result = bench_webhooks(url, events)
    print(f"\n{result.row()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=SEED_BUDGET_CUSTOMERS)
    parser.add_argument("--runs", type=int, default=40, help="sequential requests timed")
    parser.add_argument("--burst", type=int, default=80, help="requests at concurrency 8")
    parser.add_argument("--skip-seed", action="store_true", help="no bulk seed")
    parser.add_argument(
        "--outbox-runs", type=int, default=300, help="orderCreate runs of each outbox variant"
    )
    parser.add_argument("--only-outbox", action="store_true", help="only the outbox's cost")
    parser.add_argument(
        "--webhook-events", type=int, default=2_000, help="events delivered (0: skip)"
    )
    parser.add_argument(
        "--with-resolvers",
        action="store_true",
        help="also time the server with compiled reads off (slow: minutes)",
    )
    args = parser.parse_args()
    with server_url() as server:
        if args.only_outbox:
            bench_outbox_cost(server, args.outbox_runs)
            return
        bench_dashboard(server, args.runs, args.burst, args.with_resolvers)
        bench_outbox_cost(server, args.outbox_runs)
        if not args.skip_seed:
            bench_seed(server, args.customers)
        if args.webhook_events > 0:
            bench_deliveries(server, args.webhook_events)


if __name__ == "__main__":
    main()
