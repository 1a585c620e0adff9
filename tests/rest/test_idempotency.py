"""Idempotency-Key on mutation requests: a repeat gets the stored response and changes
nothing; other input with the same key is refused; a repeat during the first waits or is
told so; keys are per caller and expire."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import URL, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.app import create_app
from opsgraph.db import libpq_dsn
from opsgraph.models import AuditEvent, IdempotencyKey, Role
from tests.conftest import LiveApi, create_and_sign_in, make_settings

CREATE_ROLE = """mutation($name: String!) {
  roleCreate(input: {name: $name, permissions: ["customer:read"]}) {
    role { id name } errors { code message field } } }"""


async def post(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | bytes | None,
    **headers: str,
) -> httpx.Response:
    sent: dict[str, str | bytes] = dict(headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    return await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
    )


async def roles_named(session: AsyncSession, prefix: str) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Role).where(Role.name.like(f"{prefix}%"))
        )
        or 0
    )


async def test_a_repeat_gets_the_stored_response_and_runs_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    first = await post(client, CREATE_ROLE, {"name": "repeat-me"}, key="key-1")
    assert first.status_code == 200
    assert first.json()["data"]["roleCreate"]["errors"] == []
    assert "idempotent-replayed" not in first.headers
    events = await session.scalar(select(func.count()).select_from(AuditEvent))

    again = await post(client, CREATE_ROLE, {"name": "repeat-me"}, key="key-1")
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()  # the same role id, no DUPLICATE error
    assert await roles_named(session, "repeat-me") == 1
    assert await session.scalar(select(func.count()).select_from(AuditEvent)) == events

    # without the key the same request runs again, and the rule refuses it
    plain = await post(client, CREATE_ROLE, {"name": "repeat-me"}, key=None)
    assert plain.json()["data"]["roleCreate"]["errors"][0]["code"] == "CONFLICT"


async def test_a_failed_mutation_is_stored_too(client: httpx.AsyncClient) -> None:
    """Expected failures are a response like any other: the repeat gets the same errors."""
    bad = {"name": "x"}  # too short
    first = await post(client, CREATE_ROLE, bad, key="key-bad")
    assert first.json()["data"]["roleCreate"]["errors"][0]["code"] == "BAD_USER_INPUT"
    again = await post(client, CREATE_ROLE, bad, key="key-bad")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


async def test_the_same_key_with_other_input_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await post(client, CREATE_ROLE, {"name": "first-input"}, key="key-2")
    other = await post(client, CREATE_ROLE, {"name": "second-input"}, key="key-2")
    assert other.status_code == 422
    [error] = other.json()["errors"]
    assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await roles_named(session, "second-input") == 0
    # another operation name or document with the key is other input as well
    renamed = CREATE_ROLE.replace("mutation(", "mutation Named(")
    refused = await post(client, renamed, {"name": "first-input"}, key="key-2")
    assert refused.status_code == 422


async def test_keys_are_per_caller(
    client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    other = await create_and_sign_in(anon_client, session_factory, "other-admin", ["admin"])
    mine = await post(client, CREATE_ROLE, {"name": "per-caller"}, key="shared-key")
    assert mine.json()["data"]["roleCreate"]["errors"] == []
    theirs = await post(anon_client, CREATE_ROLE, {"name": "per-caller"}, key="shared-key", **other)
    # not a replay of the first caller's response: it ran, and the name is taken
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["data"]["roleCreate"]["errors"][0]["code"] == "CONFLICT"
    scopes = await session.scalars(
        select(IdempotencyKey.scope).where(IdempotencyKey.key == "shared-key")
    )
    assert len(set(scopes.all())) == 2


async def test_an_expired_key_runs_again(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await post(client, CREATE_ROLE, {"name": "expiring"}, key="key-3")
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == "key-3")
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    again = await post(client, CREATE_ROLE, {"name": "expiring"}, key="key-3")
    assert "idempotent-replayed" not in again.headers
    assert again.json()["data"]["roleCreate"]["errors"][0]["code"] == "CONFLICT"
    row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "key-3"))
    assert row is not None
    assert row.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(hours=23)


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "tab\there", "é".encode("latin-1")])
async def test_a_malformed_key_is_a_400(
    client: httpx.AsyncClient, session: AsyncSession, key: str | bytes
) -> None:
    response = await post(client, CREATE_ROLE, {"name": "malformed"}, key=key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert await roles_named(session, "malformed") == 0


async def test_the_longest_key_is_fine(client: httpx.AsyncClient) -> None:
    response = await post(client, CREATE_ROLE, {"name": "long-key"}, key="k" * 255)
    assert response.json()["data"]["roleCreate"]["errors"] == []


async def test_queries_anonymous_callers_and_request_errors_leave_no_key(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    query = await post(client, "{ permissions }", key="q-key")
    assert query.status_code == 200
    assert "idempotent-replayed" not in query.headers
    anonymous = await post(anon_client, CREATE_ROLE, {"name": "anon"}, key="anon-key")
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    invalid = await post(client, "mutation { roleCreate }", key="invalid-key")
    assert "errors" in invalid.json()
    keys = await session.scalars(select(IdempotencyKey.key))
    assert set(keys.all()) == set()
    # the key of the request error is still free for a real request
    fine = await post(client, CREATE_ROLE, {"name": "after-error"}, key="invalid-key")
    assert fine.json()["data"]["roleCreate"]["errors"] == []


async def test_a_dry_run_in_a_request_with_a_key(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Savepoints of the request's transaction: a dry run's changes are gone, the real
    mutation of the same document is kept, and the repeat replays both."""
    both = """mutation {
      a: roleCreate(input: {name: "kept-role", permissions: []}) { role { name } errors { code } }
      b: roleCreate(input: {name: "kept-role", permissions: []}) { role { name } errors { code } }
    }"""
    first = await post(client, both, key="two-in-one")
    assert first.json()["data"]["a"]["errors"] == []
    assert first.json()["data"]["b"]["errors"][0]["code"] == "CONFLICT"
    assert await roles_named(session, "kept-role") == 1
    again = await post(client, both, key="two-in-one")
    assert again.json() == first.json()


# --- with real parallel connections ----------------------------------------------------


async def test_a_repeat_while_the_first_runs_waits_then_is_told(
    fresh_database_url: URL,
) -> None:
    """A key whose first request has not committed: the repeat waits (here 0.3 s), then
    gets 409 IDEMPOTENCY_IN_PROGRESS; once the first is gone, the key works."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(fresh_database_url, pool_size=5)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    app = create_app(
        make_settings(fresh_database_url, idempotency_wait_seconds=0.3), session_factory=factory
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            headers = await create_and_sign_in(http, factory, "waiter", ["admin"])
            async with factory() as session:
                user_id = await session.scalar(
                    text("SELECT id FROM \"user\" WHERE username='waiter'")
                )
            # another request holds the key: its row is inserted and not yet committed
            with psycopg.connect(libpq_dsn(fresh_database_url)) as holder:
                holder.execute(
                    "INSERT INTO idempotency_key (scope, key, request_hash, response, expires_at) "
                    "VALUES (%s, 'busy', 'x', '{}', now() + interval '1 hour')",
                    (f"user:{user_id}",),
                )
                busy = await post(http, CREATE_ROLE, {"name": "busy"}, key="busy", **headers)
                assert busy.status_code == 409
                assert busy.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
                holder.rollback()  # the first request failed: nothing was kept under the key
            done = await post(http, CREATE_ROLE, {"name": "busy"}, key="busy", **headers)
            assert done.status_code == 200
            assert done.json()["data"]["roleCreate"]["errors"] == []
    finally:
        await engine.dispose()


async def test_fifty_identical_requests_at_once_run_once(live: LiveApi) -> None:
    """All 50 are sent together: one runs, the others wait for it and get its response."""
    responses = await asyncio.gather(
        *(
            post(live.http, CREATE_ROLE, {"name": "fifty"}, key="fifty-key", **live.headers)
            for _ in range(50)
        )
    )
    assert {r.status_code for r in responses} == {200}
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["data"]["roleCreate"]["errors"] == []
    assert sum("idempotent-replayed" in r.headers for r in responses) == 49
    async with live.session_factory() as session:
        assert await roles_named(session, "fifty") == 1
        events = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "role.create")
        )
        assert events == 1


async def test_an_api_key_has_keys_of_its_own(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    made = await client.post(
        "/graphql",
        json={
            "query": """mutation { apiKeyCreate(input: {name: "erp",
                scopes: ["role:write", "customer:read"]}) { secret errors { code } } }"""
        },
    )
    secret = made.json()["data"]["apiKeyCreate"]["secret"]
    with_key = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as integration:
        first = await post(integration, CREATE_ROLE, {"name": "by-key"}, key="k1", **with_key)
        again = await post(integration, CREATE_ROLE, {"name": "by-key"}, key="k1", **with_key)
    assert first.json()["data"]["roleCreate"]["errors"] == []
    assert again.headers["idempotent-replayed"] == "true"
    scope = await session.scalar(select(IdempotencyKey.scope).where(IdempotencyKey.key == "k1"))
    assert scope is not None
    assert scope.startswith("api_key:")


async def test_which_operation_of_a_document_counts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    document = f"query Read {{ permissions }} {CREATE_ROLE.replace('mutation(', 'mutation Make(')}"
    read = await client.post(
        "/graphql",
        json={"query": document, "operationName": "Read"},
        headers={"Idempotency-Key": "doc-key"},
    )
    assert "permissions" in read.json()["data"]
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    make = await client.post(
        "/graphql",
        json={"query": document, "operationName": "Make", "variables": {"name": "made"}},
        headers={"Idempotency-Key": "doc-key"},
    )
    assert make.json()["data"]["roleCreate"]["errors"] == []
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


async def test_bad_documents_and_bad_credentials_keep_no_key(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    broken = await post(client, "mutation { roleCreate(", key="broken")
    assert broken.json()["errors"][0]["message"].startswith("Syntax Error")
    stale = await post(
        anon_client, CREATE_ROLE, {"name": "stale"}, key="stale", Authorization="Bearer nope"
    )
    assert stale.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


async def test_expired_keys_of_anyone_are_cleared_on_the_way(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    for index in range(3):
        session.add(
            IdempotencyKey(
                scope="user:999999",
                key=f"old-{index}",
                request_hash="x",
                response={},
                expires_at=past,
            )
        )
    session.add(
        IdempotencyKey(
            scope="user:999999", key="young", request_hash="x", response={}, expires_at=later
        )
    )
    await session.flush()
    await post(client, CREATE_ROLE, {"name": "sweeper"}, key="sweep")
    left = await session.scalars(
        select(IdempotencyKey.key).where(IdempotencyKey.scope == "user:999999")
    )
    assert left.all() == ["young"]
