"""opsgraph benchmarks (`make bench`).

Each benchmark runs on a scratch database and prints what it measured next to its budget,
as a ratio (< 1.00 is within budget). Today: the bulk data generator that later
benchmarks load their data with (`opsgraph seed --customers N`, budget 60 s for 10,000
customers). The database is ``OPSGRAPH_BENCH_DATABASE_URL`` (its server; a scratch
database is created and dropped there) or an embedded PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from opsgraph.db import libpq_dsn
from opsgraph.db.embedded import EmbeddedPostgres
from opsgraph.db.migrations import upgrade
from opsgraph.seed import seed_bulk
from opsgraph.settings import sqlalchemy_url

SEED_BUDGET_SECONDS = 60.0
SEED_BUDGET_CUSTOMERS = 10_000


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    raw = os.environ.get("OPSGRAPH_BENCH_DATABASE_URL")
    with contextlib.ExitStack() as stack:
        if raw:
            server = sqlalchemy_url(raw)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="opsgraph-bench-")))
            embedded = EmbeddedPostgres(tmp / "pgdata")
            embedded.start()
            stack.callback(embedded.stop)
            server = sqlalchemy_url(embedded.url("postgres"))
        name = f"opsgraph_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield libpq_dsn(server.set(database=name))
        finally:
            with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def bench_seed(customers: int) -> None:
    with scratch_database() as dsn:
        upgrade(dsn)
        started = time.perf_counter()
        stats = seed_bulk(dsn, customers=customers, seed=42)
        seconds = time.perf_counter() - started
    budget = SEED_BUDGET_SECONDS * customers / SEED_BUDGET_CUSTOMERS
    print(f"seed --customers {customers}: {seconds:.1f} s (budget {budget:.0f} s)")
    print(f"  {stats.summary()}")
    print(f"  ratio to budget: {seconds / budget:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=SEED_BUDGET_CUSTOMERS)
    args = parser.parse_args()
    bench_seed(args.customers)


if __name__ == "__main__":
    main()
