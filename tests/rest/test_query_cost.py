"""Query cost: computed before an operation runs, limited per operation, reported in every
response, and spent from a budget per caller over time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from limits.errors import StorageError
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.dashboard import DASHBOARD
from opsgraph.app import create_app
from opsgraph.auth.budget import caller_key
from opsgraph.auth.principal import Principal
from opsgraph.db.stats import count_statements
from opsgraph.rest.graphql_protocol import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON
from opsgraph.settings import ConfigError, load_settings
from tests.conftest import create_and_sign_in, make_settings
from tests.resolvers.graph_data import make_graph

MODERN = {"Accept": GRAPHQL_RESPONSE_JSON}
LEGACY = {"Accept": APPLICATION_JSON}
LIMIT = 5_000_000  # OPSGRAPH_QUERY_COST_LIMIT's default

# 50 aliases of customers -> orders -> lines -> product, and invoices -> payments
HOSTILE_ALIAS = """c{n}: customers(first: 100) { edges { node { id
  orders(first: 100) { edges { node { id
    lines(first: 100) { edges { node { quantity product { id sku name unitPrice } } } } } } }
  invoices { edges { node { number payments { edges { node { amount } } } } } } } } }"""
HOSTILE = "{ " + "\n".join(HOSTILE_ALIAS.replace("{n}", str(n)) for n in range(50)) + " }"


def connection(size: int, held: int) -> int:
    """A connection of ``size`` rows: itself, and per row an edge and a node, each an object,
    plus ``held``, what each node holds."""
    return 1 + size * (1 + 1 + held)


# by hand: lines hold a product each; invoices and payments come in default pages of 50
HOSTILE_COST = 50 * connection(
    100, connection(100, connection(100, 1)) + connection(50, connection(50, 0))
)
# the benchmark's dashboard: 100 customers -> 100 orders -> 10 invoices -> 10 payments
DASHBOARD_COST = connection(100, connection(100, connection(10, connection(10, 0))))


async def _post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = {"query": query, "variables": variables or {}}
    return await client.post("/graphql", json=body, headers=headers or MODERN)


def _cost(response: httpx.Response) -> dict[str, int]:
    cost: dict[str, int] = response.json()["extensions"]["cost"]
    return cost


def _refusal(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    return body


def test_the_hand_computed_costs() -> None:
    assert HOSTILE_COST == 177_270_050
    assert DASHBOARD_COST == 2_330_301
    assert DASHBOARD_COST < LIMIT < HOSTILE_COST


async def test_a_hostile_query_is_refused_before_any_sql(client: httpx.AsyncClient) -> None:
    with count_statements() as log:
        response = await _post(client, HOSTILE)
    assert log.count == 0
    body = _refusal(response, 400, "QUERY_TOO_COSTLY")
    message = body["errors"][0]["message"]
    assert str(HOSTILE_COST) in message
    assert str(LIMIT) in message
    assert body["extensions"]["cost"] == {"requested": HOSTILE_COST, "limit": LIMIT}
    # the same over GET, and without credentials (refused before the caller is looked up)
    with count_statements() as log:
        by_get = await client.get("/graphql", params={"query": HOSTILE}, headers=MODERN)
        anonymous = await _post(client, HOSTILE, headers={**MODERN, "Authorization": ""})
    assert log.count == 0
    _refusal(by_get, 400, "QUERY_TOO_COSTLY")
    _refusal(anonymous, 400, "QUERY_TOO_COSTLY")
    assert _cost(by_get)["requested"] == _cost(anonymous)["requested"] == HOSTILE_COST
    # a legacy client gets the same error with 200, as for every request error
    legacy = await _post(client, HOSTILE, headers=LEGACY)
    assert legacy.status_code == 200
    assert legacy.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_the_dashboard_runs_and_reports_its_cost(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_graph(session, 3)
    response = await _post(client, DASHBOARD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body
    assert len(body["data"]["customers"]["edges"]) >= 3
    cost = body["extensions"]["cost"]
    assert cost["requested"] == DASHBOARD_COST
    assert cost["limit"] == LIMIT
    assert 0 < cost["remaining"] < 1_000_000_000  # the default budget, spent
    by_get = await client.get("/graphql", params={"query": DASHBOARD}, headers=MODERN)
    assert by_get.status_code == 200
    assert _cost(by_get)["requested"] == DASHBOARD_COST
    assert _cost(by_get)["remaining"] == cost["remaining"] - DASHBOARD_COST


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # the connection, totalCount (computed: 2), pageInfo, and per row an edge and a
        # node with a computed lifetimeValue; scalars are free
        (
            "{ customers(first: 2) { totalCount edges { cursor node { id name lifetimeValue } }"
            " pageInfo { hasNextPage } } }",
            1 + 2 + 2 * (1 + 1 + 2) + 1,
        ),
        # no first/last: the default page size (50); more than the maximum counts 100
        ("{ products { edges { node { sku } } } }", 1 + 50 * 2),
        ("{ products(last: 1000) { edges { node { sku } } } }", 1 + 100 * 2),
        ("{ __typename me { username } }", 1),
        # node(id): its costliest possible type; nodes(ids): per id
        (
            '{ node(id: "x") { id ... on Customer { orders(first: 3) { totalCount } } } }',
            1 + 1 + 2,
        ),
        ('{ nodes(ids: ["a", "b", "c"]) { id } }', 3),
        # a report, and a mutation with its payload (errors: a list of up to 5)
        ('{ dailyKpis(date: "2026-01-01") { revenue } }', 50),
        (
            "mutation { logout { ok errors { code message } } }",
            10 + 5,
        ),
    ],
)
async def test_costs_by_hand(client: httpx.AsyncClient, query: str, expected: int) -> None:
    response = await _post(client, query)
    assert response.status_code in {200, 400}, response.text
    assert _cost(response)["requested"] == expected


FRAGMENTS = """
query Pages($skip: Boolean!, $n: Int) {
  a: customers(first: 3) { ...Rows }
  b: customers(first: $n) @skip(if: $skip) { ...Rows }
  c: customers(first: 3) @include(if: $skip) { edges { node { id } } }
}
fragment Rows on CustomerConnection {
  edges { node { id ...Orders name } }
  edges { node { ...Orders } }
}
fragment Orders on Customer { orders(first: 2) { edges { node { id } } } }
"""


async def test_fragments_aliases_and_directives_count_as_execution_sees_them(
    client: httpx.AsyncClient,
) -> None:
    orders = connection(2, 0)  # 5, once however often the fragment is spread
    rows = connection(3, orders)  # 22
    shown = await _post(client, FRAGMENTS, {"skip": False, "n": 4})
    assert _cost(shown)["requested"] == rows + connection(4, orders)
    skipped = await _post(client, FRAGMENTS, {"skip": True})
    assert _cost(skipped)["requested"] == rows + connection(3, 0)
    # variables apply: no n is the default page size
    defaults = await _post(client, FRAGMENTS, {"skip": False})
    assert _cost(defaults)["requested"] == rows + connection(50, orders)


async def test_every_response_reports_the_cost(anon_client: httpx.AsyncClient) -> None:
    unparsable = await _post(anon_client, "{ customers(")
    assert unparsable.status_code == 400
    assert _cost(unparsable) == {"requested": 0, "limit": LIMIT}
    # refused by the guard: the cost is known, nothing is spent
    refused = await _post(anon_client, "{ customers(first: 1) { totalCount } }")
    _refusal(refused, 401, "UNAUTHENTICATED")
    assert _cost(refused) == {"requested": 1 + 2, "limit": LIMIT}
    public = await _post(anon_client, "{ __typename }")
    assert public.status_code == 200
    assert _cost(public)["remaining"] == 1_000_000_000


# --- budgets -----------------------------------------------------------------------------

ROWS = "{ customers(first: 10) { edges { node { id } } } }"
ROWS_COST = connection(10, 0)  # 21
BUDGET = 50  # two of ROWS per window, not three


@pytest.fixture
async def budgeted(
    database_url: URL, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a budget of 50 per 2 seconds per caller."""
    settings = make_settings(
        database_url, query_cost_limit=BUDGET, cost_budget=BUDGET, cost_budget_window_seconds=2
    )
    app = create_app(settings, session_factory=session_factory)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_a_caller_over_its_budget_gets_429_until_it_recovers(
    budgeted: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    first = await create_and_sign_in(budgeted, session_factory, "spender", ["admin"])
    second = await create_and_sign_in(budgeted, session_factory, "bystander", ["admin"])
    # refused by the limit: nothing spent
    costly = await _post(
        budgeted, "{ customers(first: 30) { edges { node { id } } } }", None, {**MODERN, **first}
    )
    _refusal(costly, 400, "QUERY_TOO_COSTLY")
    spent = [await _post(budgeted, ROWS, None, {**MODERN, **first}) for _ in range(2)]
    assert [r.status_code for r in spent] == [200, 200]
    assert _cost(spent[0]) == {"requested": ROWS_COST, "limit": BUDGET, "remaining": 29}
    over = await _post(budgeted, ROWS, None, {**MODERN, **first})
    body = _refusal(over, 429, "BUDGET_EXCEEDED")
    retry_after = int(over.headers["retry-after"])
    assert 1 <= retry_after <= 4  # at most two windows of two seconds
    assert body["errors"][0]["extensions"]["retryAfter"] == retry_after
    assert f"costs {ROWS_COST}" in body["errors"][0]["message"]
    assert body["extensions"]["cost"]["remaining"] < ROWS_COST
    # legacy clients get the 429 too: it is about the exchange, not the document
    legacy = await _post(budgeted, ROWS, None, {**LEGACY, **first})
    assert legacy.status_code == 429
    assert legacy.headers["retry-after"]
    # another caller has a budget of its own
    other = await _post(budgeted, ROWS, None, {**MODERN, **second})
    assert other.status_code == 200
    assert _cost(other)["remaining"] == BUDGET - ROWS_COST
    await asyncio.sleep(retry_after)
    recovered = await _post(budgeted, ROWS, None, {**MODERN, **first})
    assert recovered.status_code == 200, recovered.text
    assert recovered.json()["data"]["customers"]["edges"] is not None


def test_callers_are_api_keys_users_or_addresses() -> None:
    user = Principal(user_id=7, username="u", permissions=frozenset())
    key = Principal(user_id=7, username="u", permissions=frozenset(), api_key_id=3)
    assert caller_key(user, "127.0.0.1") == "user:7"
    assert caller_key(key, "127.0.0.1") == "api-key:3"
    assert caller_key(None, "127.0.0.2") == "address:127.0.0.2"


def test_a_budget_must_hold_an_operation() -> None:
    smaller = r"OPSGRAPH_COST_BUDGET \(99\) is smaller than OPSGRAPH_QUERY_COST_LIMIT \(100\)"
    with pytest.raises(ConfigError, match=smaller):
        load_settings(query_cost_limit=100, cost_budget=99)
    assert load_settings(query_cost_limit=100, cost_budget=0).cost_budget == 0


def test_an_unknown_budget_store_stops_the_start() -> None:
    settings = make_settings(cost_budget_storage_url="carrier-pigeon://bird:s3cret@127.0.0.1")
    with pytest.raises(ConfigError, match="OPSGRAPH_COST_BUDGET_STORAGE_URL") as raised:
        create_app(settings)
    assert "carrier-pigeon://" in str(raised.value)
    assert "s3cret" not in str(raised.value)


async def test_a_failing_budget_store_lets_operations_through(
    database_url: URL,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = create_app(make_settings(database_url), session_factory=session_factory)

    async def unreachable(*args: object, **kwargs: object) -> bool:
        raise StorageError(ConnectionError("store unreachable"))

    monkeypatch.setattr(app.state.cost_budget.limiter, "hit", unreachable)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await _post(http, "{ __typename }")
    assert response.status_code == 200
    assert _cost(response) == {"requested": 0, "limit": LIMIT}  # nothing known to be left
    assert "cost budget store failed" in capsys.readouterr().err
