"""POST /auth/token as an OAuth2 client sees it (RFC 6749): the password, refresh_token and
client_credentials grants with real requests, and every failure in the RFC's error shape
with its status, a database that is not migrated or not there included."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import URL, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.app import create_app
from opsgraph.db import create_engine, create_session_factory, libpq_dsn
from opsgraph.graph.ids import to_global_id
from opsgraph.models import ApiKey
from tests.conftest import make_settings
from tests.resolvers.accounts import PASSWORD, Api, Caller, admin, api, make_api, make_user
from tests.resolvers.test_api_keys import CUSTOMERS, INVOICES, REVOKE, create_key

__all__ = ["admin", "api", "make_api"]  # fixtures

TOKEN = "/auth/token"
FORM = "application/x-www-form-urlencoded"
ME = "{ me { username } }"
LOGOUT = "mutation { logout { ok errors { code } } }"


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """An RFC 6749 error answer: exactly ``error`` and ``error_description``, not cached."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error
    assert body["error_description"]
    assert response.headers["cache-control"] == "no-store"
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def password_grant(api: Api, username: str) -> dict[str, Any]:
    response = await api.http.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- refresh_token ----------------------------------------------------------------------


async def test_the_refresh_token_grant_spends_the_token_once(
    api: Api, session: AsyncSession
) -> None:
    await make_user(session, "rita", ["staff"])
    first = await password_grant(api, "rita")
    response = await api.http.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 200, response.text
    renewed = response.json()
    assert set(renewed) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (renewed["token_type"], renewed["expires_in"]) == ("bearer", 15 * 60)
    assert renewed["refresh_token"] != first["refresh_token"]
    assert response.headers["cache-control"] == "no-store"
    assert (await api.data(ME, headers=bearer(renewed["access_token"])))["me"] == {
        "username": "rita"
    }
    # the spent token again: refused, and the whole session ends (tokenRefresh's rule)
    again = await api.http.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    body = assert_oauth_error(again, 400, "invalid_grant")
    assert body["error_description"] == "The refresh token is not valid; sign in again."
    ended = await api(ME, headers=bearer(renewed["access_token"]))
    assert ended["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    newest = await api.http.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]}
    )
    assert_oauth_error(newest, 400, "invalid_grant")


async def test_a_refresh_token_from_login_is_spent_by_the_token_route(
    api: Api, session: AsyncSession
) -> None:
    await make_user(session, "lars", ["staff"])
    login = await api.data(
        'mutation { login(input: {username: "lars", password: "correct horse battery"}) '
        "{ tokens { refreshToken } errors { code } } }"
    )
    refresh_token = login["login"]["tokens"]["refreshToken"]
    response = await api.http.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    assert response.status_code == 200, response.text
    spent = await api.data(
        "mutation($t: String!) { tokenRefresh(input: {refreshToken: $t}) "
        "{ tokens { accessToken } errors { code } } }",
        {"t": refresh_token},
    )
    assert spent["tokenRefresh"] == {"tokens": None, "errors": [{"code": "UNAUTHENTICATED"}]}


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": ""}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "never-issued"}, "invalid_grant"),
    ],
)
async def test_refresh_token_grant_failures(api: Api, form: dict[str, str], error: str) -> None:
    assert_oauth_error(await api.http.post(TOKEN, data=form), 400, error)


# --- client_credentials ------------------------------------------------------------------


async def api_key(api: Api, admin: Caller, scopes: list[str]) -> tuple[str, str]:
    """A new key of the admin's: (client id, client secret) = (its prefix, the whole key)."""
    payload = await create_key(api, admin, scopes)
    return payload["apiKey"]["prefix"], payload["secret"]


@pytest.mark.parametrize("how", ["basic", "form"])
async def test_client_credentials_issue_a_token_that_acts_as_the_key(
    api: Api, admin: Caller, session: AsyncSession, how: str
) -> None:
    client_id, client_secret = await api_key(api, admin, ["customer:read"])
    form = {"grant_type": "client_credentials"}
    if how == "basic":
        response = await api.http.post(TOKEN, data=form, auth=(client_id, client_secret))
    else:
        form |= {"client_id": client_id, "client_secret": client_secret}
        response = await api.http.post(TOKEN, data=form)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}  # no refresh
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "bearer",
        15 * 60,
        "customer:read",
    )
    assert response.headers["cache-control"] == "no-store"
    assert not body["access_token"].startswith("og_")  # a JWT, not the key itself
    headers = bearer(body["access_token"])
    assert (await api.data(ME, headers=headers))["me"] == {"username": "root"}
    assert (await api.data(CUSTOMERS, headers=headers))["customers"]["totalCount"] == 0
    refused = await api(INVOICES, headers=headers)  # the key's scopes, not the admin's
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    out = await api.data(LOGOUT, headers=headers)  # no signed-in session to end
    assert out["logout"] == {"ok": False, "errors": [{"code": "BAD_REQUEST"}]}
    used = await session.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == client_id))
    assert used is not None


async def test_a_revoked_key_ends_its_tokens_and_gets_no_more(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    client_id, client_secret = await api_key(api, admin, ["customer:read"])
    form = {"grant_type": "client_credentials"}
    response = await api.http.post(TOKEN, data=form, auth=(client_id, client_secret))
    access = response.json()["access_token"]
    key_id = await session.scalar(select(ApiKey.id).where(ApiKey.prefix == client_id))
    assert key_id is not None
    revoked = await api.data(REVOKE, {"id": to_global_id("ApiKey", key_id)}, token=admin.token)
    assert revoked["apiKeyRevoke"]["errors"] == []
    after = await api(CUSTOMERS, headers=bearer(access))
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    again = await api.http.post(TOKEN, data=form, auth=(client_id, client_secret))
    assert_oauth_error(again, 401, "invalid_client")


async def test_a_key_token_reads_the_key_at_each_request(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    """The token holds no permissions of its own: the key's scopes now count."""
    client_id, client_secret = await api_key(api, admin, ["customer:read"])
    response = await api.http.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, client_secret)
    )
    headers = bearer(response.json()["access_token"])
    assert "errors" not in await api(CUSTOMERS, headers=headers)
    await session.execute(
        update(ApiKey).where(ApiKey.prefix == client_id).values(scopes=["invoice:read"])
    )
    await session.flush()
    after = await api(CUSTOMERS, headers=headers)
    assert after["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "errors" not in await api(INVOICES, headers=headers)


def _basic(raw: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


async def test_client_authentication_failures(api: Api, admin: Caller) -> None:
    client_id, client_secret = await api_key(api, admin, ["customer:read"])
    grant = {"grant_type": "client_credentials"}
    wrong_secret = client_secret[:-4] + ("AAAA" if not client_secret.endswith("AAAA") else "BBBB")
    refused: list[tuple[dict[str, str], dict[str, str]]] = [
        (_basic(f"{client_id}:{wrong_secret}"), {}),  # wrong secret
        (_basic(f"AAAAAAAAAA:{client_secret}"), {}),  # another key's id
        (_basic(f"{client_id}ä:{client_secret}"), {}),  # not the id, not even ASCII
        (_basic(f"{client_id}:"), {}),  # no secret
        (_basic(client_id), {}),  # no colon
        ({"Authorization": "Basic not base64!"}, {}),
        (bearer(client_secret), {}),  # not a client authentication scheme
        ({}, {}),  # none at all
        ({}, {"client_id": client_id, "client_secret": wrong_secret}),
        ({}, {"client_id": "og_" + client_id, "client_secret": client_secret}),
    ]
    for headers, form in refused:
        response = await api.http.post(TOKEN, data={**grant, **form}, headers=headers)
        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic "), headers
    both = await api.http.post(
        TOKEN,
        data={**grant, "client_id": client_id, "client_secret": client_secret},
        auth=(client_id, client_secret),
    )
    assert_oauth_error(both, 400, "invalid_request")  # one authentication method only
    half = await api.http.post(TOKEN, data={**grant, "client_id": client_id})
    assert_oauth_error(half, 400, "invalid_request")


async def test_the_password_grant_ignores_client_credentials(
    api: Api, session: AsyncSession
) -> None:
    """A public client that names itself with Basic still signs its user in."""
    await make_user(session, "pia", ["staff"])
    response = await api.http.post(
        TOKEN,
        data={"grant_type": "password", "username": "pia", "password": PASSWORD},
        auth=("some-client", "whatever"),
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" in response.json()


# --- requests that are not what the endpoint takes ---------------------------------------


async def test_malformed_requests_get_rfc_errors(api: Api) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        (
            {"data": {"grant_type": "authorization_code", "code": "x"}},
            400,
            "unsupported_grant_type",
        ),
        ({"data": {"grant_type": ""}}, 400, "unsupported_grant_type"),
        ({"data": {"grant_type": "password", "username": "a"}}, 400, "invalid_request"),
        ({"content": "username=a&username=b&password=x"}, 400, "invalid_request"),
        ({"content": "&".join(f"f{n}=1" for n in range(20))}, 400, "invalid_request"),
        ({"content": b"username=%ff&password=x"}, 400, "invalid_request"),
        ({"json": {"username": "a", "password": "b"}}, 415, "invalid_request"),
        ({"content": "password=" + "x" * 20_000}, 413, "invalid_request"),
    ]
    for request, status, error in cases:
        headers = {"Content-Type": FORM} if "content" in request else {}
        response = await api.http.post(TOKEN, headers=headers, **request)
        body = assert_oauth_error(response, status, error)
        assert "Traceback" not in body["error_description"]
    repeated = await api.http.post(
        TOKEN, content="username=a&username=b&password=x", headers={"Content-Type": FORM}
    )
    assert "username" in repeated.json()["error_description"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_only_post_is_taken(api: Api, method: str) -> None:
    response = await api.http.request(method, TOKEN)
    assert_oauth_error(response, 405, "invalid_request")
    assert response.headers["allow"] == "POST"


async def test_too_many_attempts_is_429_with_retry_after(api: Api, session: AsyncSession) -> None:
    await make_user(session, "tove", ["staff"])
    form = {"username": "tove", "password": "wrong password"}
    for _ in range(10):
        assert_oauth_error(await api.http.post(TOKEN, data=form), 400, "invalid_grant")
    throttled = await api.http.post(TOKEN, data={**form, "password": PASSWORD})
    assert_oauth_error(throttled, 429, "too_many_attempts")
    assert throttled.headers["retry-after"] == str(15 * 60)


# --- the database: not migrated, gone, failing --------------------------------------------


@pytest.fixture
async def over() -> AsyncIterator[Any]:
    """``await over(url)``: a client of the app over its own engine on ``url``."""
    engines = []
    clients: list[httpx.AsyncClient] = []

    async def make(url: URL) -> httpx.AsyncClient:
        settings = make_settings(url, bcrypt_rounds=4)
        engine = create_engine(url, settings)
        engines.append(engine)
        app = create_app(settings, session_factory=create_session_factory(engine))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://t",
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
    for engine in engines:
        await engine.dispose()


def assert_nothing_internal(response: httpx.Response, url: URL) -> None:
    for internal in (str(url.port), url.database, "psycopg", "SELECT", "login_attempt", "sql"):
        assert internal
        assert internal not in response.text, internal


GRANTS = [
    {"grant_type": "password", "username": "admin", "password": "whatever 12345"},
    {"grant_type": "refresh_token", "refresh_token": "some-token"},
    {
        "grant_type": "client_credentials",
        "client_id": "AAAAAAAAAA",
        "client_secret": "og_AAAAAAAAAA_" + "x" * 43,
    },
]


async def test_an_unmigrated_database_is_503_temporarily_unavailable(
    empty_database_url: URL, over: Any
) -> None:
    http = await over(empty_database_url)
    for form in GRANTS:
        response = await http.post(TOKEN, data=form)
        body = assert_oauth_error(response, 503, "temporarily_unavailable")
        assert body["error_description"] == "The database is unavailable; try again shortly."
        assert response.headers["retry-after"] == "5"
        assert_nothing_internal(response, empty_database_url)


async def test_graphql_over_an_unmigrated_database_is_503_too(
    empty_database_url: URL, over: Any
) -> None:
    """The same rule on /graphql: ``login`` there needs the tables as much as the token
    endpoint does."""
    http = await over(empty_database_url)
    response = await http.post(
        "/graphql",
        json={
            "query": 'mutation { login(input: {username: "admin", password: "whatever 12345"})'
            " { errors { code } } }"
        },
    )
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
    assert_nothing_internal(response, empty_database_url)


async def test_a_database_that_refuses_connections_is_503(
    fresh_database_url: URL, over: Any
) -> None:
    gone = fresh_database_url.set(port=1)  # nothing listens there
    http = await over(gone)
    for form in GRANTS:
        response = await http.post(TOKEN, data=form)
        assert_oauth_error(response, 503, "temporarily_unavailable")
        assert response.headers["retry-after"] == "5"
        assert "127.0.0.1" not in response.text


async def test_an_unexpected_database_error_is_500_server_error(
    fresh_database_url: URL, over: Any
) -> None:
    """A failure that is neither the database being away nor unmigrated: every login
    attempt is refused by a constraint the server knows nothing of."""
    with psycopg.connect(libpq_dsn(fresh_database_url), autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE login_attempt ADD CONSTRAINT nobody_logs_in CHECK (false) NOT VALID"
        )
    http = await over(fresh_database_url)
    response = await http.post(TOKEN, data=GRANTS[0])
    body = assert_oauth_error(response, 500, "server_error")
    assert body["error_description"] == "Unexpected error."
    assert "nobody_logs_in" not in response.text
    assert_nothing_internal(response, fresh_database_url)


async def test_the_openapi_document_describes_the_grants(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()
    token = document["paths"]["/auth/token"]["post"]
    form = token["requestBody"]["content"][FORM]["schema"]["properties"]
    assert form["grant_type"]["enum"] == ["password", "refresh_token", "client_credentials"]
    assert {"username", "password", "refresh_token", "client_id", "client_secret"} <= set(form)
    assert set(token["responses"]) == {
        "200",
        "400",
        "401",
        "405",
        "413",
        "415",
        "429",
        "500",
        "503",
    }
    responses = document["components"]["responses"]
    assert "WWW-Authenticate" in responses["OAuthClientError"]["headers"]
    assert "Retry-After" in responses["OAuthUnavailable"]["headers"]
    assert document["components"]["securitySchemes"]["clientBasic"]["scheme"] == "basic"
