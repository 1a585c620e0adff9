"""A bounded load run: mixed reads, mutations and hostile documents against a real server.

``python -m bench.load [--seconds 60] [--users 8]`` (``make load``) starts ``opsgraph serve``
(production mode, one worker) over a scratch database with the dashboard data set, creates
products with stock and sent invoices, then lets ``--users`` virtual clients send requests
for ``--seconds``: dashboard reads, lookups, orders, payments racing for the same invoices,
stock adjustments racing for the same products, tickets, and hostile documents (those of
``bench/hostile.py``, a 50-alias query costing 177 million objects, a NUL byte in a
variable). A probe reads ``/health`` every 100 ms meanwhile.

It prints, per kind of request, the count, statuses and latency percentiles, the worst
``/health`` delay, and then checks the money and stock invariants in the database. It
fails (exit 1) on any 5xx, any "Unexpected error", or any broken invariant.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from bench.dashboard import seed, served
from bench.hostile import HOSTILE as HOSTILE_DOCUMENTS

PRODUCTS = 6
INVOICES = 40

READ = """query($n: Int!) { customers(first: $n) { edges { node { id name
  orders(first: 5) { edges { node { total status
    invoices(first: 2) { edges { node { number total balanceDue
      payments(first: 5) { edges { node { amount } } } } } } } } } } } } }"""
LOOKUP = """query($id: String!) { customer(externalId: $id) { name orderCount
  outstandingBalance } }"""
PRODUCT = """mutation($sku: String!) { productCreate(input: {sku: $sku, name: $sku,
  unitPrice: "12.50", initialStock: 400}) { product { id } errors { code } } }"""
ORDER = """mutation($customer: ID!, $lines: [OrderLineInput!]!) {
  orderCreate(input: {customerId: $customer, lines: $lines}) {
    order { id total } errors { code } } }"""
INVOICE = """mutation($order: ID!) { invoiceCreateFromOrder(input: {orderId: $order}) {
  invoice { id total } errors { code } } }"""
SEND = """mutation($id: ID!) { invoiceSend(input: {id: $id}) { invoice { status }
  errors { code } } }"""
PAY = """mutation($id: ID!, $amount: Decimal!, $ref: String!) {
  paymentRecord(input: {invoiceId: $id, amount: $amount, method: CARD, reference: $ref}) {
    invoice { status amountPaid } errors { code } } }"""
ADJUST = """mutation($id: ID!, $delta: Int!) {
  stockAdjust(input: {productId: $id, delta: $delta, reason: ADJUSTMENT}) {
    product { stockLevel { quantity } } errors { code } } }"""
TICKET = """mutation($customer: ID!, $subject: String!) {
  ticketCreate(input: {customerId: $customer, subject: $subject}) {
    ticket { id } errors { code } } }"""
CUSTOMER_IDS = "{ customers(first: 50) { edges { node { id } } } }"


EVERYTHING = """fragment Everything on CustomerConnection { edges { node {
  orders(first: 100) { edges { node {
    lines(first: 100) { edges { node { product { name } } } } } } }
  invoices(first: 100) { edges { node { payments(first: 100) { edges { node { amount } } } } } }
} } }"""
ALIASES = " ".join(f"a{i}: customers(first: 100) {{ ...Everything }}" for i in range(50))
COSTLY = f"{{ {ALIASES} }}\n{EVERYTHING}"

# the benchmark's hostile documents, the 50-alias query of 177 million objects, and a NUL
# byte in a variable
HOSTILE: list[tuple[str, dict[str, Any]]] = [
    *((hostile.query, {}) for hostile in HOSTILE_DOCUMENTS),
    (COSTLY, {}),
    (LOOKUP, {"id": "C-\u0000-1"}),
]


@dataclass
class Tally:
    """What one kind of request got: statuses, latencies, failures."""

    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    millis: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass
class Fixture:
    customers: list[str]
    products: list[str]
    invoices: list[tuple[str, str]]  # (id, total)


class Load:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tallies: dict[str, Tally] = defaultdict(Tally)
        self.refs = itertools.count()
        self.health_ms: list[float] = []
        self.hostile = itertools.cycle(HOSTILE)  # shared: the clients send each in turn

    async def gql(self, kind: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        tally = self.tallies[kind]
        started = time.perf_counter()
        try:
            response = await self.client.post(
                "/graphql", json={"query": query, "variables": variables}
            )
        except httpx.TransportError as exc:
            tally.failures.append(f"transport error: {exc!r}")
            return {}
        tally.millis.append((time.perf_counter() - started) * 1000)
        tally.statuses[response.status_code] += 1
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            tally.failures.append(f"{response.status_code}: not JSON: {response.text[:200]}")
            return {}
        errors = body.get("errors") or []
        for error in errors:
            tally.codes[(error.get("extensions") or {}).get("code", "?")] += 1
        for payload in (body.get("data") or {}).values():
            for error in (payload or {}).get("errors", []) if isinstance(payload, dict) else []:
                tally.codes[error["code"]] += 1
        if response.status_code >= 500 or any(
            e.get("message") == "Unexpected error." for e in errors
        ):
            tally.failures.append(f"{response.status_code}: {response.text[:300]}")
        return body

    async def setup(self) -> Fixture:
        body = await self.gql("setup", CUSTOMER_IDS, {})
        customers = [e["node"]["id"] for e in body["data"]["customers"]["edges"]]
        run = random.randrange(10**6)
        products = []
        for i in range(PRODUCTS):
            made = await self.gql("setup", PRODUCT, {"sku": f"LOAD-{run}-{i}"})
            products.append(made["data"]["productCreate"]["product"]["id"])
        invoices = []
        for i in range(INVOICES):
            lines = [{"productId": products[i % PRODUCTS], "quantity": 1}]
            order = await self.gql(
                "setup", ORDER, {"customer": customers[i % len(customers)], "lines": lines}
            )
            order_id = order["data"]["orderCreate"]["order"]["id"]
            made = await self.gql("setup", INVOICE, {"order": order_id})
            invoice = made["data"]["invoiceCreateFromOrder"]["invoice"]
            await self.gql("setup", SEND, {"id": invoice["id"]})
            invoices.append((invoice["id"], invoice["total"]))
        return Fixture(customers, products, invoices)

    def actions(self, fixture: Fixture) -> list[tuple[int, Callable[[], Any]]]:
        """(weight, request) pairs: what a virtual client picks from."""

        def read() -> Any:
            return self.gql("read dashboard", READ, {"n": random.choice([5, 20, 50])})

        def lookup() -> Any:
            number = random.randint(1, 1000)
            return self.gql("read lookup", LOOKUP, {"id": f"BENCH-{number}"})

        def order() -> Any:
            lines = [
                {"productId": random.choice(fixture.products), "quantity": random.randint(1, 3)}
                for _ in range(random.randint(1, 2))
            ]
            customer = random.choice(fixture.customers)
            return self.gql("orderCreate", ORDER, {"customer": customer, "lines": lines})

        def pay() -> Any:
            invoice, _ = random.choice(fixture.invoices)
            amount = random.choice(["1.00", "2.50", "5.00", "12.50"])
            variables = {"id": invoice, "amount": amount, "ref": f"load-{next(self.refs)}"}
            return self.gql("paymentRecord", PAY, variables)

        def adjust() -> Any:
            product = random.choice(fixture.products)
            delta = random.choice([-5, -2, -1, 1, 3])
            return self.gql("stockAdjust", ADJUST, {"id": product, "delta": delta})

        def ticket() -> Any:
            customer = random.choice(fixture.customers)
            subject = f"Load ticket {next(self.refs)}"
            return self.gql("ticketCreate", TICKET, {"customer": customer, "subject": subject})

        def hostile() -> Any:  # each in turn, so even a short run sends every one
            query, variables = next(self.hostile)
            return self.gql("hostile", query, variables)

        return [
            (30, read),
            (15, lookup),
            (15, order),
            (15, pay),
            (10, adjust),
            (5, ticket),
            (10, hostile),
        ]

    async def user(self, fixture: Fixture, until: float) -> None:
        weighted = self.actions(fixture)
        actions = [action for _, action in weighted]
        weights = [weight for weight, _ in weighted]
        while time.monotonic() < until:
            await random.choices(actions, weights)[0]()

    async def probe_health(self, until: float) -> None:
        while time.monotonic() < until:
            started = time.perf_counter()
            response = await self.client.get("/health")
            self.health_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                self.tallies["health"].failures.append(f"/health {response.status_code}")
            await asyncio.sleep(0.1)


INVARIANTS = {
    "invoices paid exactly when their payments reach the total, never beyond": """
        SELECT i.id FROM invoice i LEFT JOIN payment p ON p.invoice_id = i.id GROUP BY i.id
        HAVING coalesce(sum(p.amount), 0) > i.total
            OR (i.status = 'paid') <> (coalesce(sum(p.amount), 0) = i.total AND i.total > 0
                                       AND i.status <> 'void')""",
    "stock never below zero and equal to the sum of its movements": """
        SELECT s.product_id FROM stock_level s
        LEFT JOIN stock_movement m ON m.product_id = s.product_id GROUP BY s.product_id
        HAVING s.quantity < 0 OR s.quantity <> coalesce(sum(m.delta), 0)""",
    "order_count counts each customer's live orders": """
        SELECT c.id FROM customer c
        LEFT JOIN "order" o ON o.customer_id = c.id AND o.status <> 'cancelled'
        GROUP BY c.id HAVING c.order_count <> count(o.id)""",
    "every payment booked one income transaction": """
        SELECT p.id FROM payment p LEFT JOIN financial_transaction t ON t.payment_id = p.id
        WHERE p.reference LIKE 'load-%' GROUP BY p.id HAVING count(t.id) <> 1""",
}


def broken_invariants(dsn: str) -> dict[str, int]:
    broken = {}
    with psycopg.connect(dsn) as conn:
        for name, query in INVARIANTS.items():
            rows = conn.execute(query).fetchall()
            if rows:
                broken[name] = len(rows)
    return broken


def report(load: Load, seconds: float, users: int) -> list[str]:
    """Print the table; return the failures."""
    print(f"\nload run: {users} clients for {seconds:.0f} s, production mode, 1 worker")
    print(f"{'kind':<18}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}  statuses / codes")
    failures: list[str] = []
    total = 0
    for kind, tally in sorted(load.tallies.items()):
        failures += [f"{kind}: {failure}" for failure in tally.failures]
        if kind == "setup" or not tally.millis:
            continue
        count = len(tally.millis)
        total += count
        p50 = statistics.median(tally.millis)
        p95 = statistics.quantiles(tally.millis, n=20)[18] if count > 1 else p50
        statuses = " ".join(f"{s}x{n}" for s, n in sorted(tally.statuses.items()))
        codes = " ".join(f"{c}x{n}" for c, n in tally.codes.most_common(4))
        print(
            f"{kind:<18}{count:>9}{count / seconds:>8.1f}{p50:>9.1f}{p95:>9.1f}  {statuses} {codes}"
        )
    print(f"{'all':<18}{total:>9}{total / seconds:>8.1f}")
    if load.health_ms:
        print(
            f"/health while loaded: {len(load.health_ms)} probes, p50 "
            f"{statistics.median(load.health_ms):.1f} ms, max {max(load.health_ms):.1f} ms"
        )
    return failures


async def run_load(
    url: str, *, seconds: float, users: int, env: dict[str, str] | None = None
) -> list[str]:
    """Run the load against a server over the migrated database ``url`` (SQLAlchemy URL
    text) and return what went wrong: 5xx, unexpected errors, broken invariants."""
    from opsgraph.db import libpq_dsn

    dsn = libpq_dsn(url)
    seed(dsn)
    async with served(url, production=True, env=env) as client:
        load = Load(client)
        fixture = await load.setup()
        until = time.monotonic() + seconds
        started = time.monotonic()
        await asyncio.gather(
            load.probe_health(until), *(load.user(fixture, until) for _ in range(users))
        )
        elapsed = time.monotonic() - started
    failures = report(load, elapsed, users)
    broken = broken_invariants(dsn)
    for name, count in broken.items():
        failures.append(f"invariant broken ({count} rows): {name}")
    print("invariants:", "all hold" if not broken else f"{len(broken)} broken")
    return failures


def main() -> None:
    from bench.run import scratch_database, server_url

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=8)
    args = parser.parse_args()
    with server_url() as server, scratch_database(server) as url:
        failures = asyncio.run(run_load(url, seconds=args.seconds, users=args.users))
    for failure in failures[:20]:
        print("FAIL", failure)
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
