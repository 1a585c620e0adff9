"""API keys: created with a secret shown once, accepted as `Authorization: Bearer` and as
`Client-Secret`, never beyond the creator's permissions, revoked, listed without secrets,
lastUsedAt kept, audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.tokens import hash_secret
from opsgraph.graph.ids import to_global_id
from opsgraph.models import ApiKey
from tests.resolvers.accounts import (
    Api,
    Caller,
    admin,
    api,
    audit_events,
    count,
    make_api,
    sign_in,
    top_code,
)

__all__ = ["admin", "api", "make_api"]  # fixtures

CREATE = """mutation($name: String!, $scopes: [String!]!) {
  apiKeyCreate(input: {name: $name, scopes: $scopes}) {
    secret apiKey { id name prefix scopes createdAt lastUsedAt revokedAt createdBy { username } }
    errors { code message field } } }"""
REVOKE = """mutation($id: ID!) { apiKeyRevoke(input: {id: $id}) {
  apiKey { id revokedAt } errors { code message field } } }"""
LIST = """{ apiKeys { id name prefix scopes createdAt lastUsedAt revokedAt
  createdBy { username } } }"""
ME = "{ me { username permissions } }"
CUSTOMERS = "{ customers(first: 1) { totalCount } }"
INVOICES = "{ invoices(first: 1) { totalCount } }"
TICKETS = "{ tickets(first: 1) { totalCount } }"


def key_headers(secret: str, how: str) -> dict[str, str]:
    if how == "bearer":
        return {"Authorization": f"Bearer {secret}"}
    return {"Client-Secret": secret}


async def create_key(api: Api, caller: Caller, scopes: list[str], name: str = "ERP") -> Any:
    data = await api.data(CREATE, {"name": name, "scopes": scopes}, token=caller.token)
    payload = data["apiKeyCreate"]
    assert payload["errors"] == [], payload
    return payload


async def key_row(session: AsyncSession, prefix: str) -> Any:
    return (
        await session.execute(text("SELECT * FROM api_key WHERE prefix = :p"), {"p": prefix})
    ).one()


async def test_create_shows_the_secret_once(api: Api, admin: Caller, session: AsyncSession) -> None:
    payload = await create_key(api, admin, ["customer:read", "invoice:read"], name=" ERP sync ")
    secret, key = payload["secret"], payload["apiKey"]
    assert secret.startswith(f"og_{key['prefix']}_")
    assert len(key["prefix"]) == 10
    assert (key["name"], key["scopes"], key["lastUsedAt"], key["revokedAt"]) == (
        "ERP sync",
        ["customer:read", "invoice:read"],
        None,
        None,
    )
    assert key["createdBy"] == {"username": "root"}
    row = await key_row(session, key["prefix"])
    assert row.secret_hash == hash_secret(secret.split("_", 2)[2])
    assert secret not in str(tuple(row))
    listed = await api(LIST, token=admin.token)
    assert secret.split("_", 2)[2] not in str(listed)
    assert [k["id"] for k in listed["data"]["apiKeys"]] == [key["id"]]
    [event] = await audit_events(session, "api_key.create")
    assert (event.actor_user_id, event.entity_id) == (admin.id, row.id)
    assert event.changes == {
        "name": "ERP sync",
        "prefix": key["prefix"],
        "scopes": ["customer:read", "invoice:read"],
    }


@pytest.mark.parametrize("how", ["bearer", "client-secret"])
async def test_a_key_authenticates_with_its_scopes_only(api: Api, admin: Caller, how: str) -> None:
    secret = (await create_key(api, admin, ["customer:read"]))["secret"]
    headers = key_headers(secret, how)
    me = await api.data("{ me { username } }", headers=headers)
    assert me["me"] == {"username": "root"}  # a key acts for its creator...
    assert (await api.data(CUSTOMERS, headers=headers))["customers"]["totalCount"] == 0
    assert top_code(await api(INVOICES, headers=headers)) == "FORBIDDEN"  # ...within its scopes
    # a key has no signed-in session to end
    out = await api.data("mutation { logout { ok errors { code } } }", headers=headers)
    assert out["logout"] == {"ok": False, "errors": [{"code": "BAD_REQUEST"}]}


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer og_AAAAAAAAAA_" + "x" * 43},  # unknown prefix
        {"Client-Secret": "og_AAAAAAAAAA_" + "x" * 43},
        {"Client-Secret": "og_bad"},
        {"Client-Secret": "not a key"},
        {"Client-Secret": ""},
        {"Authorization": "Bearer og_"},
    ],
)
async def test_bad_keys_are_unauthenticated(
    api: Api, admin: Caller, headers: dict[str, str]
) -> None:
    assert top_code(await api(ME, headers=headers)) == "UNAUTHENTICATED"


async def test_wrong_secret_inactive_creator_and_two_credentials(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    sam = await sign_in(api, session, "sam", ["integration"])
    secret = (await create_key(api, sam, ["customer:read"]))["secret"]
    wrong = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    assert top_code(await api(ME, headers=key_headers(wrong, "bearer"))) == "UNAUTHENTICATED"
    both = {"Client-Secret": secret, "Authorization": f"Bearer {sam.token}"}
    assert top_code(await api(ME, headers=both)) == "UNAUTHENTICATED"
    # a JWT is no client secret
    assert top_code(await api(ME, headers={"Client-Secret": sam.token})) == "UNAUTHENTICATED"
    assert (await api.data(ME, headers=key_headers(secret, "client")))["me"]["username"] == "sam"
    await session.execute(
        text('UPDATE "user" SET is_active = false WHERE id = :id'), {"id": sam.id}
    )
    assert top_code(await api(ME, headers=key_headers(secret, "client"))) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("name", "scopes", "field", "named"),
    [
        (
            "ERP",
            ["customer:read", "user:admin", "role:write"],
            ["scopes"],
            "role:write, user:admin",
        ),
        ("ERP", ["customer:read", "customer:destroy"], ["scopes"], "customer:destroy"),
        ("ERP", [], ["scopes"], "at least one"),
        ("  ", ["customer:read"], ["name"], ""),
        ("n" * 101, ["customer:read"], ["name"], ""),
    ],
)
async def test_create_refusals_change_nothing(
    api: Api,
    session: AsyncSession,
    name: str,
    scopes: list[str],
    field: list[str],
    named: str,
) -> None:
    partner = await sign_in(api, session, "partner", ["integration"])
    data = await api.data(CREATE, {"name": name, "scopes": scopes}, token=partner.token)
    payload = data["apiKeyCreate"]
    assert (payload["apiKey"], payload["secret"]) == (None, None)
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    assert named in error["message"]
    assert await count(session, ApiKey) == 0
    assert await audit_events(session, "api_key.create") == []


async def test_keys_need_api_key_permissions_and_a_signed_in_user(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    staff = await sign_in(api, session, "sam", ["staff"])
    body = await api(CREATE, {"name": "x", "scopes": ["customer:read"]}, token=staff.token)
    assert top_code(body) == "FORBIDDEN"
    assert top_code(await api(LIST, token=staff.token)) == "FORBIDDEN"
    assert top_code(await api(LIST)) == "UNAUTHENTICATED"
    # a key, even one scoped for it, creates no keys: a leaked key can't outlive its revocation
    secret = (await create_key(api, admin, ["api_key:write", "customer:read"]))["secret"]
    body = await api(
        CREATE, {"name": "x", "scopes": ["customer:read"]}, headers=key_headers(secret, "bearer")
    )
    assert top_code(body) == "FORBIDDEN"
    assert await count(session, ApiKey) == 1


async def test_a_key_shrinks_when_its_creator_loses_a_role(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    partner = await sign_in(api, session, "partner", ["integration", "support"])
    secret = (await create_key(api, partner, ["customer:read", "ticket:read"]))["secret"]
    headers = key_headers(secret, "client")
    assert (await api.data(TICKETS, headers=headers))["tickets"]["totalCount"] == 0
    removed = await api.data(
        """mutation($u: ID!) { userRemoveRole(input: {userId: $u, role: "support"}) {
        errors { code } } }""",
        {"u": partner.gid},
        token=admin.token,
    )
    assert removed["userRemoveRole"]["errors"] == []
    assert top_code(await api(TICKETS, headers=headers)) == "FORBIDDEN"
    assert (await api.data(CUSTOMERS, headers=headers))["customers"]["totalCount"] == 0
    # the stored scopes are as created: given the role back, the key can again
    listed = await api.data(LIST, token=partner.token)
    assert listed["apiKeys"][0]["scopes"] == ["customer:read", "ticket:read"]


async def test_revoke(api: Api, admin: Caller, session: AsyncSession) -> None:
    partner = await sign_in(api, session, "partner", ["integration"])
    other = await sign_in(api, session, "other", ["integration"])
    key = await create_key(api, partner, ["customer:read"])
    headers = key_headers(key["secret"], "bearer")
    assert (await api.data(ME, headers=headers))["me"]["username"] == "partner"
    # not another user's key (without user:admin it does not exist for them)
    theirs = await api.data(REVOKE, {"id": key["apiKey"]["id"]}, token=other.token)
    assert theirs["apiKeyRevoke"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await api.data(ME, headers=headers))["me"]["username"] == "partner"
    data = await api.data(REVOKE, {"id": key["apiKey"]["id"]}, token=partner.token)
    assert data["apiKeyRevoke"]["errors"] == []
    assert data["apiKeyRevoke"]["apiKey"]["revokedAt"] is not None
    assert top_code(await api(ME, headers=headers)) == "UNAUTHENTICATED"
    again = await api.data(REVOKE, {"id": key["apiKey"]["id"]}, token=partner.token)
    assert again["apiKeyRevoke"]["errors"][0]["code"] == "INVALID_STATE"
    unknown = await api.data(REVOKE, {"id": to_global_id("ApiKey", 10**9)}, token=partner.token)
    assert unknown["apiKeyRevoke"]["errors"][0]["field"] == ["id"]
    [event] = await audit_events(session, "api_key.revoke")
    assert (event.actor_user_id, event.actor_api_key_id) == (partner.id, None)
    # an admin revokes anyone's key, here acting with a key of its own
    second = await create_key(api, other, ["customer:read"])
    admin_key = (await create_key(api, admin, ["api_key:write", "user:admin"]))["secret"]
    by_key = await api.data(
        REVOKE, {"id": second["apiKey"]["id"]}, headers=key_headers(admin_key, "client")
    )
    assert by_key["apiKeyRevoke"]["errors"] == []
    last = (await audit_events(session, "api_key.revoke"))[-1]
    admin_key_id = await session.scalar(select(ApiKey.id).where(ApiKey.created_by == admin.id))
    assert (last.actor_user_id, last.actor_api_key_id) == (admin.id, admin_key_id)


async def test_listing_own_keys_or_all_with_user_admin(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    partner = await sign_in(api, session, "partner", ["integration"])
    mine = await create_key(api, partner, ["customer:read"], name="mine")
    await create_key(api, admin, ["customer:read"], name="admin's")
    own = await api.data(LIST, token=partner.token)
    assert [k["name"] for k in own["apiKeys"]] == ["mine"]
    assert own["apiKeys"][0]["createdBy"] == {"username": "partner"}
    assert own["apiKeys"][0]["prefix"] == mine["apiKey"]["prefix"]
    every = await api.data(LIST, token=admin.token)
    assert [k["name"] for k in every["apiKeys"]] == ["mine", "admin's"]
    assert "secret" not in str(every).lower()


async def test_last_used_at_is_kept_without_a_write_per_request(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    key = await create_key(api, admin, ["customer:read"])
    headers = key_headers(key["secret"], "bearer")
    prefix = key["apiKey"]["prefix"]
    await api.data(ME, headers=headers)
    first = (await key_row(session, prefix)).last_used_at
    assert first is not None
    # within the minute: not written again
    await session.execute(
        text("UPDATE api_key SET last_used_at = now() - interval '30 seconds' WHERE prefix = :p"),
        {"p": prefix},
    )
    recent = (await key_row(session, prefix)).last_used_at
    await api.data(ME, headers=headers)
    assert (await key_row(session, prefix)).last_used_at == recent
    # older than a minute: brought up to date
    await session.execute(
        text("UPDATE api_key SET last_used_at = now() - interval '2 minutes' WHERE prefix = :p"),
        {"p": prefix},
    )
    stale = (await key_row(session, prefix)).last_used_at
    await api.data(ME, headers=headers)
    assert (await key_row(session, prefix)).last_used_at > stale
    listed = await api.data(LIST, token=admin.token)
    assert listed["apiKeys"][0]["lastUsedAt"] is not None
