"""Hostile GraphQL documents are refused before any expensive work, and never stall others.

Each document of ``bench.hostile.HOSTILE`` is sent over POST and GET by a client without
credentials while ``/health`` is asked again and again and a ticker task measures how late
the event loop wakes it. Each must be a request error naming its limit, with no SQL run,
answered quickly, with ``/health`` answered quickly meanwhile. The time bounds are
generous (other processes share the machine); the figures measured here are far lower
(see ``make bench``).
"""

from __future__ import annotations

import asyncio
import gc
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from graphql import GraphQLError, get_introspection_query, parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.dashboard import DASHBOARD
from bench.hostile import ACCEPT, HOSTILE, Hostile, fragment_bomb, timed_with_health
from opsgraph.app import create_app
from opsgraph.db.stats import count_statements
from opsgraph.schema.documents import documents
from opsgraph.schema.limits import DocumentLimits, check_document, parse_limited
from opsgraph.settings import Settings
from tests.conftest import make_settings

MAX_SECONDS = 1.0  # generous: the refusals take a few milliseconds on an idle machine
MAX_LAG_SECONDS = 0.5


@asynccontextmanager
async def loop_lag() -> AsyncIterator[list[float]]:
    """How late a task sleeping 1 ms at a time wakes up, while the block runs.

    What is loaded so far is kept out of the garbage collector's passes meanwhile, as the
    server does from start-up on (``create_app``'s lifespan, which the ASGI transport does
    not run): a full pass over the test process's objects would be measured otherwise.
    """
    gc.collect()
    gc.freeze()
    lags = [0.0]
    running = True

    async def tick() -> None:
        while running:
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - started - 0.001)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    try:
        yield lags
    finally:
        running = False
        await ticker
        gc.unfreeze()


def _limit_of(code: str, limits: DocumentLimits) -> int:
    return {
        "DOCUMENT_TOO_LONG": limits.length,
        "TOO_MANY_TOKENS": limits.tokens,
        "QUERY_TOO_DEEP": limits.depth,
        "TOO_MANY_FIELDS": limits.fields,
        "TOO_MANY_ALIASES": limits.aliases,
        "TOO_MANY_DIRECTIVES": limits.directives,
        "TOO_MANY_DUPLICATE_FIELDS": limits.duplicates,
    }[code]


MAX_URL = 60_000  # httpx's limit is 64 KiB; servers' request-line limits are lower still
SENDS = [
    pytest.param(hostile, method, id=f"{hostile.name}-{method}")
    for hostile in HOSTILE
    for method in ("POST", "GET")
    if method == "POST" or len(hostile.query) < MAX_URL
]


@pytest.mark.parametrize(("hostile", "method"), SENDS)
async def test_hostile_document_is_refused_with_its_limit(
    anon_client: httpx.AsyncClient, hostile: Hostile, method: str
) -> None:
    async with loop_lag() as lags:
        with count_statements() as statements:
            timed = await timed_with_health(anon_client, hostile.query, get=method == "GET")
    response = timed.response
    assert response.status_code == 400, response.text[:500]
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == hostile.code
    limit = _limit_of(hostile.code, DocumentLimits())
    assert f"limit of {limit}" in error["message"] or f"depth of {limit}" in error["message"]
    if hostile.code != "TOO_MANY_TOKENS":  # parsing stops at the limit: no count beyond
        measured = [int(n) for n in re.findall(r"\d+", error["message"])]
        assert any(n > limit for n in measured), error["message"]
    assert statements.count == 0
    assert timed.seconds < MAX_SECONDS, f"{timed.seconds:.3f} s"
    assert timed.health_seconds < MAX_SECONDS, f"/health took {timed.health_seconds:.3f} s"
    assert max(lags) < MAX_LAG_SECONDS, f"the event loop stalled {max(lags):.3f} s"


def test_measured_values_are_exact_without_expanding() -> None:
    limits = DocumentLimits(fields=10**12, aliases=10**12)
    bomb = check_document(parse(fragment_bomb(30)), limits)
    assert (bomb.fields, bomb.aliases, bomb.depth) == (2**30, 2**30, 0)
    with pytest.raises(GraphQLError) as refused:
        check_document(parse(fragment_bomb(30)), DocumentLimits())
    assert refused.value.message == (
        "The document selects 1073741824 fields with its fragments expanded, more than the "
        "limit of 2000."
    )
    assert refused.value.extensions == {"code": "TOO_MANY_FIELDS"}


def test_depth_aliases_and_directives_count_through_fragments() -> None:
    document = parse(
        """query Q { customers { edges { ...Row ...Row } } a: __typename }
        fragment Row on CustomerEdge { node @include(if: true) { ... on Customer {
          orders { edges { node { id n: number } } } } } }"""
    )
    size = check_document(document, DocumentLimits())
    # customers > edges > node > orders > edges > node, inline fragments add no level
    assert size.depth == 6
    assert size.aliases == 1 + 2  # `a`, and `n` once per spread of Row
    assert size.directives == 2
    assert size.fields == 3 + 2 * 6  # customers, edges, a; node, orders, edges, node, id, n


def test_introspection_fields_do_not_count_towards_depth() -> None:
    size = check_document(parse(get_introspection_query()), DocumentLimits())
    assert size.depth == 0
    assert size.fields > 100


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            "Cannot spread fragment 'A' within itself via 'B'.",
        ),
        (
            "{ __typename } fragment A on Query { __typename }",
            "Fragment 'A' is never used.",
        ),
        (
            "{ ...A } fragment A on Query { __typename } fragment A on Query { "
            + "__typename " * 4000
            + "}",
            "There can be only one fragment named 'A'.",
        ),
    ],
)
async def test_fragment_cycles_unused_and_repeated_fragments_are_request_errors(
    anon_client: httpx.AsyncClient, query: str, message: str
) -> None:
    with count_statements() as statements:
        response = await anon_client.post("/graphql", json={"query": query}, headers=ACCEPT)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [error["message"] for error in body["errors"]] == [message]
    assert statements.count == 0


def test_token_limit_counts_comments() -> None:
    with pytest.raises(GraphQLError) as refused:
        parse_limited("{ __typename }" + "\n#" * 200, DocumentLimits(tokens=100))
    assert refused.value.extensions == {"code": "TOO_MANY_TOKENS"}


async def test_dashboard_query_passes(client: httpx.AsyncClient) -> None:
    with count_statements() as statements:
        response = await client.post("/graphql", json={"query": DASHBOARD}, headers=ACCEPT)
    assert statements.count > 0  # the count sees the app's statements, so 0 above means none
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    assert "edges" in response.json()["data"]["customers"]


FRAGMENTS = """
query Overview($n: Int) {
  customers(first: $n) { edges { node { ...Person orders(first: 2) { ...Orders } } } }
  again: customers(first: $n) { edges { node { ...Person } } }
}
fragment Person on Customer { id name ... on Customer { email } }
fragment Orders on OrderConnection { totalCount edges { node { id status } } }
"""


async def test_a_query_using_fragments_passes_and_is_cached(client: httpx.AsyncClient) -> None:
    body: dict[str, Any] = {"query": FRAGMENTS, "variables": {"n": 2}}
    first = await client.post("/graphql", json=body, headers=ACCEPT)
    assert first.status_code == 200, first.text
    assert "errors" not in first.json()
    assert documents.get((FRAGMENTS, DocumentLimits())) is not None
    again = await client.post("/graphql", json=body, headers=ACCEPT)
    assert again.json()["data"] == first.json()["data"]


async def test_limits_come_from_the_settings(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert DocumentLimits.of(settings) == DocumentLimits()  # the same defaults
    strict = make_settings(settings.database_url, graphql_max_depth=3, graphql_max_aliases=60)
    app = create_app(strict, session_factory=session_factory)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        deep = await client.post("/graphql", json={"query": DASHBOARD}, headers=ACCEPT)
        aliases = "{ " + " ".join(f"a{n}: __typename" for n in range(60)) + " }"
        many = await client.post("/graphql", json={"query": aliases}, headers=ACCEPT)
    assert deep.status_code == 400
    assert deep.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert deep.json()["errors"][0]["message"] == (
        "The query is 12 levels deep, more than the maximum depth of 3."
    )
    assert many.status_code == 200, many.text


async def test_validating_a_large_valid_document_does_not_stall_the_loop(
    anon_client: httpx.AsyncClient,
) -> None:
    """The most validation work within the limits (a thousand operations of a document just
    under the token limit) runs in a worker thread: the loop keeps ticking."""
    query = " ".join(f"query Q{n} {{ __typename }}" for n in range(990))
    async with loop_lag() as lags:
        response = await anon_client.post(
            "/graphql", json={"query": query, "operationName": "Q7"}, headers=ACCEPT
        )
    assert response.json()["data"] == {"__typename": "Query"}
    assert max(lags) < MAX_LAG_SECONDS, f"the event loop stalled {max(lags):.3f} s"
