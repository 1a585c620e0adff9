"""A large, deterministic data set for read benchmarks, loaded with COPY in one transaction.

For ``customers=N``: N customers (external ids ``B-000001``...), one property each, 8-12
orders each with 1-3 lines, one invoice per order (same customer; numbered
``B-INV-00000001``...; paid ones in 1-3 payments, about 1.35 payments per invoice in all)
and about one ticket per customer. The same N and seed give the same data. Every row
satisfies the CHECK constraints; ``order_count`` is the number of the customer's orders
that are not cancelled.

Orders use the active products already in the database (price above zero); when there are
none, eight ``BULK-0001``... products are created with stock 1,000 and an ``initial``
movement. Bulk orders do not move stock: this data is for read benchmarks, so no stock
movements are generated and stock levels stay as they were (and consistent). Financial
transactions, time entries and users are not generated either.

Loading twice is refused: when ``B-000001`` exists, :class:`ConfigError` says how to get
a fresh database. Ids come from the tables' identity sequences (``nextval`` in blocks), so
later ordinary inserts never collide with bulk rows.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import psycopg

from opsgraph.seed.demo_data import CITIES, NAME_FIRST, NAME_SUFFIX, STREETS, TICKET_SUBJECTS
from opsgraph.settings import FRESH_DATABASE, ConfigError

FIRST_EXTERNAL_ID = "B-000001"
CHUNK = 2_000  # customers generated and copied per round
ID_BLOCK = 20_000  # ids fetched from a sequence at a time
LOCK_KEY = 20_261_122_002
START = dt.datetime(2025, 1, 1, 7, 0, tzinfo=dt.UTC)
SPAN_MINUTES = 600 * 24 * 60  # orders placed from START over 600 days
ORDER_STATUSES = ("completed", "confirmed", "pending", "cancelled")
ORDER_WEIGHTS = (70, 12, 8, 10)
METHODS = ("bank_transfer", "card", "cash", "other")
TICKET_STATUSES = ("open", "in_progress", "resolved", "closed")
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")

COLUMNS: dict[str, str] = {
    "customer": "id, external_id, name, email, phone, org_no, order_count",
    "property": "id, customer_id, label, address_line1, postal_code, city, country",
    "order": "id, customer_id, property_id, status, subtotal, tax, total, placed_at, created_at",
    "order_line": "order_id, product_id, quantity, unit_price, line_total, created_at",
    "invoice": "id, number, customer_id, order_id, property_id, period_start, period_end, "
    "issued_date, due_date, subtotal, tax, total, status, created_at",
    "payment": "invoice_id, amount, paid_at, method, reference, created_at",
    "ticket": "customer_id, subject, description, status, priority, resolved_at, created_at",
}


@dataclass
class BulkStats:
    customers: int = 0
    properties: int = 0
    products_created: int = 0
    orders: int = 0
    order_lines: int = 0
    invoices: int = 0
    payments: int = 0
    tickets: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        counts = ", ".join(
            f"{f.name.replace('_', ' ')} {getattr(self, f.name):,}"
            for f in fields(self)
            if f.name != "seconds"
        )
        return f"bulk data loaded in {self.seconds:.1f} s: {counts}"


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _split(rng: random.Random, cents: int, parts: int) -> list[int]:
    """``cents`` as up to ``parts`` positive amounts that sum to it exactly."""
    if parts < 2 or cents < parts:
        return [cents]
    cuts = sorted(rng.sample(range(1, cents), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, cents], strict=True)]


class _Ids:
    """Ids drawn from a table's identity sequence, a block at a time."""

    def __init__(self, conn: psycopg.Connection[Any], table: str) -> None:
        self.conn, self.table = conn, table
        self.block: list[int] = []

    def take(self) -> int:
        if not self.block:
            rows = self.conn.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                (f'"{self.table}"', ID_BLOCK),
            ).fetchall()
            self.block = [row[0] for row in reversed(rows)]
        return self.block.pop()


Rows = dict[str, list[Sequence[object]]]
STAT_OF_TABLE = {
    "customer": "customers",
    "property": "properties",
    "order": "orders",
    "order_line": "order_lines",
    "invoice": "invoices",
    "payment": "payments",
    "ticket": "tickets",
}


class _Generator:
    def __init__(
        self, conn: psycopg.Connection[Any], seed: int, products: list[tuple[int, int]]
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
        self.products = products
        tables = ("customer", "property", "order", "invoice")
        self.ids = {table: _Ids(conn, table) for table in tables}
        self.invoice_no = 0

    def chunk(self, first: int, last: int) -> Rows:
        """Customers ``first``..``last`` (numbers, not ids) and everything they own."""
        out: Rows = {table: [] for table in COLUMNS}
        for n in range(first, last + 1):
            self.customer(out, n)
        return out

    def customer(self, out: Rows, n: int) -> None:
        rng, ids = self.rng, self.ids
        customer_id, property_id = ids["customer"].take(), ids["property"].take()
        city, postal, area = rng.choice(CITIES)
        street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
        address = (street, f"{postal} {rng.randint(10, 99)}", city, "SE")
        out["property"].append((property_id, customer_id, "Huvudkontor", *address))
        live = 0
        for _ in range(rng.randint(8, 12)):
            live += self.order(out, customer_id, property_id)
        name = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SUFFIX)} {n}"
        phone = f"+46 {area} {n:06d}"
        org_no = f"{rng.randint(550000, 559999)}-{rng.randint(1000, 9999)}"
        external_id = f"B-{n:06d}"
        email = f"kund{n:06d}@example.se"
        out["customer"].append((customer_id, external_id, name, email, phone, org_no, live))
        for _ in range(rng.choice((0, 1, 1, 2))):
            self.ticket(out, customer_id)

    def order(self, out: Rows, customer: int, place: int) -> int:
        """One order with lines and its invoice; 1 if it counts towards order_count."""
        rng = self.rng
        order_id = self.ids["order"].take()
        placed = START + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES))
        status = rng.choices(ORDER_STATUSES, ORDER_WEIGHTS)[0]
        subtotal = 0
        for product_id, price in rng.sample(
            self.products, min(rng.randint(1, 3), len(self.products))
        ):
            quantity = rng.randint(1, 5)
            subtotal += quantity * price
            line = (order_id, product_id, quantity, _money(price), _money(quantity * price), placed)
            out["order_line"].append(line)
        tax = (subtotal * 25 + 50) // 100
        amounts = (_money(subtotal), _money(tax), _money(subtotal + tax))
        order = (order_id, customer, place, status, *amounts, placed, placed)
        out["order"].append(order)
        self.invoice(out, order, subtotal + tax)
        return 0 if status == "cancelled" else 1

    def invoice(self, out: Rows, order: tuple[Any, ...], total: int) -> None:
        """The order's invoice, and its payments when (partly) paid."""
        rng = self.rng
        order_id, customer, place, order_status, *amounts, placed, _ = order
        kind = {
            "completed": rng.choices(("paid", "partly", "sent"), (85, 10, 5))[0],
            "confirmed": rng.choice(("partly", "sent", "draft")),
            "pending": "draft",
            "cancelled": "void",
        }[order_status]
        invoice_id = self.ids["invoice"].take()
        self.invoice_no += 1
        number = f"B-INV-{self.invoice_no:08d}"
        day = placed.date()
        issued = day + dt.timedelta(days=rng.randint(1, 14))
        due = issued + dt.timedelta(days=30)
        status = "sent" if kind == "partly" else kind
        created = dt.datetime.combine(issued, dt.time(9), dt.UTC)
        head = (invoice_id, number, customer, order_id, place, day, day, issued, due)
        out["invoice"].append((*head, *amounts, status, created))
        if kind == "paid":
            parts = _split(rng, total, rng.randint(1, 3))
        elif kind == "partly" and total >= 2:
            parts = _split(rng, rng.randint(1, total - 1), rng.randint(1, 2))
        else:
            return
        paid_at = created + dt.timedelta(days=rng.randint(2, 30), hours=rng.randint(0, 9))
        for k, cents in enumerate(parts, 1):
            method = rng.choice(METHODS)
            reference = f"{number}/{k}"
            out["payment"].append((invoice_id, _money(cents), paid_at, method, reference, paid_at))
            paid_at += dt.timedelta(days=rng.randint(3, 15))

    def ticket(self, out: Rows, customer: int) -> None:
        rng = self.rng
        status = rng.choice(TICKET_STATUSES)
        opened = START + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES))
        done = status in ("resolved", "closed")
        resolved = opened + dt.timedelta(hours=rng.randint(1, 240)) if done else None
        subject = rng.choice(TICKET_SUBJECTS)
        priority = rng.choice(TICKET_PRIORITIES)
        row = (
            customer,
            subject,
            "Genererad för prestandatest.",
            status,
            priority,
            resolved,
            opened,
        )
        out["ticket"].append(row)


def _products(conn: psycopg.Connection[Any]) -> tuple[list[tuple[int, int]], int]:
    """(id, price in cents) of the products orders may use, creating some if none exist."""
    query = "SELECT id, (unit_price * 100)::bigint FROM product WHERE active AND unit_price > 0"
    products = conn.execute(query + " ORDER BY id").fetchall()
    if products:
        return [(row[0], row[1]) for row in products], 0
    created = conn.execute("""
        WITH new AS (
            INSERT INTO product (sku, name, description, unit_price)
            SELECT 'BULK-' || lpad(n::text, 4, '0'), 'Bulkprodukt ' || n,
                   'Genererad för prestandatest', 49 + n * 40
            FROM generate_series(1, 8) AS n
            ON CONFLICT (sku) DO NOTHING
            RETURNING id
        ), level AS (
            INSERT INTO stock_level (product_id, quantity) SELECT id, 1000 FROM new
            RETURNING product_id
        )
        INSERT INTO stock_movement (product_id, delta, reason, quantity_after, note)
        SELECT product_id, 1000, 'initial', 1000, 'Ingående saldo (bulk)' FROM level
    """).rowcount
    products = conn.execute(query + " ORDER BY id").fetchall()
    if not products:
        raise ConfigError("no active product to order, and BULK-0001... exist but are inactive")
    return [(row[0], row[1]) for row in products], created


def _copy(conn: psycopg.Connection[Any], table: str, rows: Iterable[Sequence[object]]) -> None:
    with conn.cursor().copy(f'COPY "{table}" ({COLUMNS[table]}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


Progress = Callable[[str, int], None]
"""Told ``(table, rows)`` after each COPY of a round; ``("ANALYZE", 0)`` before the last step."""


def seed_bulk(
    dsn: str, *, customers: int, seed: int = 42, progress: Progress | None = None
) -> BulkStats:
    """Load the bulk data set into the database at ``dsn`` (a libpq URL), all or nothing;
    ``progress`` hears of every table's rows as they are copied."""
    if customers < 1:
        raise ConfigError("customers must be at least 1")
    began = time.perf_counter()
    stats = BulkStats()
    with psycopg.connect(dsn) as conn:  # commits on success, rolls back on an exception
        conn.execute("SET LOCAL synchronous_commit TO off")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        taken = conn.execute("SELECT 1 FROM customer WHERE external_id = %s", (FIRST_EXTERNAL_ID,))
        if taken.fetchone():
            raise ConfigError(
                f"bulk data already loaded ({FIRST_EXTERNAL_ID} exists); for a fresh database, "
                f"{FRESH_DATABASE}"
            )
        products, stats.products_created = _products(conn)
        generator = _Generator(conn, seed, products)
        for first in range(1, customers + 1, CHUNK):
            chunk = generator.chunk(first, min(first + CHUNK - 1, customers))
            for table, rows in chunk.items():  # parents first: COLUMNS is in that order
                _copy(conn, table, rows)
                attribute = STAT_OF_TABLE[table]
                setattr(stats, attribute, getattr(stats, attribute) + len(rows))
                if progress is not None:
                    progress(table, len(rows))
        if progress is not None:
            progress("ANALYZE", 0)
        conn.execute('ANALYZE customer, property, "order", order_line, invoice, payment, ticket')
    stats.seconds = round(time.perf_counter() - began, 2)
    return stats
