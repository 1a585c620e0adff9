"""/graphql against the GraphQL-over-HTTP specification, its recommendations included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from starlette.background import BackgroundTask
from starlette.responses import Response
from strawberry.types.execution import PreExecutionError

from opsgraph.api import MASKED_MESSAGE, schema
from opsgraph.app import GraphQLApp
from opsgraph.rest.graphql_protocol import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    MAX_BODY_BYTES,
    negotiate,
)
from tests.conftest import make_settings

MODERN = {"Accept": GRAPHQL_RESPONSE_JSON}
LEGACY = {"Accept": APPLICATION_JSON}
RECOMMENDED = {
    "Accept": f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8, {APPLICATION_JSON}; charset=utf-8"
}
TYPENAME = "{ __typename }"
DEEP = "{ customers { edges { node { orders { edges { node { customer { orders { edges { node {"
DEEP += " customer { orders { edges { node { id } } } } } } } } } } } } } } }"  # 15 levels
MANY_ALIASES = "{ " + " ".join(f"a{n}: __typename" for n in range(51)) + " }"


async def _post(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers=headers or MODERN)


async def _post_without_accept(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    request = client.build_request("POST", "/graphql", json=body)
    del request.headers["accept"]
    return await client.send(request)


def _assert_json_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"errors"}
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["errors"][0]["message"]
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    return body


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, APPLICATION_JSON),
        ("", APPLICATION_JSON),
        (APPLICATION_JSON, APPLICATION_JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (RECOMMENDED["Accept"], GRAPHQL_RESPONSE_JSON),
        (f"{APPLICATION_JSON}, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),  # tie: ours
        (f"{GRAPHQL_RESPONSE_JSON};q=0.5, {APPLICATION_JSON}", APPLICATION_JSON),
        ("*/*", GRAPHQL_RESPONSE_JSON),
        ("application/*", GRAPHQL_RESPONSE_JSON),
        (f"*/*;q=0.1, {APPLICATION_JSON}", APPLICATION_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0, */*", APPLICATION_JSON),
        ("APPLICATION/JSON", APPLICATION_JSON),
        ("application/json, multipart/mixed", APPLICATION_JSON),  # GraphiQL's default
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", GRAPHQL_RESPONSE_JSON),
        ("text/plain", None),
        ("text/html", None),
        (f"{APPLICATION_JSON};q=0", None),
        (f"{APPLICATION_JSON}; charset=latin-1", None),
        (f"{APPLICATION_JSON};q=oops", None),
        (" , ", None),
    ],
)
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


async def test_successful_query_in_each_media_type(client: httpx.AsyncClient) -> None:
    for headers, media_type in (
        (MODERN, GRAPHQL_RESPONSE_JSON),
        (RECOMMENDED, GRAPHQL_RESPONSE_JSON),
        (LEGACY, APPLICATION_JSON),
    ):
        response = await _post(client, {"query": TYPENAME}, headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
        assert response.headers["vary"] == "Accept"
        assert response.json()["data"] == {"__typename": "Query"}
    response = await _post_without_accept(client, {"query": TYPENAME})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{APPLICATION_JSON}; charset=utf-8"


REQUEST_ERRORS = [
    pytest.param({"query": "{"}, "Syntax Error", id="parse"),
    pytest.param({"query": "{ noSuchField }"}, "noSuchField", id="validation"),
    pytest.param(
        {"query": "query($n: Int!) { customers(first: $n) { totalCount } }", "variables": {}},
        "$n",
        id="missing-variable",
    ),
    pytest.param(
        {
            "query": "query($n: Int) { customers(first: $n) { totalCount } }",
            "variables": {"n": "many"},
        },
        "$n",
        id="variable-coercion",
    ),
    pytest.param({"query": TYPENAME, "operationName": "Nope"}, "", id="unknown-operation"),
    pytest.param({"query": DEEP}, "depth of 12", id="too-deep"),
    pytest.param(
        {"query": "query A { __typename } query B { __typename }"},
        "operation name",
        id="several-operations-unnamed",
    ),
    pytest.param({"query": MANY_ALIASES}, "aliases", id="too-many-aliases"),
]


@pytest.mark.parametrize(("body", "mentions"), REQUEST_ERRORS)
async def test_request_errors_are_400_without_data(
    client: httpx.AsyncClient, body: dict[str, Any], mentions: str
) -> None:
    response = await _post(client, body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    result = response.json()
    assert "data" not in result
    assert mentions in result["errors"][0]["message"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(("body", "mentions"), REQUEST_ERRORS)
async def test_request_errors_are_200_for_legacy_clients(
    client: httpx.AsyncClient, body: dict[str, Any], mentions: str
) -> None:
    for response in (
        await _post(client, body, LEGACY),
        await _post_without_accept(client, body),
    ):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == f"{APPLICATION_JSON}; charset=utf-8"
        result = response.json()
        assert "data" not in result
        assert mentions in result["errors"][0]["message"]


async def test_field_errors_are_200_with_data(client: httpx.AsyncClient) -> None:
    response = await _post(client, {"query": '{ customer(id: "x", externalId: "y") { id } }'})
    assert response.status_code == 200
    result = response.json()
    assert result["data"] == {"customer": None}
    assert result["errors"][0]["path"] == ["customer"]


async def test_a_server_fault_before_execution_is_500(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> PreExecutionError:
        return PreExecutionError(data=None, errors=[GraphQLError(MASKED_MESSAGE)])

    monkeypatch.setattr(schema, "execute", broken)
    response = await _post(client, {"query": TYPENAME})
    assert response.status_code == 500
    assert response.json() == {"errors": [{"message": MASKED_MESSAGE}]}
    legacy = await _post(client, {"query": TYPENAME}, LEGACY)
    assert legacy.status_code == 200


async def test_get_runs_queries(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query Q($n: Int) { customers(first: $n) { totalCount } }",
            "variables": '{"n": 1}',
            "operationName": "Q",
        },
        headers=MODERN,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    assert isinstance(response.json()["data"]["customers"]["totalCount"], int)
    empty_name = await client.get(
        "/graphql", params={"query": TYPENAME, "operationName": ""}, headers=MODERN
    )
    assert empty_name.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    "params",
    [
        {"query": "mutation { anything }"},
        {"query": "query A { __typename } mutation B { anything }", "operationName": "B"},
    ],
)
async def test_mutation_over_get_is_405(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    for headers in (MODERN, LEGACY):
        response = await client.get("/graphql", params=params, headers=headers)
        _assert_json_error(response, 405, "METHOD_NOT_ALLOWED")
        assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/jsonx",
    ],
)
async def test_post_needs_json(client: httpx.AsyncClient, content_type: str | None) -> None:
    request = client.build_request("POST", "/graphql", content=b'{"query": "{ __typename }"}')
    assert "content-type" not in request.headers  # raw content: httpx sets none
    if content_type is not None:
        request.headers["content-type"] = content_type
    response = await client.send(request)
    _assert_json_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert response.headers["content-type"].startswith(APPLICATION_JSON)


async def test_json_charset_utf8_is_fine(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"Content-Type": "application/json; charset=UTF-8", **MODERN},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'"a string"',
        b"42",
        b'[{"query": "{ __typename }"}]',
        b'{"qeury": "{ __typename }"}',
        b'{"query": 5}',
        b'{"query": "{ __typename }", "variables": [7]}',
        b'{"query": "{ __typename }", "extensions": "x"}',
        b'{"query": "{ __typename }", "operationName": 5}',
        b'{"query": "\xff"}',  # not UTF-8
        '{"query": "{ __typename }"}'.encode("utf-16"),
        b"[" * 100_000,  # deeper than the JSON parser goes
    ],
)
async def test_malformed_requests_are_400(client: httpx.AsyncClient, body: bytes) -> None:
    for headers in (MODERN, LEGACY):
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": APPLICATION_JSON, **headers}
        )
        _assert_json_error(response, 400, "BAD_REQUEST")
        media_type = headers["Accept"]
        assert response.headers["content-type"] == f"{media_type}; charset=utf-8"


async def test_malformed_get_parameters_are_400(client: httpx.AsyncClient) -> None:
    for params in ({"query": TYPENAME, "variables": "{nope"}, {"variables": "{}"}):
        response = await client.get("/graphql", params=params, headers=MODERN)
        _assert_json_error(response, 400, "BAD_REQUEST")


async def test_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await _post(client, {"query": TYPENAME}, {"Accept": "text/plain"})
    body = _assert_json_error(response, 406, "NOT_ACCEPTABLE")
    assert GRAPHQL_RESPONSE_JSON in body["errors"][0]["message"]
    get = await client.get("/graphql", params={"query": TYPENAME}, headers={"Accept": "text/csv"})
    _assert_json_error(get, 406, "NOT_ACCEPTABLE")


async def test_bodies_over_1_mib_are_413(client: httpx.AsyncClient) -> None:
    big = b'{"query": "{ __typename }", "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = await client.post(
        "/graphql", content=big, headers={"Content-Type": "application/json"}
    )
    _assert_json_error(response, 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(20):
            yield b"x" * (64 * 1024)
        yield b'"}'

    streamed = await client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    _assert_json_error(streamed, 413, "PAYLOAD_TOO_LARGE")

    just_fits = b'{"query": "{ __typename }", "pad": "'
    just_fits += b"x" * (MAX_BODY_BYTES - len(just_fits) - 2) + b'"}'
    assert len(just_fits) == MAX_BODY_BYTES
    ok = await client.post(
        "/graphql", content=just_fits, headers={"Content-Type": "application/json", **MODERN}
    )
    assert ok.status_code == 200


async def test_other_methods_are_405_with_allow(client: httpx.AsyncClient) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = await client.request(method, "/graphql")
        _assert_json_error(response, 405, "METHOD_NOT_ALLOWED")
        assert "POST" in response.headers["allow"]
    head = await client.head("/graphql", params={"query": TYPENAME})
    assert head.status_code == 405
    assert head.headers["allow"] == "GET, POST"


def test_resolver_set_status_headers_and_background_are_kept() -> None:
    view = GraphQLApp(make_settings())
    sub_response = Response()
    sub_response.status_code = 202
    sub_response.headers["X-Extra"] = "1"
    sub_response.background = BackgroundTask(lambda: None)
    response = view.create_response({"data": {"ok": True}}, sub_response)
    assert response.status_code == 202
    assert response.headers["x-extra"] == "1"
    assert response.headers["content-type"] == f"{APPLICATION_JSON}; charset=utf-8"
    assert response.background is sub_response.background


async def test_operation_name_picks_one_of_several(client: httpx.AsyncClient) -> None:
    document = "query A { a: __typename } query B { b: __typename }"
    response = await _post(client, {"query": document, "operationName": "B"})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"b": "Query"}
