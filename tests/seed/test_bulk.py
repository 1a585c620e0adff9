"""The bulk data set: counts, constraints, sequences, determinism, refusal to load twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import URL

from opsgraph.db import libpq_dsn
from opsgraph.seed import BulkStats, seed_bulk
from opsgraph.settings import ConfigError
from tests.conftest import PgServer

CUSTOMERS = 200
TABLES = (
    "customer",
    "property",
    "order",
    "order_line",
    "invoice",
    "payment",
    "ticket",
    "product",
    "stock_level",
    "stock_movement",
)


@pytest.fixture
def loaded(fresh_database_url: URL) -> tuple[str, BulkStats]:
    dsn = libpq_dsn(fresh_database_url)
    return dsn, seed_bulk(dsn, customers=CUSTOMERS)


@pytest.fixture
def second_database(pg_server: PgServer, template_database: str) -> Iterator[str]:
    name = pg_server.create_database("opsgraph_bulk", template=template_database)
    yield libpq_dsn(pg_server.url(name))
    pg_server.drop_database(name)


def _rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchall()


def _one(dsn: str, query: str) -> Any:
    return _rows(dsn, query)[0][0]


def test_counts(loaded: tuple[str, BulkStats]) -> None:
    dsn, stats = loaded
    counts = {table: _one(dsn, f'SELECT count(*) FROM "{table}"') for table in TABLES}
    assert counts["customer"] == stats.customers == CUSTOMERS
    assert counts["property"] == stats.properties == CUSTOMERS
    assert counts["order"] == stats.orders
    assert 8 * CUSTOMERS <= stats.orders <= 12 * CUSTOMERS
    assert counts["order_line"] == stats.order_lines
    assert stats.orders <= stats.order_lines <= 3 * stats.orders
    assert counts["invoice"] == stats.invoices == stats.orders
    assert counts["payment"] == stats.payments
    assert stats.invoices <= stats.payments <= 2 * stats.invoices
    assert counts["ticket"] == stats.tickets
    assert CUSTOMERS // 2 <= stats.tickets <= 2 * CUSTOMERS
    # a fresh database has no products: eight are made, with stock and an initial movement
    assert stats.products_created == counts["product"] == 8
    assert counts["stock_level"] == counts["stock_movement"] == 8
    assert stats.seconds > 0
    assert f"customers {CUSTOMERS}" in stats.summary()


def test_rows_agree_with_each_other(loaded: tuple[str, BulkStats]) -> None:
    dsn, _ = loaded
    # order amounts are the sum of their lines, with 25 % tax
    assert not _rows(
        dsn,
        """SELECT o.id FROM "order" o JOIN order_line l ON l.order_id = o.id
           GROUP BY o.id HAVING o.subtotal <> sum(l.line_total)
               OR o.tax <> round(o.subtotal * 0.25, 2) OR o.total <> o.subtotal + o.tax""",
    )
    # one invoice per order, with the order's customer and amounts
    assert not _rows(
        dsn,
        """SELECT o.id FROM "order" o LEFT JOIN invoice i ON i.order_id = o.id
           WHERE i.id IS NULL OR i.customer_id <> o.customer_id OR i.total <> o.total
              OR (i.status = 'void') <> (o.status = 'cancelled')""",
    )
    # paid invoices are paid exactly; others less (drafts and void ones not at all)
    paid = dict(
        _rows(
            dsn,
            """SELECT i.status, bool_and(CASE i.status
                   WHEN 'paid' THEN coalesce(p.paid, 0) = i.total
                   WHEN 'sent' THEN coalesce(p.paid, 0) < i.total
                   ELSE p.paid IS NULL END)
               FROM invoice i LEFT JOIN (SELECT invoice_id, sum(amount) AS paid FROM payment
                                         GROUP BY invoice_id) p ON p.invoice_id = i.id
               GROUP BY i.status""",
        )
    )
    assert paid == {"paid": True, "sent": True, "draft": True, "void": True}
    assert _one(
        dsn,
        "SELECT count(*) FROM invoice i WHERE status = 'sent' "
        "AND EXISTS (SELECT FROM payment p WHERE p.invoice_id = i.id)",
    )
    # order_count is the number of orders that are not cancelled
    assert not _rows(
        dsn,
        """SELECT c.id FROM customer c LEFT JOIN "order" o
               ON o.customer_id = c.id AND o.status <> 'cancelled'
           GROUP BY c.id HAVING c.order_count <> count(o.id)""",
    )
    # an order's property belongs to its customer; stock was not touched
    assert not _rows(
        dsn,
        'SELECT o.id FROM "order" o JOIN property p ON p.id = o.property_id '
        "WHERE p.customer_id <> o.customer_id",
    )
    assert _one(dsn, "SELECT bool_and(quantity = 1000) FROM stock_level")
    statuses = _rows(dsn, 'SELECT DISTINCT status FROM "order" ORDER BY 1')
    assert [s for (s,) in statuses] == ["cancelled", "completed", "confirmed", "pending"]


def test_ordinary_inserts_afterwards_get_new_ids(loaded: tuple[str, BulkStats]) -> None:
    dsn, _ = loaded
    with psycopg.connect(dsn) as conn:
        top = conn.execute('SELECT max(id) FROM "order"').fetchone()
        customer = conn.execute(
            "INSERT INTO customer (name) VALUES ('Efter bulk AB') RETURNING id"
        ).fetchone()
        order = conn.execute(
            'INSERT INTO "order" (customer_id) VALUES (%s) RETURNING id', customer
        ).fetchone()
        invoice = conn.execute(
            "INSERT INTO invoice (number, customer_id, period_start, period_end, issued_date,"
            " due_date, subtotal, tax, total) VALUES ('INV-X-1', %s, current_date, current_date,"
            " current_date, current_date, 0, 0, 0) RETURNING id",
            customer,
        ).fetchone()
    assert top is not None
    assert order is not None
    assert invoice is not None
    assert order[0] > top[0]


def test_same_seed_same_data(loaded: tuple[str, BulkStats], second_database: str) -> None:
    dsn, stats = loaded
    again = seed_bulk(second_database, customers=CUSTOMERS)
    assert (again.orders, again.payments, again.tickets) == (
        stats.orders,
        stats.payments,
        stats.tickets,
    )
    queries = (
        "SELECT external_id, name, email, order_count FROM customer ORDER BY external_id",
        'SELECT c.external_id, o.placed_at, o.status, o.total FROM "order" o '
        "JOIN customer c ON c.id = o.customer_id ORDER BY 1, 2, 4",
        "SELECT number, status, total, issued_date FROM invoice ORDER BY number",
        "SELECT reference, amount, method, paid_at FROM payment ORDER BY reference",
    )
    for query in queries:
        assert _rows(dsn, query) == _rows(second_database, query), query


def test_another_seed_other_data(fresh_database_url: URL, second_database: str) -> None:
    dsn = libpq_dsn(fresh_database_url)
    seed_bulk(dsn, customers=20, seed=1)
    seed_bulk(second_database, customers=20, seed=2)
    query = "SELECT name FROM customer ORDER BY external_id"
    assert _rows(dsn, query) != _rows(second_database, query)


def test_loading_twice_is_refused(loaded: tuple[str, BulkStats]) -> None:
    dsn, stats = loaded
    with pytest.raises(ConfigError, match=r"bulk data already loaded \(B-000001 exists\)"):
        seed_bulk(dsn, customers=10)
    assert _one(dsn, 'SELECT count(*) FROM "order"') == stats.orders


def test_existing_products_are_used(fresh_database_url: URL) -> None:
    dsn = libpq_dsn(fresh_database_url)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO product (sku, name, unit_price, active) VALUES "
            "('TEST-1', 'Test', 12.50, true), ('TEST-2', 'Gammal', 9.00, false)"
        )
    stats = seed_bulk(dsn, customers=5)
    assert stats.products_created == 0
    used = _rows(
        dsn, "SELECT DISTINCT p.sku FROM order_line l JOIN product p ON p.id = l.product_id"
    )
    assert used == [("TEST-1",)]


def test_at_least_one_customer(fresh_database_url: URL) -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        seed_bulk(libpq_dsn(fresh_database_url), customers=0)
