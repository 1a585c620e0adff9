"""Customer-portal scoping: a portal user never receives another customer's data, by any
path the schema offers.

Every read path of depth <= 4 that reaches Customer, Order, Invoice, Payment, Ticket or
Property is generated from the schema (``tests/auth/paths.py``), with lookups and
``node``/``nodes`` tried on ids of the portal's own rows and of other customers' rows.
(The database itself refuses cross-customer links - an invoice for another customer's
order, say - with composite foreign keys; the scoping does not rely on that: every
statement on a customer-owned table carries its own condition.) The answer is checked
against sets of ids computed here with plain SQL, independently of the mapping: every
id of a customer-owned type must be the portal customer's, and no count may exceed what
the customer owns.

The matrix runs for three portal principals: a user of the built-in ``customer`` role
linked to the customer, an API key made by a linked user who also holds a staff role
(the key inherits its creator's scope), and a portal user linked to no customer, who must
see no customer-owned row at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.api import schema
from opsgraph.auth.permissions import BUILTIN_ROLES, PORTAL_SCOPED
from opsgraph.graph.ids import decode_global_id, to_global_id
from opsgraph.seed import seed_demo
from tests.auth.paths import Hop, Path, generate_paths, render
from tests.conftest import GraphQLClient, create_and_sign_in

REACHED = {"Customer", "Order", "Invoice", "Payment", "Ticket", "Property"}
BATCH = 40  # paths per document (the alias limit is 50)

# the rows of each customer-owned type that belong to customer :c (plain SQL, on purpose
# not the mapping's own declaration)
OWNED_SQL = {
    "Customer": "SELECT id FROM customer WHERE id = :c",
    "Property": "SELECT id FROM property WHERE customer_id = :c",
    "Order": 'SELECT id FROM "order" WHERE customer_id = :c',
    "Invoice": "SELECT id FROM invoice WHERE customer_id = :c",
    "Ticket": "SELECT id FROM ticket WHERE customer_id = :c",
    "PurchaseOrder": "SELECT id FROM purchase_order WHERE customer_id = :c",
    "Payment": "SELECT p.id FROM payment p JOIN invoice i ON i.id = p.invoice_id"
    " WHERE i.customer_id = :c",
    "OrderLine": 'SELECT l.id FROM order_line l JOIN "order" o ON o.id = l.order_id'
    " WHERE o.customer_id = :c",
    "TimeEntry": "SELECT e.id FROM time_entry e JOIN ticket t ON t.id = e.ticket_id"
    " WHERE t.customer_id = :c",
    "StockMovement": "SELECT id FROM stock_movement WHERE false",
    "FinancialTransaction": "SELECT id FROM financial_transaction WHERE false",
    "AuditEvent": "SELECT id FROM audit_event WHERE false",
    "User": 'SELECT id FROM "user" WHERE customer_id = :c',
}
TABLES = {
    "Customer": "customer",
    "Property": "property",
    "Order": '"order"',
    "Invoice": "invoice",
    "Ticket": "ticket",
    "PurchaseOrder": "purchase_order",
    "Payment": "payment",
    "OrderLine": "order_line",
    "TimeEntry": "time_entry",
    "StockMovement": "stock_movement",
    "FinancialTransaction": "financial_transaction",
    "AuditEvent": "audit_event",
    "User": '"user"',
    "Product": "product",
    "Role": "role",
    "StockLevel": "stock_level",
}
KEYS = {"StockLevel": "product_id"}


class World:
    """The demo data, the portal customer, and what it owns."""

    def __init__(self, customer_id: int) -> None:
        self.customer_id = customer_id
        self.owned: dict[str, set[str]] = {}
        self.samples: dict[str, list[str]] = {}  # ids to try as arguments: own, then others'
        self.seen: dict[str, int] = {}

    def unlinked(self, own_user: str) -> None:
        """Expect what a portal user linked to no customer sees: no customer-owned row,
        only its own user."""
        self.owned = {type_name: set() for type_name in self.owned}
        self.owned["User"] = {own_user}

    def ids_of(self, type_name: str) -> list[str]:
        return self.samples.get(type_name, [])

    def check(self, value: Any, hops: tuple[Hop, ...], where: str) -> None:
        """Walk one path's answer: every row must be visible to the portal user."""
        if value is None or not hops:
            return
        hop, rest = hops[0], hops[1:]
        if hop.connection:
            owned = self.owned.get(hop.target)
            if owned is not None:
                assert value["totalCount"] <= len(owned), (where, "count", value["totalCount"])
            for edge in value["edges"]:
                self.row(edge["node"], hop.target, rest, where)
        elif isinstance(value, list):  # nodes(ids:)
            for item in value:
                self.row(item, hop.target, rest, where)
        elif hop.target in TABLES:
            self.row(value, hop.target, rest, where)
        else:  # a wrapper object (a report)
            self.check(value[rest[0].field], rest, where)

    def row(self, value: Any, type_name: str, rest: tuple[Hop, ...], where: str) -> None:
        if value is None:
            return
        if not value:  # an inline fragment on another type than the row's
            return
        seen_type, _ = decode_global_id(value["id"])
        assert seen_type == type_name, where
        owned = self.owned.get(type_name)
        if owned is not None:
            assert value["id"] in owned, (where, "another customer's row", value["id"])
        self.seen[type_name] = self.seen.get(type_name, 0) + 1
        if rest:
            self.check(value.get(rest[0].field), rest, where)


@pytest.fixture
async def world(session: AsyncSession) -> World:
    await seed_demo(session, password_rounds=4)
    busiest = await session.scalar(
        text(
            "SELECT c.id FROM customer c ORDER BY (SELECT count(*) FROM invoice i"
            " WHERE i.customer_id = c.id) + (SELECT count(*) FROM ticket t"
            " WHERE t.customer_id = c.id) DESC, c.id LIMIT 1"
        )
    )
    assert busiest is not None
    world = World(busiest)
    mine = {"c": busiest}
    for type_name, query in OWNED_SQL.items():
        rows = (await session.execute(text(query), mine)).scalars().all()
        world.owned[type_name] = {to_global_id(type_name, pk) for pk in rows}
    for type_name, table in TABLES.items():
        key = KEYS.get(type_name, "id")
        owned_sql = OWNED_SQL.get(type_name)
        own = (
            await session.scalar(text(f"SELECT min(id) FROM ({owned_sql}) o"), mine)
            if owned_sql
            else None
        )
        other_sql = f"SELECT max({key}) FROM {table}"
        if owned_sql:
            other_sql += f" WHERE {key} NOT IN ({owned_sql})"
        other = await session.scalar(text(other_sql), mine)
        world.samples[type_name] = [
            to_global_id(type_name, pk) for pk in (own, other) if pk is not None
        ]
    for type_name in REACHED:
        assert world.owned[type_name], f"the portal customer needs {type_name} rows"
        assert len(world.samples[type_name]) == 2, type_name
    return world


def _batches(paths: list[Path]) -> Iterator[list[Path]]:
    """Paths in documents of ``BATCH``; a report that may fail (NOT_FOUND on a non-null
    root) goes alone, so that no sibling is cancelled mid-statement on the test's one
    shared connection."""
    alone = [path for path in paths if path.hops[0].target not in TABLES]
    together = [path for path in paths if path.hops[0].target in TABLES]
    for path in alone:
        yield [path]
    for start in range(0, len(together), BATCH):
        yield together[start : start + BATCH]


async def _run(portal: GraphQLClient, world: World, paths: list[Path], outcomes: dict[str, int]):
    """Run paths in one document; a document refused or failed as a whole is split until
    each path's own outcome shows."""
    response = await portal.http.post("/graphql", json={"query": render(paths)})
    body = response.json()
    assert response.status_code in (200, 403), body
    codes = {error["extensions"]["code"] for error in body.get("errors", [])}
    assert codes <= {"FORBIDDEN", "NOT_FOUND"}, body["errors"]  # never masked, never 500
    if response.status_code == 403 or body.get("data") is None:
        assert "data" not in body or body["data"] is None
        if len(paths) > 1:
            middle = len(paths) // 2
            await _run(portal, world, paths[:middle], outcomes)
            await _run(portal, world, paths[middle:], outcomes)
        else:
            outcomes["refused" if response.status_code == 403 else "error"] += 1
        return
    for n, path in enumerate(paths):
        world.check(body["data"][f"p{n}"], path.hops, str(path))
        outcomes["answered"] += 1


async def _own_user(session_factory: async_sessionmaker[AsyncSession], username: str) -> str:
    async with session_factory() as session:
        found = text('SELECT id FROM "user" WHERE username = :u')
        pk = await session.scalar(found, {"u": username})
    return to_global_id("User", pk)


async def _api_key_of(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    """The headers of a new API key of the signed-in user, scoped to what a portal user
    reads."""
    scopes = sorted(p for p in BUILTIN_ROLES["customer"][1] if p.endswith(":read"))
    response = await http.post(
        "/graphql",
        json={
            "query": 'mutation($s: [String!]!) { apiKeyCreate(input: {name: "portal",'
            " scopes: $s}) { secret errors { code } } }",
            "variables": {"s": scopes},
        },
        headers=headers,
    )
    made = response.json()["data"]["apiKeyCreate"]
    assert made["errors"] == [], made
    return {"Authorization": f"Bearer {made['secret']}"}


async def _portal_headers(
    who: str,
    world: World,
    http: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> dict[str, str]:
    """Sign in the portal principal ``who`` and set up what it may see in ``world``."""
    if who == "unlinked":
        headers = await create_and_sign_in(http, session_factory, "portal", ["customer"])
        world.unlinked(await _own_user(session_factory, "portal"))
        return headers
    # the API key's creator also holds a staff role (integration): it stays scoped
    roles = ["customer"] if who == "linked" else ["customer", "integration"]
    headers = await create_and_sign_in(
        http, session_factory, "portal", roles, customer_id=world.customer_id
    )
    async with session_factory() as session:
        world.owned["User"] = {
            to_global_id("User", pk)
            for pk in (
                await session.execute(text(OWNED_SQL["User"]), {"c": world.customer_id})
            ).scalars()
        }
    return headers if who == "linked" else await _api_key_of(http, headers)


def _sample(paths: list[Path]) -> list[Path]:
    """Every path of up to three hops and every tenth longer one: about a third of the
    matrix, one path of each root field and relation at every depth that matters, so
    the variants of a principal run in a third of the time of the whole."""
    return [path for n, path in enumerate(paths) if len(path.hops) <= 3 or n % 10 == 0]


# The linked user runs the whole matrix in interleaved shards (each holds paths of every
# root field and depth), so that parallel test workers share it; the other principals run
# a sample in one piece.
SHARDS = 4
PRINCIPALS = [("linked", shard) for shard in range(SHARDS)] + [("api_key", 0), ("unlinked", 0)]


# hundreds of documents, each through the whole guard walk: measured without coverage's
# tracer, which would make it several times slower and adds nothing the other tests of the
# guard and the loaders don't already cover
@pytest.mark.no_cover
@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("who", "shard"), PRINCIPALS, ids=[f"{who}-{shard}" for who, shard in PRINCIPALS]
)
async def test_portal_principal_sees_only_its_customer_on_every_path(
    who: str,
    shard: int,
    world: World,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    headers = await _portal_headers(who, world, anon_client, session_factory)
    portal = GraphQLClient(
        httpx.AsyncClient(
            transport=anon_client._transport, base_url="http://testserver", headers=headers
        )
    )
    paths = [
        path for path in generate_paths(schema._schema, world.ids_of) if REACHED & set(path.types)
    ]
    assert len(paths) > 1_000
    paths = paths[shard::SHARDS] if who == "linked" else _sample(paths)
    outcomes = {"answered": 0, "refused": 0, "error": 0}
    async with portal.http:
        for batch in _batches(paths):
            await _run(portal, world, batch, outcomes)
    assert sum(outcomes.values()) == len(paths)
    # not vacuous: most paths answer, with the customer's own rows of every kind (and,
    # linked to no customer, with none of them)
    assert outcomes["answered"] > len(paths) // 2, outcomes
    for type_name in REACHED:
        seen = world.seen.get(type_name, 0)
        assert (seen == 0) if who == "unlinked" else (seen > 0), (type_name, world.seen)


async def test_portal_root_counts_and_reports_are_scoped(
    world: World,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    headers = await create_and_sign_in(
        anon_client, session_factory, "portal2", ["customer"], customer_id=world.customer_id
    )
    portal = GraphQLClient(anon_client)
    body = await portal(
        "{ customers { totalCount } orders { totalCount } invoices { totalCount }"
        " payments { totalCount } tickets { totalCount } properties { totalCount } }",
        **headers,
    )
    counts = {name: value["totalCount"] for name, value in body["data"].items()}
    assert counts == {
        "customers": 1,
        "orders": len(world.owned["Order"]),
        "invoices": len(world.owned["Invoice"]),
        "payments": len(world.owned["Payment"]),
        "tickets": len(world.owned["Ticket"]),
        "properties": len(world.owned["Property"]),
    }
    own, other = world.samples["Customer"]
    statement = """query($c: ID!) { customerStatement(customerId: $c, from: "2000-01-01",
      to: "2100-01-01") { totalInvoiced invoiceCount } }"""
    mine = await portal(statement, {"c": own}, **headers)
    expected = (
        await session.execute(
            text(
                "SELECT coalesce(sum(total), 0), count(*) FROM invoice"
                " WHERE customer_id = :c AND status <> 'void'"
            ),
            {"c": world.customer_id},
        )
    ).one()
    assert mine["data"]["customerStatement"]["invoiceCount"] == expected[1]
    theirs = await portal(statement, {"c": other}, **headers)
    assert theirs["data"] is None
    assert theirs["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # a day's figures count the customer's own orders and payments only
    day = await session.scalar(
        text('SELECT placed_at::date FROM "order" WHERE customer_id = :c LIMIT 1'),
        {"c": world.customer_id},
    )
    assert isinstance(day, dt.date)
    own_orders = await session.scalar(
        text(
            "SELECT count(*) FROM \"order\" WHERE customer_id = :c AND status <> 'cancelled'"
            " AND (placed_at AT TIME ZONE 'UTC')::date = :d"
        ),
        {"c": world.customer_id, "d": day},
    )
    kpis = await portal(
        "query($d: Date!) { dailyKpis(date: $d) { ordersPlaced } }", {"d": str(day)}, **headers
    )
    assert kpis["data"]["dailyKpis"]["ordersPlaced"] == own_orders


async def test_unlinked_portal_user_counts_nothing_and_opens_no_ticket(
    world: World,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    headers = await create_and_sign_in(anon_client, session_factory, "loose", ["customer"])
    portal = GraphQLClient(anon_client)
    body = await portal(
        "{ customers { totalCount } orders { totalCount } invoices { totalCount }"
        " payments { totalCount } tickets { totalCount } properties { totalCount }"
        " purchaseOrders { totalCount } }",
        **headers,
    )
    assert {name: value["totalCount"] for name, value in body["data"].items()} == {
        "customers": 0,
        "orders": 0,
        "invoices": 0,
        "payments": 0,
        "tickets": 0,
        "properties": 0,
        "purchaseOrders": 0,
    }
    for customer in world.samples["Customer"]:
        statement = await portal(
            """query($c: ID!) { customerStatement(customerId: $c, from: "2000-01-01",
              to: "2100-01-01") { invoiceCount } }""",
            {"c": customer},
            **headers,
        )
        assert statement["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        opened = await portal(
            """mutation($c: ID!) { ticketCreate(input: {customerId: $c, subject: "help"}) {
              ticket { id } errors { code field } } }""",
            {"c": customer},
            **headers,
        )
        payload = opened["data"]["ticketCreate"]
        assert payload["ticket"] is None
        assert payload["errors"] == [{"code": "NOT_FOUND", "field": ["customerId"]}]
    async with session_factory() as session:
        day = await session.scalar(text('SELECT max(placed_at)::date FROM "order"'))
    kpis = await portal(
        "query($d: Date!) { dailyKpis(date: $d) { ordersPlaced ticketsOpened } }",
        {"d": str(day)},
        **headers,
    )
    assert kpis["data"]["dailyKpis"] == {"ordersPlaced": 0, "ticketsOpened": 0}


def test_the_customer_role_is_portal_scoped_and_admin_is_not() -> None:
    assert PORTAL_SCOPED in BUILTIN_ROLES["customer"][1]
    assert all(
        PORTAL_SCOPED not in permissions
        for name, (_, permissions) in BUILTIN_ROLES.items()
        if name != "customer"
    )


async def test_a_portal_user_with_staff_roles_writes_no_staff_data(
    world: World,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    # integration grants order, invoice, payment and customer writes: portal:scoped wins
    headers = await create_and_sign_in(
        anon_client,
        session_factory,
        "mixed",
        ["customer", "integration"],
        customer_id=world.customer_id,
    )
    portal = GraphQLClient(anon_client)
    own_customer = world.samples["Customer"][0]
    own_invoice = world.samples["Invoice"][0]
    product = world.samples["Product"][0]
    attempts = [
        (
            """mutation($c: ID!, $p: ID!) { orderCreate(input: {customerId: $c,
              lines: [{productId: $p, quantity: 1}]}) { order { id } errors { code } } }""",
            {"c": own_customer, "p": product},
        ),
        (
            """mutation($i: ID!) { paymentRecord(input: {invoiceId: $i, amount: "1",
              method: CARD, reference: "r1"}) { payment { id } errors { code } } }""",
            {"i": own_invoice},
        ),
        (
            """mutation { customerCreate(input: {name: "New AB"}) {
              customer { id } errors { code } } }""",
            {},
        ),
    ]
    for query, variables in attempts:
        body = await portal(query, variables, **headers)
        assert body["data"] is None, body
        assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
    # and it reads its own customer only, like any portal user
    counts = await portal("{ customers { totalCount } }", **headers)
    assert counts["data"]["customers"]["totalCount"] == 1
