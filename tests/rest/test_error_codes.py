"""Every GraphQL error a response carries has an ``extensions.code`` a client can branch
on: request errors (parse, validation, operation name, variables), refusals, field errors
on the compiled read path and on the resolvers, and anything unexpected (masked)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql import GraphQLError, GraphQLSyntaxError, Source
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.api import MASKED_MESSAGE, with_code
from opsgraph.app import create_app
from opsgraph.rest.graphql_protocol import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON
from tests.conftest import create_and_sign_in, make_settings

MEDIA_TYPES = [GRAPHQL_RESPONSE_JSON, APPLICATION_JSON]
ANY_CUSTOMERS = "query($n: Int!) { customers(first: $n) { totalCount } }"

REQUEST_ERRORS = [
    ("parse", {"query": "{ customers {"}, "GRAPHQL_PARSE_FAILED"),
    ("unknown field", {"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("unused variable", {"query": "query($d: Date) { __typename }"}, "GRAPHQL_VALIDATION_FAILED"),
    (
        "unknown operation",
        {"query": "query A { __typename }", "operationName": "B"},
        "OPERATION_NOT_FOUND",
    ),
    (
        "several operations, none named",
        {"query": "query A { __typename } query B { __typename }"},
        "OPERATION_NOT_FOUND",
    ),
    (
        "variable of the wrong type",
        {"query": ANY_CUSTOMERS, "variables": {"n": "x"}},
        "BAD_USER_INPUT",
    ),
    ("variable missing", {"query": ANY_CUSTOMERS}, "BAD_USER_INPUT"),
    ("variable null", {"query": ANY_CUSTOMERS, "variables": {"n": None}}, "BAD_USER_INPUT"),
    (
        "scalar out of range",
        {
            "query": "query($d: Date!) { invoices(filter: {dueFrom: $d}) { totalCount } }",
            "variables": {"d": "1800-01-01"},
        },
        "BAD_USER_INPUT",
    ),
    (
        "too deep",
        {
            "query": "{"
            + " customers { edges { node { orders {" * 4
            + " totalCount"
            + " } } } }" * 4
            + " }"
        },
        "QUERY_TOO_DEEP",
    ),
    (
        "persisted query unknown",
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}}},
        "PERSISTED_QUERY_NOT_FOUND",
    ),
]


def _get_params(body: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v) if isinstance(v, dict) else v for k, v in body.items()}


def _codes(response: httpx.Response) -> list[str]:
    body = response.json()
    assert body["errors"], body
    return [error["extensions"]["code"] for error in body["errors"]]


@pytest.mark.parametrize(
    ("name", "body", "code"), REQUEST_ERRORS, ids=[c[0] for c in REQUEST_ERRORS]
)
async def test_request_errors_carry_their_code_over_post_and_get(
    client: httpx.AsyncClient, name: str, body: dict[str, Any], code: str
) -> None:
    for media_type in MEDIA_TYPES:
        posted = await client.post("/graphql", json=body, headers={"Accept": media_type})
        assert _codes(posted) == [code], posted.text
        assert "data" not in posted.json()
        got = await client.get("/graphql", params=_get_params(body), headers={"Accept": media_type})
        assert _codes(got) == [code], got.text
    modern = await client.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE_JSON})
    assert modern.status_code == (404 if code == "PERSISTED_QUERY_NOT_FOUND" else 400)


async def test_parse_errors_keep_their_location(client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": "{ customers {"})).json()
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 14}]
    assert body["errors"][0]["message"].startswith("Syntax Error")


FIELD_ERRORS = [
    # the compiled read path plans this query, then hands the bad argument to the resolvers
    ("{ customers(first: -1) { edges { node { id } } } }", "BAD_USER_INPUT", ["customers"]),
    ('{ node(id: "zzz") { id } }', "BAD_USER_INPUT", ["node"]),
    # graphql-core's own argument coercion, met only while the field runs
    ('query($id: ID = "x") { node(id: $id) { id } }', "BAD_USER_INPUT", ["node"]),
    ('{ customer(id: "x", externalId: "y") { id } }', "BAD_USER_INPUT", ["customer"]),
]


@pytest.mark.parametrize("compiled_reads", [True, False])
async def test_field_errors_carry_their_code_on_either_read_path(
    session_factory: async_sessionmaker[AsyncSession], database_url: URL, compiled_reads: bool
) -> None:
    settings = make_settings(database_url, compiled_reads=compiled_reads)
    app = create_app(settings, session_factory=session_factory)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        headers = await create_and_sign_in(http, session_factory, "reader", ["admin"])
        for query, code, path in FIELD_ERRORS:
            variables = {"id": None} if "$id" in query else {}
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={**headers, "Accept": GRAPHQL_RESPONSE_JSON},
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert "data" in body
            found = [(e["extensions"]["code"], e["path"]) for e in body["errors"]]
            assert found == [(code, path)], query


async def test_a_query_the_compiled_path_runs_has_no_errors(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ customers(first: 2) { edges { node { id } } } }"},
        headers={"X-Opsgraph-Statements": "1"},
    )
    body = response.json()
    assert body["extensions"]["readPath"] == "compiled"
    assert "errors" not in body


async def test_refusals_carry_their_code(anon_client: httpx.AsyncClient) -> None:
    anonymous = await anon_client.post("/graphql", json={"query": "{ customers { totalCount } }"})
    assert _codes(anonymous) == ["UNAUTHENTICATED"]
    mutation = await anon_client.post(
        "/graphql",
        json={
            "query": 'mutation { ticketAssign(input: {id: "x", userId: "y"}) { errors { code } } }'
        },
    )
    assert _codes(mutation) == ["UNAUTHENTICATED"]


async def test_batches_and_malformed_requests_carry_a_code(client: httpx.AsyncClient) -> None:
    batch = await client.post("/graphql", json=[{"query": "{ __typename }"}])
    assert batch.status_code == 400
    assert _codes(batch) == ["BAD_REQUEST"]
    empty = await client.post("/graphql", json={})
    assert _codes(empty) == ["BAD_REQUEST"]
    mutation_over_get = await client.get("/graphql", params={"query": "mutation { logout { ok } }"})
    assert _codes(mutation_over_get) == ["METHOD_NOT_ALLOWED"]


async def test_registered_mode_refuses_with_a_code_over_post_and_get(
    session_factory: async_sessionmaker[AsyncSession], database_url: URL
) -> None:
    app = create_app(
        make_settings(database_url, trusted_documents="registered"), session_factory=session_factory
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        posted = await http.post("/graphql", json={"query": "{ __typename }"})
        assert _codes(posted) == ["DOCUMENT_NOT_TRUSTED"]
        got = await http.get(
            "/graphql", params={"query": "{ __typename }"}, headers={"Accept": APPLICATION_JSON}
        )
        assert _codes(got) == ["DOCUMENT_NOT_TRUSTED"]
        unknown = await http.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "b" * 64}}},
        )
        assert _codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]


def test_an_unexpected_error_is_masked_with_a_code() -> None:
    leaked = GraphQLError("password=hunter2 in SQL", original_error=RuntimeError("boom"))
    for before in (True, False):
        error = with_code(leaked, before_execution=before)
        assert error.message == MASKED_MESSAGE
        assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}


def test_codes_of_graphql_cores_own_errors() -> None:
    syntax = GraphQLSyntaxError(Source("{"), 1, "Expected Name, found <EOF>.")
    assert with_code(syntax, before_execution=True).extensions == {"code": "GRAPHQL_PARSE_FAILED"}
    validation = GraphQLError("Cannot query field 'nope' on type 'Query'.")
    assert with_code(validation, before_execution=True).extensions == {
        "code": "GRAPHQL_VALIDATION_FAILED"
    }
    assert with_code(validation, before_execution=False).extensions == {"code": "BAD_USER_INPUT"}
    completion = GraphQLError("Expected Iterable, but did not find one.", path=["customers"])
    assert with_code(completion, before_execution=False).extensions == {
        "code": "INTERNAL_SERVER_ERROR"
    }
    coded = GraphQLError("refused", extensions={"code": "FORBIDDEN"})
    assert with_code(coded, before_execution=True) is coded
