"""POST /auth/revoke as an OAuth2 client sees it (RFC 7009): revoking a refresh token or an
access token ends its signed-in session, anything else is an empty 200 that changes
nothing, and every failure has /auth/token's RFC 6749 error shape, a database that is not
migrated or not there included."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.tokens import TokenIssuer
from opsgraph.db import create_engine, create_session_factory, libpq_dsn
from tests.conftest import make_settings
from tests.resolvers.accounts import (
    PASSWORD,
    Api,
    Caller,
    admin,
    api,
    audit_events,
    make_api,
    make_user,
)
from tests.resolvers.test_api_keys import CUSTOMERS
from tests.rest.test_oauth_token import (
    FORM,
    ME,
    TOKEN,
    api_key,
    assert_nothing_internal,
    assert_oauth_error,
    bearer,
    over,
    password_grant,
)

__all__ = ["admin", "api", "make_api", "over"]  # fixtures

REVOKE = "/auth/revoke"
ENDED = "auth.session_revoked"


def assert_revoked(response: httpx.Response) -> None:
    """RFC 7009's answer: 200, nothing in the body, not cached."""
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"


async def me(api: Api, access_token: str) -> Any:
    """``me``'s username with the token, or the error code it gets."""
    body = await api(ME, headers=bearer(access_token))
    if "errors" in body:
        return body["errors"][0]["extensions"]["code"]
    return body["data"]["me"]["username"]


async def renews(api: Api, refresh_token: str) -> bool:
    response = await api.http.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    return response.status_code == 200


@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token"])
async def test_revoking_a_refresh_token_ends_its_session(
    api: Api, session: AsyncSession, hint: str | None
) -> None:
    user_id = await make_user(session, "rune", ["staff"])
    first = await password_grant(api, "rune")
    other = await password_grant(api, "rune")  # another sign-in of the same user
    form = {"token": first["refresh_token"]} | ({"token_type_hint": hint} if hint else {})
    assert_revoked(await api.http.post(REVOKE, data=form))
    assert await me(api, first["access_token"]) == "UNAUTHENTICATED"
    assert not await renews(api, first["refresh_token"])
    assert await me(api, other["access_token"]) == "rune"  # only that session ended
    [event] = await audit_events(session, ENDED)
    assert (event.actor_user_id, event.entity_id) == (user_id, user_id)
    assert event.changes == {"reason": "logout"}  # as the logout mutation records it
    # again: nothing left to end, the same answer, no second event
    assert_revoked(await api.http.post(REVOKE, data=form))
    assert len(await audit_events(session, ENDED)) == 1


async def test_revoking_a_spent_refresh_token_ends_the_session_it_renewed(
    api: Api, session: AsyncSession
) -> None:
    """Any refresh token of the session ends all of it (RFC 7009, 2.1: the whole grant)."""
    await make_user(session, "sune", ["staff"])
    first = await password_grant(api, "sune")
    renewed = (
        await api.http.post(
            TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        )
    ).json()
    assert_revoked(await api.http.post(REVOKE, data={"token": first["refresh_token"]}))
    assert await me(api, renewed["access_token"]) == "UNAUTHENTICATED"
    assert not await renews(api, renewed["refresh_token"])
    assert len(await audit_events(session, ENDED)) == 1


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
async def test_revoking_an_access_token_ends_its_session(
    api: Api, session: AsyncSession, hint: str | None
) -> None:
    await make_user(session, "alva", ["staff"])
    signed = await password_grant(api, "alva")
    renewed = (
        await api.http.post(
            TOKEN, data={"grant_type": "refresh_token", "refresh_token": signed["refresh_token"]}
        )
    ).json()
    other = await password_grant(api, "alva")
    # the first access token of the session: it ends the session, renewed tokens included
    form = {"token": signed["access_token"]} | ({"token_type_hint": hint} if hint else {})
    assert_revoked(await api.http.post(REVOKE, data=form))
    assert await me(api, signed["access_token"]) == "UNAUTHENTICATED"
    assert await me(api, renewed["access_token"]) == "UNAUTHENTICATED"
    assert not await renews(api, renewed["refresh_token"])
    assert await me(api, other["access_token"]) == "alva"
    assert len(await audit_events(session, ENDED)) == 1


async def test_the_logout_mutation_and_revocation_end_the_same_session(
    api: Api, session: AsyncSession
) -> None:
    await make_user(session, "liv", ["staff"])
    signed = await password_grant(api, "liv")
    out = await api.data("mutation { logout { ok } }", headers=bearer(signed["access_token"]))
    assert out == {"logout": {"ok": True}}
    assert_revoked(await api.http.post(REVOKE, data={"token": signed["refresh_token"]}))
    assert len(await audit_events(session, ENDED)) == 1  # logout's; revoking found nothing


async def test_an_unknown_or_expired_token_is_200_and_changes_nothing(
    api: Api, session: AsyncSession, database_url: URL
) -> None:
    await make_user(session, "ebba", ["staff"])
    signed = await password_grant(api, "ebba")
    claims = jwt.decode(signed["access_token"], options={"verify_signature": False})
    issuer = TokenIssuer(make_settings(database_url))  # the app's key
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    expired = issuer.issue(int(claims["sub"]), session=uuid.UUID(claims["sid"]), now=long_ago)
    stranger = TokenIssuer(make_settings(database_url, jwt_secret="another secret " * 3))
    forged = stranger.issue(int(claims["sub"]), session=uuid.UUID(claims["sid"]))
    unknown = [
        "never-issued",
        signed["refresh_token"][:-1] + ("A" if not signed["refresh_token"].endswith("A") else "B"),
        expired.token,  # of the live session, but expired
        forged.token,  # of the live session, but signed with another key
        signed["access_token"] + "x",
        "ünïcode ✓",
    ]
    for token in unknown:
        for hint in (None, "access_token", "refresh_token"):
            form = {"token": token} | ({"token_type_hint": hint} if hint else {})
            assert_revoked(await api.http.post(REVOKE, data=form))
    assert await audit_events(session, ENDED) == []
    assert await me(api, signed["access_token"]) == "ebba"
    assert await renews(api, signed["refresh_token"])


async def test_api_keys_and_their_tokens_are_not_revoked_here(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    client_id, client_secret = await api_key(api, admin, ["customer:read"])
    response = await api.http.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, client_secret)
    )
    access = response.json()["access_token"]
    for token in (access, client_secret):
        body = assert_oauth_error(
            await api.http.post(REVOKE, data={"token": token}), 400, "unsupported_token_type"
        )
        assert "apiKeyRevoke" in body["error_description"]
    assert "errors" not in await api(CUSTOMERS, headers=bearer(access))
    assert "errors" not in await api(CUSTOMERS, headers=bearer(client_secret))
    assert await audit_events(session, ENDED) == []


async def test_malformed_requests_get_rfc_errors(api: Api, session: AsyncSession) -> None:
    await make_user(session, "nils", ["staff"])
    signed = await password_grant(api, "nils")
    live = signed["refresh_token"]
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"content": ""}, 400, "invalid_request"),
        ({"data": {"token": ""}}, 400, "invalid_request"),
        ({"data": {"token_type_hint": "refresh_token"}}, 400, "invalid_request"),
        ({"data": {"token": live, "token_type_hint": "id_token"}}, 400, "unsupported_token_type"),
        ({"content": f"token={live}&token={live}"}, 400, "invalid_request"),
        ({"content": f"token={live}%00"}, 400, "invalid_request"),
        ({"content": f"token={live}%ED%A0%80"}, 400, "invalid_request"),  # a lone surrogate
        ({"content": "&".join(f"f{n}=1" for n in range(20))}, 400, "invalid_request"),
        ({"json": {"token": live}}, 415, "invalid_request"),
        ({"content": "token=" + "x" * 20_000}, 413, "invalid_request"),
    ]
    for request, status, error in cases:
        headers = {"Content-Type": FORM} if "content" in request else {}
        response = await api.http.post(REVOKE, headers=headers, **request)
        body = assert_oauth_error(response, status, error)
        assert "Traceback" not in body["error_description"]
    missing = await api.http.post(REVOKE, data={"token_type_hint": "access_token"})
    assert missing.json()["error_description"] == "token is required, once each"
    # none of them revoked anything
    assert await me(api, signed["access_token"]) == "nils"
    assert await audit_events(session, ENDED) == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_only_post_is_taken(api: Api, method: str) -> None:
    response = await api.http.request(method, REVOKE)
    body = assert_oauth_error(response, 405, "invalid_request")
    assert body["error_description"] == "/auth/revoke takes POST only"
    assert response.headers["allow"] == "POST"


async def test_an_unmigrated_or_missing_database_is_503(
    empty_database_url: URL, fresh_database_url: URL, over: Any
) -> None:
    for url in (empty_database_url, fresh_database_url.set(port=1)):
        http = await over(url)
        response = await http.post(REVOKE, data={"token": "some-token"})
        body = assert_oauth_error(response, 503, "temporarily_unavailable")
        assert body["error_description"] == "The database is unavailable; try again shortly."
        assert response.headers["retry-after"] == "5"
        assert_nothing_internal(response, url)
        assert "127.0.0.1" not in response.text


async def test_an_unexpected_database_error_is_500_server_error(
    fresh_database_url: URL, over: Any
) -> None:
    """Ending a session fails on a constraint the server knows nothing of."""
    with psycopg.connect(libpq_dsn(fresh_database_url), autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE audit_event ADD CONSTRAINT sessions_never_end"
            " CHECK (action <> 'auth.session_revoked') NOT VALID"
        )
    http = await over(fresh_database_url)
    settings = make_settings(fresh_database_url, bcrypt_rounds=4)
    engine = create_engine(fresh_database_url, settings)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await make_user(session, "olle", ["staff"])
    finally:
        await engine.dispose()
    signed = (await http.post(TOKEN, data={"username": "olle", "password": PASSWORD})).json()
    response = await http.post(REVOKE, data={"token": signed["refresh_token"]})
    body = assert_oauth_error(response, 500, "server_error")
    assert body["error_description"] == "Unexpected error."
    assert "sessions_never_end" not in response.text
    assert_nothing_internal(response, fresh_database_url)
    renewed = await http.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": signed["refresh_token"]}
    )
    assert renewed.status_code == 200  # rolled back: the session goes on


async def test_the_openapi_document_describes_revocation(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()
    revoke = document["paths"]["/auth/revoke"]["post"]
    form = revoke["requestBody"]["content"][FORM]["schema"]
    assert form["required"] == ["token"]
    assert form["properties"]["token_type_hint"]["enum"] == ["refresh_token", "access_token"]
    assert set(revoke["responses"]) == {"200", "400", "405", "413", "415", "500", "503"}
    assert (
        "unsupported_token_type" in document["components"]["responses"]["OAuthError"]["description"]
    )
