"""Signing in through GraphQL and POST /auth/token: login, throttling, refresh rotation,
logout, me."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.models import AuditEvent, LoginAttempt
from opsgraph.services import auth as auth_service
from opsgraph.services.user import create_user
from tests.conftest import GraphQLClient

PASSWORD = "correct horse battery"
LOGIN = """mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {
  tokens { accessToken refreshToken tokenType accessTokenExpiresAt }
  user { username }
  errors { code message field } } }"""
REFRESH = """mutation($t: String!) { tokenRefresh(input: {refreshToken: $t}) {
  tokens { accessToken refreshToken } errors { code message } } }"""
ME = "{ me { username permissions roles { edges { node { name } } } } }"


@pytest.fixture
def gql(anon_gql: GraphQLClient) -> GraphQLClient:
    """These tests sign in themselves."""
    return anon_gql


@pytest.fixture
async def alice(session: AsyncSession) -> int:
    user = await create_user(
        session,
        username="alice",
        email="alice@example.com",
        password=PASSWORD,
        roles=["accountant"],
        password_rounds=4,
    )
    return user.id


async def _login(gql: GraphQLClient, username: str, password: str) -> dict[str, Any]:
    body = await gql(LOGIN, {"u": username, "p": password})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["login"]
    return payload


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_then_me(gql: GraphQLClient, alice: int) -> None:
    payload = await _login(gql, "Alice", PASSWORD)
    assert payload["errors"] == []
    assert payload["user"] == {"username": "alice"}
    assert payload["tokens"]["tokenType"] == "Bearer"
    me = await gql(ME, **_bearer(payload["tokens"]["accessToken"]))
    assert me["data"]["me"]["username"] == "alice"
    assert "invoice:write" in me["data"]["me"]["permissions"]
    assert "user:admin" not in me["data"]["me"]["permissions"]
    assert me["data"]["me"]["roles"]["edges"] == [{"node": {"name": "accountant"}}]


async def test_me_needs_a_valid_token(gql: GraphQLClient) -> None:
    for headers in ({}, _bearer("garbage"), {"Authorization": "Basic abc"}):
        body = await gql(ME, status=401, **headers)
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_wrong_password_and_unknown_user_look_the_same(
    gql: GraphQLClient, alice: int, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real = auth_service.verify_password

    def counting(password: str, hashed: str) -> bool:
        checks.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(auth_service, "verify_password", counting)
    wrong = await _login(gql, "alice", "not the password")
    unknown = await _login(gql, "nobody", "not the password")
    assert wrong == unknown
    assert wrong["tokens"] is None
    assert wrong["errors"] == [
        {
            "code": "INVALID_CREDENTIALS",
            "message": "The username or password is wrong.",
            "field": None,
        }
    ]
    assert len(checks) == 2  # exactly one bcrypt check per attempt, known user or not
    failed = await session.scalar(
        select(func.count()).where(AuditEvent.action == "auth.login_failed")
    )
    assert failed == 2


async def test_too_many_failures_are_throttled_per_attempt(
    gql: GraphQLClient, alice: int, session: AsyncSession
) -> None:
    # ten failures in one document: aliased login fields count one by one
    aliased = " ".join(
        f'a{n}: login(input: {{username: "alice", password: "wrong{n}"}}) {{ errors {{ code }} }}'
        for n in range(11)
    )
    body = await gql(f"mutation {{ {aliased} }}")
    codes = [body["data"][f"a{n}"]["errors"][0]["code"] for n in range(11)]
    assert codes == ["INVALID_CREDENTIALS"] * 10 + ["TOO_MANY_ATTEMPTS"]
    # now even the right password is refused until the window passes
    payload = await _login(gql, "alice", PASSWORD)
    assert payload["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    # ... which it does: move the failures back in time
    await session.execute(text("UPDATE login_attempt SET at = at - interval '16 minutes'"))
    payload = await _login(gql, "alice", PASSWORD)
    assert payload["errors"] == []
    attempts = await session.scalar(select(func.count()).select_from(LoginAttempt))
    assert attempts == 11  # throttled attempts are not recorded


async def test_refresh_rotates_and_reuse_ends_the_session(gql: GraphQLClient, alice: int) -> None:
    first = (await _login(gql, "alice", PASSWORD))["tokens"]
    body = await gql(REFRESH, {"t": first["refreshToken"]})
    second = body["data"]["tokenRefresh"]["tokens"]
    assert second["refreshToken"] != first["refreshToken"]
    assert (await gql(ME, **_bearer(second["accessToken"])))["data"]["me"]["username"] == "alice"
    # the spent token again: refused, and the whole session (family) ends
    reused = await gql(REFRESH, {"t": first["refreshToken"]})
    assert reused["data"]["tokenRefresh"]["errors"][0]["code"] == "UNAUTHENTICATED"
    third = await gql(REFRESH, {"t": second["refreshToken"]})
    assert third["data"]["tokenRefresh"]["errors"][0]["code"] == "UNAUTHENTICATED"
    me = await gql(ME, status=401, **_bearer(second["accessToken"]))
    assert me["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_ends_access_and_refresh_tokens(gql: GraphQLClient, alice: int) -> None:
    tokens = (await _login(gql, "alice", PASSWORD))["tokens"]
    other = (await _login(gql, "alice", PASSWORD))["tokens"]  # another device
    body = await gql("mutation { logout { ok errors { code } } }", **_bearer(tokens["accessToken"]))
    assert body["data"]["logout"] == {"ok": True, "errors": []}
    me = await gql(ME, status=401, **_bearer(tokens["accessToken"]))
    assert me["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refresh = await gql(REFRESH, {"t": tokens["refreshToken"]})
    assert refresh["data"]["tokenRefresh"]["errors"][0]["code"] == "UNAUTHENTICATED"
    assert (await gql(ME, **_bearer(other["accessToken"])))["data"]["me"]["username"] == "alice"


async def test_a_deactivated_user_is_out_on_the_next_request(
    gql: GraphQLClient, alice: int, session: AsyncSession
) -> None:
    tokens = (await _login(gql, "alice", PASSWORD))["tokens"]
    await session.execute(text('UPDATE "user" SET is_active = false WHERE id = :id'), {"id": alice})
    me = await gql(ME, status=401, **_bearer(tokens["accessToken"]))
    assert me["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await _login(gql, "alice", PASSWORD))["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_oauth2_password_flow(client: httpx.AsyncClient, alice: int) -> None:
    form = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    response = await client.post("/auth/token", data=form)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert response.headers["cache-control"] == "no-store"
    me = await client.post(
        "/graphql", json={"query": "{ me { username } }"}, headers=_bearer(body["access_token"])
    )
    assert me.json()["data"]["me"]["username"] == "alice"
    wrong = await client.post("/auth/token", data={**form, "password": "nope"})
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    for bad, status in [
        ({"username": "alice"}, 400),
        ({**form, "grant_type": "authorization_code"}, 400),
    ]:
        response = await client.post("/auth/token", data=bad)
        assert response.status_code == status
    as_json = await client.post("/auth/token", json=form)
    assert as_json.status_code == 415


async def test_oauth2_password_flow_is_throttled_too(client: httpx.AsyncClient, alice: int) -> None:
    form = {"username": "alice", "password": "wrong"}
    statuses = [(await client.post("/auth/token", data=form)).status_code for _ in range(11)]
    assert statuses == [400] * 10 + [429]
    right = await client.post("/auth/token", data={**form, "password": PASSWORD})
    assert (right.status_code, right.json()["error"]) == (429, "too_many_attempts")
