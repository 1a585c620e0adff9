"""User management through GraphQL: register (admin, self-signup), update, change
password, activate/deactivate, assign/remove roles; password rules; the last admin."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import URL, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from opsgraph.auth.principal import Principal
from opsgraph.graph.ids import to_global_id
from opsgraph.models import RefreshToken, User
from opsgraph.services import user as user_service
from opsgraph.services import user_account
from opsgraph.services.role import LastAdmin
from tests.resolvers.accounts import (
    PASSWORD,
    Api,
    Caller,
    MakeApi,
    admin,
    api,
    audit_events,
    count,
    make_api,
    make_user,
    sign_in,
    top_code,
)

__all__ = ["admin", "api", "make_api"]  # fixtures

REGISTER = """mutation($input: UserRegisterInput!) { userRegister(input: $input) {
  user { id username email fullName isActive roles { edges { node { name } } } }
  errors { code message field } } }"""
UPDATE = """mutation($input: UserUpdateInput!) { userUpdate(input: $input) {
  user { username email fullName } errors { code message field } } }"""
CHANGE_PASSWORD = """mutation($input: UserChangePasswordInput!) {
  userChangePassword(input: $input) { user { username } errors { code message field } } }"""
DEACTIVATE = """mutation($id: ID!) { userDeactivate(input: {id: $id}) {
  user { username isActive } errors { code message field } } }"""
ACTIVATE = """mutation($id: ID!) { userActivate(input: {id: $id}) {
  user { username isActive } errors { code message field } } }"""
ASSIGN = """mutation($user: ID!, $role: String!) {
  userAssignRole(input: {userId: $user, role: $role}) {
    user { roles { edges { node { name } } } } errors { code message field } } }"""
REMOVE = """mutation($user: ID!, $role: String!) {
  userRemoveRole(input: {userId: $user, role: $role}) {
    user { roles { edges { node { name } } } } errors { code message field } } }"""
ME = "{ me { username permissions } }"
REFRESH = """mutation($t: String!) { tokenRefresh(input: {refreshToken: $t}) {
  tokens { accessToken } errors { code } } }"""
LOGIN_FULL = """mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {
  tokens { accessToken refreshToken } errors { code } } }"""


def new_user(**overrides: Any) -> dict[str, Any]:
    return {"username": "bob", "email": "bob@example.com", "password": PASSWORD, **overrides}


def roles_of(user: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in user["roles"]["edges"]]


async def users(session: AsyncSession) -> int:
    return await count(session, User)


async def user_row(session: AsyncSession, user_id: int) -> Any:
    return (
        await session.execute(
            text(
                'SELECT username, email, full_name, is_active, password_hash FROM "user" '
                "WHERE id = :id"
            ),
            {"id": user_id},
        )
    ).one()


# --- userRegister -------------------------------------------------------------------------


async def test_admin_registers_a_user_with_the_default_role(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    data = await api.data(
        REGISTER, {"input": new_user(username="Bob", fullName=" Bob B ")}, token=admin.token
    )
    payload = data["userRegister"]
    assert payload["errors"] == []
    user = payload["user"]
    assert (user["username"], user["email"], user["fullName"], user["isActive"]) == (
        "bob",
        "bob@example.com",
        "Bob B",
        True,
    )
    assert roles_of(user) == ["staff"]
    assert await api.login("bob")  # the password works
    [event] = await audit_events(session, "user.create")
    assert event.actor_user_id == admin.id
    assert event.changes["roles"] == ["staff"]
    assert event.changes["self_signup"] is False
    assert PASSWORD not in str(event.changes)


async def test_admin_chooses_roles(api: Api, admin: Caller) -> None:
    data = await api.data(
        REGISTER,
        {"input": new_user(roles=["accountant", "support", "accountant"])},
        token=admin.token,
    )
    assert sorted(roles_of(data["userRegister"]["user"])) == ["accountant", "support"]
    none = await api.data(
        REGISTER,
        {"input": new_user(username="eve", email="e@example.com", roles=[])},
        token=admin.token,
    )
    assert roles_of(none["userRegister"]["user"]) == []


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"username": "root"}, "CONFLICT", ["username"]),
        ({"username": "ROOT"}, "CONFLICT", ["username"]),
        ({"email": "Root@Example.com"}, "CONFLICT", ["email"]),
        ({"username": "x"}, "BAD_USER_INPUT", ["username"]),
        ({"username": "bob smith"}, "BAD_USER_INPUT", ["username"]),
        ({"email": "not-an-address"}, "BAD_USER_INPUT", ["email"]),
        ({"fullName": "x" * 201}, "BAD_USER_INPUT", ["fullName"]),
        ({"roles": ["staff", "wizard"]}, "BAD_USER_INPUT", ["roles"]),
        ({"password": "short"}, "BAD_USER_INPUT", ["password"]),
        ({"password": "a" * 73}, "BAD_USER_INPUT", ["password"]),
        ({"password": "é" * 37}, "BAD_USER_INPUT", ["password"]),  # 37 characters, 74 bytes
    ],
)
async def test_register_refusals_change_nothing(
    api: Api,
    admin: Caller,
    session: AsyncSession,
    overrides: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    before = await users(session)
    data = await api.data(REGISTER, {"input": new_user(**overrides)}, token=admin.token)
    payload = data["userRegister"]
    assert payload["user"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, field), error
    assert await users(session) == before
    assert await audit_events(session, "user.create") == []


async def test_passwords_at_the_limits(api: Api, admin: Caller) -> None:
    for n, password in enumerate(["a" * 72, "é" * 36, "p" * 10, "ä" * 10]):  # 72, 72, 10, 10
        data = await api.data(
            REGISTER,
            {"input": new_user(username=f"u{n}", email=f"u{n}@example.com", password=password)},
            token=admin.token,
        )
        assert data["userRegister"]["errors"] == [], password
        assert await api.login(f"u{n}", password)
    message = (await api.data(REGISTER, {"input": new_user(password="a" * 73)}, token=admin.token))[
        "userRegister"
    ]["errors"][0]["message"]
    assert "72 bytes" in message


async def test_a_username_taken_meanwhile_is_a_conflict_too(
    api: Api, admin: Caller, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def nothing_found(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(user_service, "check_free", nothing_found)  # as if raced
    before = await users(session)
    for overrides, field in [
        ({"username": "root"}, "username"),
        ({"email": "root@example.com"}, "email"),
    ]:
        data = await api.data(REGISTER, {"input": new_user(**overrides)}, token=admin.token)
        [error] = data["userRegister"]["errors"]
        assert (error["code"], error["field"]) == ("CONFLICT", [field])
    assert await users(session) == before


async def test_register_needs_an_admin_when_self_signup_is_off(
    api: Api, session: AsyncSession
) -> None:
    staff = await sign_in(api, session, "sam", ["staff"])
    before = await users(session)
    assert top_code(await api(REGISTER, {"input": new_user()})) == "UNAUTHENTICATED"
    assert top_code(await api(REGISTER, {"input": new_user()}, token=staff.token)) == "FORBIDDEN"
    assert await users(session) == before


async def test_self_signup(make_api: MakeApi, session: AsyncSession) -> None:
    api = await make_api(self_signup=True)
    data = await api.data(REGISTER, {"input": new_user()})
    assert data["userRegister"]["errors"] == []
    assert roles_of(data["userRegister"]["user"]) == ["staff"]
    [event] = await audit_events(session, "user.create")
    assert (event.actor_user_id, event.changes["self_signup"]) == (None, True)
    # self-signup never chooses roles, not even the default one
    before = await users(session)
    for roles in (["admin"], ["staff"], []):
        refused = await api.data(
            REGISTER, {"input": new_user(username="mallory", email="m@example.com", roles=roles)}
        )
        [error] = refused["userRegister"]["errors"]
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", ["roles"])
    assert await users(session) == before
    # the password rules hold here too
    short = await api.data(
        REGISTER, {"input": new_user(username="m2", email="m2@x.se", password="x")}
    )
    assert short["userRegister"]["errors"][0]["field"] == ["password"]


async def test_an_admin_still_chooses_roles_with_self_signup_on(
    make_api: MakeApi, session: AsyncSession
) -> None:
    api = await make_api(self_signup=True)
    boss = await sign_in(api, session, "root", ["admin"])
    data = await api.data(REGISTER, {"input": new_user(roles=["accountant"])}, token=boss.token)
    assert data["userRegister"]["errors"] == []
    assert roles_of(data["userRegister"]["user"]) == ["accountant"]


# --- userUpdate ---------------------------------------------------------------------------


async def test_update_own_profile(api: Api, session: AsyncSession) -> None:
    sam = await sign_in(api, session, "sam", ["staff"])
    data = await api.data(
        UPDATE, {"input": {"email": "Sam@New.example", "fullName": "Sam S"}}, token=sam.token
    )
    assert data["userUpdate"] == {
        "user": {"username": "sam", "email": "sam@new.example", "fullName": "Sam S"},
        "errors": [],
    }
    [event] = await audit_events(session, "user.update")
    assert event.changes["email"] == {"from": "sam@example.com", "to": "sam@new.example"}
    assert event.actor_user_id == sam.id
    # nothing to change: no event
    await api.data(UPDATE, {"input": {"fullName": "Sam S"}}, token=sam.token)
    assert len(await audit_events(session, "user.update")) == 1


async def test_update_someone_else_needs_user_admin(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    sam = await sign_in(api, session, "sam", ["staff"])
    body = await api(UPDATE, {"input": {"id": admin.gid, "fullName": "pwned"}}, token=sam.token)
    assert top_code(body) == "FORBIDDEN"
    assert (await user_row(session, admin.id)).full_name == ""
    data = await api.data(UPDATE, {"input": {"id": sam.gid, "fullName": "Sam"}}, token=admin.token)
    assert data["userUpdate"]["user"]["fullName"] == "Sam"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"email": "root@example.com"}, "CONFLICT", ["email"]),
        ({"email": "nope"}, "BAD_USER_INPUT", ["email"]),
        ({"fullName": "x" * 201}, "BAD_USER_INPUT", ["fullName"]),
        ({"id": to_global_id("User", 10**9)}, "NOT_FOUND", ["id"]),
        ({"id": to_global_id("Role", 1)}, "BAD_USER_INPUT", ["id"]),
        ({"id": "garbage"}, "BAD_USER_INPUT", ["id"]),
    ],
)
async def test_update_refusals_change_nothing(
    api: Api,
    admin: Caller,
    session: AsyncSession,
    change: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    sam = await sign_in(api, session, "sam", ["staff"])
    before = await user_row(session, sam.id)
    data = await api.data(UPDATE, {"input": {"id": sam.gid, **change}}, token=admin.token)
    [error] = data["userUpdate"]["errors"]
    assert (error["code"], error["field"]) == (code, field)
    assert await user_row(session, sam.id) == before
    assert await audit_events(session, "user.update") == []


# --- userChangePassword --------------------------------------------------------------------


async def test_change_own_password(api: Api, session: AsyncSession) -> None:
    await make_user(session, "sam", ["staff"])
    here = (await api.data(LOGIN_FULL, {"u": "sam", "p": PASSWORD}))["login"]["tokens"]
    elsewhere = (await api.data(LOGIN_FULL, {"u": "sam", "p": PASSWORD}))["login"]["tokens"]
    new = "a brand new secret"
    data = await api.data(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": new}},
        token=here["accessToken"],
    )
    assert data["userChangePassword"] == {"user": {"username": "sam"}, "errors": []}
    assert await api.login("sam", new)
    failed = await api.data(LOGIN_FULL, {"u": "sam", "p": PASSWORD})
    assert failed["login"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    # this session goes on; the other one ended
    assert (await api.data(ME, token=here["accessToken"]))["me"]["username"] == "sam"
    assert top_code(await api(ME, token=elsewhere["accessToken"])) == "UNAUTHENTICATED"
    refreshed = await api.data(REFRESH, {"t": elsewhere["refreshToken"]})
    assert refreshed["tokenRefresh"]["errors"] == [{"code": "UNAUTHENTICATED"}]
    [event] = await audit_events(session, "user.password_change")
    assert event.changes["by_admin"] is False
    assert new not in str(event.changes)


@pytest.mark.parametrize(
    ("given", "code", "field"),
    [
        (
            {"currentPassword": "wrong password", "newPassword": "a brand new secret"},
            "INVALID_CREDENTIALS",
            ["currentPassword"],
        ),
        ({"newPassword": "a brand new secret"}, "BAD_USER_INPUT", ["currentPassword"]),
        ({"currentPassword": PASSWORD, "newPassword": "short"}, "BAD_USER_INPUT", ["newPassword"]),
        ({"currentPassword": PASSWORD, "newPassword": "b" * 73}, "BAD_USER_INPUT", ["newPassword"]),
        ({"currentPassword": PASSWORD, "newPassword": "ö" * 40}, "BAD_USER_INPUT", ["newPassword"]),
    ],
)
async def test_change_password_refusals_change_nothing(
    api: Api, session: AsyncSession, given: dict[str, Any], code: str, field: list[str]
) -> None:
    sam = await sign_in(api, session, "sam", ["staff"])
    before = await user_row(session, sam.id)
    data = await api.data(CHANGE_PASSWORD, {"input": given}, token=sam.token)
    assert data["userChangePassword"]["user"] is None
    [error] = data["userChangePassword"]["errors"]
    assert (error["code"], error["field"]) == (code, field)
    assert await user_row(session, sam.id) == before
    assert await api.login("sam")
    assert (await api.data(ME, token=sam.token))["me"]["username"] == "sam"


async def test_admin_sets_another_users_password(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    sam = await sign_in(api, session, "sam", ["staff"])
    body = await api(
        CHANGE_PASSWORD, {"input": {"id": admin.gid, "newPassword": "taken over!"}}, token=sam.token
    )
    assert top_code(body) == "FORBIDDEN"
    data = await api.data(
        CHANGE_PASSWORD,
        {"input": {"id": sam.gid, "newPassword": "set by the admin"}},
        token=admin.token,
    )
    assert data["userChangePassword"]["errors"] == []
    assert await api.login("sam", "set by the admin")
    assert top_code(await api(ME, token=sam.token)) == "UNAUTHENTICATED"  # all sessions ended
    [event] = await audit_events(session, "user.password_change")
    assert (event.actor_user_id, event.entity_id, event.changes["by_admin"]) == (
        admin.id,
        sam.id,
        True,
    )


# --- userActivate / userDeactivate -------------------------------------------------------


async def test_deactivation_stops_a_token_on_the_next_request(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    await make_user(session, "sam", ["staff"])
    tokens = (await api.data(LOGIN_FULL, {"u": "sam", "p": PASSWORD}))["login"]["tokens"]
    assert (await api.data(ME, token=tokens["accessToken"]))["me"]["username"] == "sam"
    sam_gid = to_global_id(
        "User", (await session.scalar(select(User.id).where(User.username == "sam"))) or 0
    )
    data = await api.data(DEACTIVATE, {"id": sam_gid}, token=admin.token)
    assert data["userDeactivate"] == {
        "user": {"username": "sam", "isActive": False},
        "errors": [],
    }
    assert top_code(await api(ME, token=tokens["accessToken"])) == "UNAUTHENTICATED"
    refreshed = await api.data(REFRESH, {"t": tokens["refreshToken"]})
    assert refreshed["tokenRefresh"]["errors"] == [{"code": "UNAUTHENTICATED"}]
    live = await count(session, RefreshToken, RefreshToken.revoked_at.is_(None))
    assert live == 1  # the admin's own
    [event] = await audit_events(session, "user.deactivate")
    assert (event.actor_user_id, event.changes["username"]) == (admin.id, "sam")
    # again: a typed error, nothing changes
    again = await api.data(DEACTIVATE, {"id": sam_gid}, token=admin.token)
    assert again["userDeactivate"]["errors"][0]["code"] == "INVALID_STATE"
    assert len(await audit_events(session, "user.deactivate")) == 1
    # activated: signs in again
    back = await api.data(ACTIVATE, {"id": sam_gid}, token=admin.token)
    assert back["userActivate"]["user"] == {"username": "sam", "isActive": True}
    assert await api.login("sam")
    assert len(await audit_events(session, "user.activate")) == 1
    twice = await api.data(ACTIVATE, {"id": sam_gid}, token=admin.token)
    assert twice["userActivate"]["errors"][0]["code"] == "INVALID_STATE"


async def test_activation_needs_user_admin(api: Api, admin: Caller, session: AsyncSession) -> None:
    sam = await sign_in(api, session, "sam", ["staff"])
    assert top_code(await api(DEACTIVATE, {"id": admin.gid}, token=sam.token)) == "FORBIDDEN"
    assert (await user_row(session, admin.id)).is_active is True
    unknown = await api.data(DEACTIVATE, {"id": to_global_id("User", 10**9)}, token=admin.token)
    assert unknown["userDeactivate"]["errors"][0]["code"] == "NOT_FOUND"


async def test_the_last_admin_stays(api: Api, admin: Caller, session: AsyncSession) -> None:
    data = await api.data(DEACTIVATE, {"id": admin.gid}, token=admin.token)
    [error] = data["userDeactivate"]["errors"]
    assert error["code"] == "LAST_ADMIN"
    removed = await api.data(REMOVE, {"user": admin.gid, "role": "admin"}, token=admin.token)
    assert removed["userRemoveRole"]["errors"][0]["code"] == "LAST_ADMIN"
    assert (await user_row(session, admin.id)).is_active is True
    assert "user:admin" in (await api.data(ME, token=admin.token))["me"]["permissions"]
    # with a second admin, either can go
    other = await sign_in(api, session, "second", ["admin"])
    gone = await api.data(DEACTIVATE, {"id": admin.gid}, token=other.token)
    assert gone["userDeactivate"]["errors"] == []
    last = await api.data(REMOVE, {"user": other.gid, "role": "admin"}, token=other.token)
    assert last["userRemoveRole"]["errors"][0]["code"] == "LAST_ADMIN"


async def test_two_admins_cannot_deactivate_each_other_at_once(fresh_database_url: URL) -> None:
    engine = create_async_engine(fresh_database_url, poolclass=NullPool)
    try:
        ids = []
        async with AsyncSession(engine) as session, session.begin():
            for name in ("ann", "ben"):
                ids.append(await make_user(session, name, ["admin"]))
        everything = frozenset({"user:admin"})
        actors = [Principal(ids[0], "ann", everything), Principal(ids[1], "ben", everything)]

        async def deactivate(actor: Principal, target: int) -> str:
            try:
                async with AsyncSession(engine) as session, session.begin():
                    await user_account.set_user_active(
                        session, user_id=target, active=False, actor=actor
                    )
                    await asyncio.sleep(0.2)  # hold the transaction open: the other one waits
            except LastAdmin:
                return "refused"
            return "done"

        outcomes = await asyncio.gather(
            deactivate(actors[0], ids[1]), deactivate(actors[1], ids[0])
        )
        assert sorted(outcomes) == ["done", "refused"]
        async with AsyncSession(engine) as session:
            active = await session.scalar(
                select(text("count(*)")).select_from(User).where(User.is_active.is_(True))
            )
        assert active == 1
    finally:
        await engine.dispose()


# --- userAssignRole / userRemoveRole ---------------------------------------------------------


async def test_assign_and_remove_a_role(api: Api, admin: Caller, session: AsyncSession) -> None:
    sam = await sign_in(api, session, "sam", ["support"])
    assert "invoice:read" not in (await api.data(ME, token=sam.token))["me"]["permissions"]
    data = await api.data(ASSIGN, {"user": sam.gid, "role": "Accountant"}, token=admin.token)
    assert data["userAssignRole"]["errors"] == []
    assert sorted(roles_of(data["userAssignRole"]["user"])) == ["accountant", "support"]
    # effective on the next request, same token
    assert "invoice:read" in (await api.data(ME, token=sam.token))["me"]["permissions"]
    removed = await api.data(REMOVE, {"user": sam.gid, "role": "accountant"}, token=admin.token)
    assert roles_of(removed["userRemoveRole"]["user"]) == ["support"]
    assert "invoice:read" not in (await api.data(ME, token=sam.token))["me"]["permissions"]
    [assigned] = await audit_events(session, "user.role_assign")
    [taken] = await audit_events(session, "user.role_remove")
    for event in (assigned, taken):
        assert (event.actor_user_id, event.entity_id, event.changes["role"]) == (
            admin.id,
            sam.id,
            "accountant",
        )


@pytest.mark.parametrize(
    ("mutation", "role", "code"),
    [
        (ASSIGN, "wizard", "NOT_FOUND"),
        (ASSIGN, "support", "CONFLICT"),
        (REMOVE, "wizard", "NOT_FOUND"),
        (REMOVE, "accountant", "INVALID_STATE"),
    ],
)
async def test_role_assignment_refusals_change_nothing(
    api: Api, admin: Caller, session: AsyncSession, mutation: str, role: str, code: str
) -> None:
    sam = await sign_in(api, session, "sam", ["support"])
    body = await api.data(mutation, {"user": sam.gid, "role": role}, token=admin.token)
    [payload] = body.values()
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, ["role"])
    me = await api.data("{ me { roles { edges { node { name } } } } }", token=sam.token)
    assert roles_of(me["me"]) == ["support"]
    assert await audit_events(session, "user.role_assign") == []
    assert await audit_events(session, "user.role_remove") == []


async def test_role_assignment_needs_user_admin(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    sam = await sign_in(api, session, "sam", ["staff"])
    body = await api(ASSIGN, {"user": sam.gid, "role": "admin"}, token=sam.token)
    assert top_code(body) == "FORBIDDEN"
    assert "user:admin" not in (await api.data(ME, token=sam.token))["me"]["permissions"]
    nobody = await api.data(
        ASSIGN, {"user": to_global_id("User", 10**9), "role": "staff"}, token=admin.token
    )
    assert nobody["userAssignRole"]["errors"][0]["field"] == ["userId"]


# --- operators: create-admin and the bootstrap admin ----------------------------------------


async def test_create_admin_follows_the_settings_and_is_audited(
    session: AsyncSession, database_url: URL
) -> None:
    from opsgraph.errors import InvalidInput
    from tests.conftest import make_settings

    settings = make_settings(database_url, bcrypt_rounds=4, password_min_length=16)
    with pytest.raises(InvalidInput) as refused:
        await user_service.create_admin(
            session,
            username="boss",
            email="boss@example.com",
            password="fifteen chars!!",
            settings=settings,
            via="cli",
        )
    assert refused.value.field == ["password"]
    made = await user_service.create_admin(
        session,
        username="boss",
        email="boss@example.com",
        password="sixteen chars!!!",
        settings=settings,
        via="cli",
    )
    assert made.password_hash.startswith("$2b$04$")
    [event] = await audit_events(session, "user.create")
    assert (event.entity_id, event.changes["roles"], event.changes["by"]) == (
        made.id,
        ["admin"],
        "cli",
    )


# --- password rules and the service without the guard in front ------------------------------


def test_password_rules() -> None:
    from opsgraph.auth.passwords import (
        PasswordRejected,
        check_password,
        hash_password,
        verify_password,
    )

    for bad in ("short", "x" * 73, "\ud800" * 12, "nul\x00nul\x00nul"):
        with pytest.raises(PasswordRejected):
            check_password(bad, min_length=10)
    hashed = hash_password("x" * 72, rounds=4)
    assert verify_password("x" * 72, hashed)
    assert not verify_password("x" * 73, hashed)  # never truncated to match
    assert not verify_password("\ud800", hashed)
    assert not verify_password("x", "not a bcrypt hash")


async def test_register_service_refuses_without_the_guard(
    session: AsyncSession, database_url: URL
) -> None:
    from opsgraph.errors import Forbidden, Unauthenticated
    from tests.conftest import make_settings

    settings = make_settings(database_url, bcrypt_rounds=4)
    staff = Principal(1, "sam", frozenset({"customer:read"}))
    fields: dict[str, Any] = {"username": "bob", "email": "b@example.com", "password": PASSWORD}
    with pytest.raises(Unauthenticated):
        await user_service.register_user(session, **fields, actor=None, settings=settings)
    with pytest.raises(Forbidden):
        await user_service.register_user(session, **fields, actor=staff, settings=settings)
    assert await users(session) == 0
