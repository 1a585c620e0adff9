"""Production mode (introspection, suggestions, GraphiQL), the security headers of every
surface, and X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.app import create_app
from opsgraph.rest.graphiql import IMMUTABLE, STATIC_PATH
from opsgraph.settings import ConfigError, load_settings
from tests.conftest import create_and_sign_in, make_settings

PRODUCTION = {"environment": "production", "jwt_secret": "p" * 40}
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Customer") { name } }'
TYPO = "{ customrs { totalCount } }"

Client = Callable[..., Any]


@pytest.fixture
def app_client(
    database_url: URL, session_factory: async_sessionmaker[AsyncSession]
) -> Callable[..., Any]:
    """An anonymous client of an app with the given settings."""

    @asynccontextmanager
    async def open_client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(database_url, **overrides), session_factory=session_factory)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    return open_client


async def query(http: httpx.AsyncClient, document: str, **headers: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": document}, headers={**GRAPHQL_RESPONSE, **headers}
    )


# --- introspection and suggestions ----------------------------------------------------


async def test_production_refuses_introspection_to_anonymous_callers(app_client: Client) -> None:
    async with app_client(**PRODUCTION) as http:
        for document in (SCHEMA, TYPE):
            response = await query(http, document)
            assert response.status_code == 401, response.text
            body = response.json()
            assert "data" not in body
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # __typename stays free
        typename = await query(http, "{ __typename }")
        assert typename.json()["data"] == {"__typename": "Query"}


async def test_production_introspection_needs_the_permission(
    app_client: Client, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with app_client(**PRODUCTION) as http:
        staff = await create_and_sign_in(http, session_factory, "prod-staff", ["staff"])
        forbidden = await query(http, TYPE, **staff)
        assert forbidden.status_code == 403, forbidden.text
        [error] = forbidden.json()["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["message"] == "Not allowed: __type needs the permission schema:introspect"
        admin = await create_and_sign_in(http, session_factory, "prod-admin", ["admin"])
        allowed = await query(http, SCHEMA, **admin)
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["data"]["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize("overrides", [{**PRODUCTION, "introspection": True}, {}])
async def test_introspection_open_when_enabled_or_in_development(
    app_client: Client, overrides: dict[str, Any]
) -> None:
    async with app_client(**overrides) as http:
        response = await query(http, TYPE)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["__type"]["name"] == "Customer"
        typo = await query(http, TYPO)
        assert typo.status_code == 400
        assert "Did you mean 'customers'" in typo.json()["errors"][0]["message"]


async def test_production_hides_suggestions(app_client: Client) -> None:
    async with app_client(**PRODUCTION) as http:
        typo = await query(http, TYPO)
        assert typo.status_code == 400, typo.text
        assert typo.json()["errors"][0]["message"] == (
            "Cannot query field 'customrs' on type 'Query'."
        )
        argument = await query(http, "{ customers(frist: 1) { totalCount } }")
        assert argument.status_code == 400, argument.text
        assert "Did you mean" not in argument.text
        assert "frist" in argument.json()["errors"][0]["message"]
    async with app_client() as http:  # the validation cache, shared, kept the suggestion
        assert "Did you mean 'customers'" in (await query(http, TYPO)).text


# --- GraphiQL --------------------------------------------------------------------------


async def test_graphiql_off_in_production_unless_enabled(app_client: Client) -> None:
    async with app_client(**PRODUCTION) as http:
        response = await http.get("/graphql", headers=BROWSER)
        assert response.status_code == 404, response.text
        assert "text/html" not in response.headers["content-type"]
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    async with app_client(**PRODUCTION, graphiql=True) as http:
        response = await http.get("/graphql", headers=BROWSER)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
    async with app_client(graphiql=False) as http:
        assert (await http.get("/graphql", headers=BROWSER)).status_code == 404
    async with app_client() as http:  # development: on by default
        assert (await http.get("/graphql", headers=BROWSER)).status_code == 200


def test_graphiql_setting_empty_means_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGRAPH_ENV_FILE", "")
    monkeypatch.setenv("OPSGRAPH_GRAPHIQL", "")
    assert load_settings().graphiql is None
    assert load_settings().graphiql_enabled
    assert not load_settings(**PRODUCTION).graphiql_enabled


# --- headers --------------------------------------------------------------------------


def assert_api_headers(response: httpx.Response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff", response.url
    assert response.headers["Cache-Control"] == "no-store", response.url
    assert response.headers["Referrer-Policy"] == "no-referrer", response.url


async def test_every_api_surface_sends_the_security_headers(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    login = """mutation { login(input: {username: "nobody", password: "wrong password"}) {
      errors { code } } }"""
    responses = [
        await client.get("/health"),
        await client.get("/ready"),
        await client.post("/graphql", json={"query": "{ me { username } }"}),
        await anon_client.post("/graphql", json={"query": login}),
        await anon_client.post("/graphql", json={"query": "{ nope }"}, headers=GRAPHQL_RESPONSE),
        await anon_client.post("/graphql", content=b"x", headers={"Content-Type": "text/plain"}),
        await anon_client.get("/graphql?query=%7B__typename%7D"),
        await anon_client.post(
            "/auth/token", data={"username": "nobody", "password": "wrong password"}
        ),
        await anon_client.post("/auth/revoke", data={"token": "never-issued"}),
        await anon_client.get("/no-such-route"),
        await anon_client.get("/graphql", headers=BROWSER),
    ]
    statuses = [200, 200, 200, 200, 400, 415, 200, 400, 200, 404, 200]
    assert [r.status_code for r in responses] == statuses
    for response in responses:
        assert_api_headers(response)


async def test_static_files_keep_their_long_caching(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get(f"{STATIC_PATH}/explorer.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_unexpected_errors_get_the_headers_too(
    database_url: URL, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    app = create_app(make_settings(database_url), session_factory=session_factory)

    async def broken(_: Any) -> None:
        raise RuntimeError("boom")

    app.add_route("/broken", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/broken")
    assert response.status_code == 500
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    assert_api_headers(response)


# --- trusted proxies ---------------------------------------------------------------------


async def failed_logins(http: httpx.AsyncClient, count: int, who: str = "ghost") -> list[str]:
    """``count`` failed logins, each for another user and from another forwarded address:
    only the per-address bucket can fill up."""
    codes = []
    for n in range(count):
        document = f"""mutation {{ login(input: {{username: "{who}-{n}", password: "wrong pw"}})
          {{ errors {{ code }} }} }}"""
        response = await http.post(
            "/graphql", json={"query": document}, headers={"X-Forwarded-For": f"198.51.100.{n}"}
        )
        assert response.status_code == 200, response.text
        codes.append(response.json()["data"]["login"]["errors"][0]["code"])
    return codes


async def test_forwarded_for_is_ignored_without_trusted_proxies(app_client: Client) -> None:
    async with app_client(login_max_failures=2) as http:
        assert await failed_logins(http, 3) == [
            "INVALID_CREDENTIALS",
            "INVALID_CREDENTIALS",
            "TOO_MANY_ATTEMPTS",
        ]


async def test_forwarded_for_is_believed_from_a_trusted_proxy(app_client: Client) -> None:
    async with app_client(login_max_failures=2, trusted_proxies=["127.0.0.0/8"]) as http:
        assert await failed_logins(http, 3) == ["INVALID_CREDENTIALS"] * 3
    async with app_client(login_max_failures=2, trusted_proxies=["10.0.0.1"]) as http:
        codes = await failed_logins(http, 3, who="phantom")
        assert codes[-1] == "TOO_MANY_ATTEMPTS"  # this caller is no trusted proxy


def test_trusted_proxies_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGRAPH_ENV_FILE", "")
    monkeypatch.setenv("OPSGRAPH_TRUSTED_PROXIES", "10.0.0.0/8, ::1,192.0.2.7")
    assert load_settings().trusted_proxies == ["10.0.0.0/8", "::1", "192.0.2.7"]
    monkeypatch.setenv("OPSGRAPH_TRUSTED_PROXIES", "proxy.local")
    with pytest.raises(ConfigError, match=r"OPSGRAPH_TRUSTED_PROXIES: 'proxy\.local' is not"):
        load_settings()
