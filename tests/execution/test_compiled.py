"""The compiled read path answers exactly as the resolvers do.

Every query runs twice on the demo data: through an app with compiled reads (the default)
and through one that runs every query on the resolvers. The two HTTP responses must be
equal byte for byte, and a query that ran without errors must have run compiled (so a
silent fall-back cannot hide a bug in the compiled path).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.extensions import FieldExtension

from opsgraph.api import schema
from opsgraph.app import create_app
from opsgraph.graph.ids import to_global_id
from opsgraph.seed import seed_demo
from tests.conftest import make_settings
from tests.execution.query_gen import generated_queries
from tests.resolvers.graph_data import make_graph

DIAGNOSTICS = {"X-Opsgraph-Statements": "1"}


class Both:
    """Runs a query on the compiled app and on the resolver app."""

    def __init__(self, compiled: httpx.AsyncClient, resolvers: httpx.AsyncClient) -> None:
        self.compiled = compiled
        self.resolvers = resolvers

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        payload = {"query": query, "variables": variables or {}}
        ours = await self.compiled.post("/graphql", json=payload)
        theirs = await self.resolvers.post("/graphql", json=payload)
        assert ours.status_code == theirs.status_code, (query, ours.text, theirs.text)
        assert ours.content == theirs.content, query
        return ours.json()

    async def read_path(self, query: str, variables: dict[str, Any] | None = None) -> str:
        payload = {"query": query, "variables": variables or {}}
        response = await self.compiled.post("/graphql", json=payload, headers=DIAGNOSTICS)
        path: str = response.json()["extensions"]["readPath"]
        return path


@pytest.fixture
async def both(
    session_factory: async_sessionmaker[AsyncSession],
    database_url: Any,
    client: httpx.AsyncClient,
) -> AsyncIterator[Both]:
    # no budgets: each app would count its own, and report what is left in the response
    compiled = make_settings(database_url, cost_budget=0)
    plain = make_settings(database_url, compiled_reads=False, cost_budget=0)
    apps = [
        create_app(compiled, session_factory=session_factory),
        create_app(plain, session_factory=session_factory),
    ]
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers=client.headers,  # an admin's access token
        )
        for app in apps
    ]
    try:
        yield Both(*clients)
    finally:
        for client in clients:
            await client.aclose()


@pytest.fixture
async def demo(session: AsyncSession) -> None:
    await seed_demo(session, password_rounds=4)


GENERATED = generated_queries(120)


def _objects(value: Any) -> int:
    """How many objects a response holds (so the comparison is not of empty pages)."""
    if isinstance(value, dict):
        return 1 + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


async def test_generated_queries_match_the_resolvers(both: Both, demo: None) -> None:
    objects = 0
    for query, variables in GENERATED:
        body = await both(query, variables)
        assert "errors" not in body, (query, body)
        assert await both.read_path(query, variables) == "compiled", query
        objects += _objects(body["data"])
    assert objects > 5_000


DASHBOARD = """{ customers(first: 100) { edges { node { id name
  orders(first: 100) { edges { node { id total status
    invoices(first: 10) { edges { node { number total amountPaid balanceDue isOverdue
      payments(first: 10) { edges { node { amount paidAt } } } } } } } } } } } } }"""


async def test_dashboard_is_compiled_with_the_same_statements(
    both: Both, session: AsyncSession
) -> None:
    await make_graph(session, 30)
    body = await both(DASHBOARD)
    assert len(body["data"]["customers"]["edges"]) == 30
    payload = {"query": DASHBOARD}
    runs = [
        (await client.post("/graphql", json=payload, headers=DIAGNOSTICS)).json()["extensions"]
        for client in (both.compiled, both.resolvers)
    ]
    assert [run["readPath"] for run in runs] == ["compiled", "resolvers"]
    # the caller (token's user, session and permissions), customers, orders, invoices,
    # amountPaid (shared by three fields), payments (each inside a savepoint of the
    # test's transaction: three statements apiece)
    assert [run["sqlStatements"] for run in runs] == [6 * 3, 6 * 3]


async def test_cursor_pages_match_the_resolvers(both: Both, session: AsyncSession) -> None:
    [customer] = await make_graph(session, 1)
    query = """query($id: ID!, $after: String, $before: String, $first: Int, $last: Int) {
      customer(id: $id) { orders(first: $first, after: $after, last: $last, before: $before,
                                 orderBy: {field: TOTAL, direction: DESC}) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id total } } } } }"""
    variables: dict[str, Any] = {"id": to_global_id("Customer", customer), "first": 1}
    seen = 0
    while True:
        body = await both(query, variables)
        page = body["data"]["customer"]["orders"]
        seen += len(page["edges"])
        assert await both.read_path(query, variables) == "compiled"
        if not page["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = page["pageInfo"]["endCursor"]
    assert seen == 2  # make_graph gives the first customer two orders
    backwards = {"id": variables["id"], "last": 1, "before": variables["after"]}
    body = await both(query, backwards)
    assert body["data"]["customer"]["orders"]["pageInfo"]["hasNextPage"] is True


BAD_QUERIES = [
    "{ customers(first: 101) { edges { node { id } } } }",
    "{ customers(first: 2, last: 2) { edges { node { id } } } }",
    '{ customers(after: "not-a-cursor") { edges { node { id } } } }',
    '{ customers { edges { node { orders(first: 2, before: "eHl6") { totalCount } } } } }',
    '{ customers(filter: {createdFrom: "2026-02-01T00:00:00Z",'
    ' createdTo: "2026-01-01T00:00:00Z"}) { totalCount } }',
    '{ customer(id: "bm9wZQ", externalId: "C-100") { name } }',
    "{ customer { name } }",
    '{ customer(id: "garbage!") { name } }',
    f'{{ customer(id: "{to_global_id("Order", 1)}") {{ name }} }}',
    "{ invoices(filter: {status: []}) { totalCount } }",
    '{ orders(filter: {customerId: "x"}) { totalCount } }',
    "{ customers(first: -1) { totalCount } }",
    "{ customers { edges { node { orders(last: 500) { totalCount } } } } }",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
async def test_errors_are_the_resolvers_errors(both: Both, demo: None, query: str) -> None:
    body = await both(query)
    assert body["errors"], body
    assert await both.read_path(query) == "resolvers"


async def test_not_compiled_queries_run_on_the_resolvers(both: Both, demo: None) -> None:
    customer = to_global_id("Customer", 1)
    for query in [
        "{ __schema { queryType { name } } }",
        f'{{ node(id: "{customer}") {{ id ... on Customer {{ name }} }} }}',
        '{ dailyKpis(date: "2026-01-01") { ordersPlaced } }',
        '{ customers(first: 1) { edges { node { name } } } __type(name: "Customer") { name } }',
    ]:
        body = await both(query)
        assert "errors" not in body, body
        assert await both.read_path(query) == "resolvers"


async def test_lookup_misses_and_typename(both: Both, demo: None) -> None:
    query = """{ __typename a: customer(externalId: "nope") { name }
      b: customer(externalId: "C-100") { __typename name orderCount } }"""
    body = await both(query)
    assert body["data"]["a"] is None
    assert body["data"]["b"]["name"] == "Maskad Kund AB"
    assert await both.read_path(query) == "compiled"


async def test_a_field_with_an_extension_is_never_compiled(
    both: Both, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Field extensions (a permission check, say) run only on the resolvers: a query that
    selects such a field must not be compiled, or the check would be skipped."""
    customer_type = schema._schema.type_map["Customer"]
    field = customer_type.fields["email"].extensions["strawberry-definition"]
    query = '{ customer(externalId: "C-100") { name email } }'
    assert await both.read_path(query) == "compiled"
    monkeypatch.setattr(field, "extensions", [FieldExtension()])
    assert await both.read_path(query) == "resolvers"
    assert await both.read_path('{ customer(externalId: "C-100") { name } }') == "compiled"
