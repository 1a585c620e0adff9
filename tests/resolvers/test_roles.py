"""Roles and permissions through GraphQL: permissions, roleCreate, roleUpdate, roleDelete;
what a role:write holder may grant; built-in roles; audit events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.permissions import BUILTIN_ROLES, PERMISSIONS
from opsgraph.graph.ids import to_global_id
from opsgraph.models import Role, RolePermission
from opsgraph.services.role import ensure_builtin_roles
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

CREATE = """mutation($input: RoleCreateInput!) { roleCreate(input: $input) {
  role { id name description permissions } errors { code message field } } }"""
UPDATE = """mutation($input: RoleUpdateInput!) { roleUpdate(input: $input) {
  role { id name description permissions } errors { code message field } } }"""
DELETE = """mutation($id: ID!) { roleDelete(input: {id: $id}) {
  deletedId errors { code message field } } }"""
ASSIGN = """mutation($user: ID!, $role: String!) {
  userAssignRole(input: {userId: $user, role: $role}) { errors { code } } }"""
REMOVE = """mutation($user: ID!, $role: String!) {
  userRemoveRole(input: {userId: $user, role: $role}) { errors { code } } }"""
ME = "{ me { permissions } }"


async def role_state(session: AsyncSession) -> dict[str, Any]:
    """Every role with its description and permissions, to check nothing changed."""
    rows = await session.execute(
        text(
            "SELECT r.name, r.description, array_agg(p.permission ORDER BY p.permission) "
            "FILTER (WHERE p.permission IS NOT NULL) FROM role r "
            "LEFT JOIN role_permission p ON p.role_id = r.id GROUP BY r.id"
        )
    )
    return {name: (description, perms) for name, description, perms in rows}


async def role_id(session: AsyncSession, name: str) -> str:
    found = await session.scalar(select(Role.id).where(Role.name == name))
    assert found is not None
    return to_global_id("Role", found)


async def create(api: Api, caller: Caller, **fields: Any) -> dict[str, Any]:
    data = await api.data(CREATE, {"input": fields}, token=caller.token)
    payload: dict[str, Any] = data["roleCreate"]
    return payload


async def test_permissions_lists_every_permission_sorted(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    staff = await sign_in(api, session, "sam", ["customer"])
    data = await api.data("{ permissions }", token=staff.token)
    assert data["permissions"] == sorted(PERMISSIONS)
    assert top_code(await api("{ permissions }")) == "UNAUTHENTICATED"


async def test_create_a_role_and_use_it(api: Api, admin: Caller, session: AsyncSession) -> None:
    payload = await create(
        api,
        admin,
        name=" Auditor ",
        description="Reads the audit trail",
        permissions=["audit:read", "user:read", "audit:read"],
    )
    assert payload["errors"] == []
    role = payload["role"]
    assert (role["name"], role["description"], role["permissions"]) == (
        "auditor",
        "Reads the audit trail",
        ["audit:read", "user:read"],
    )
    sam = await sign_in(api, session, "sam", [])
    assigned = await api.data(ASSIGN, {"user": sam.gid, "role": "auditor"}, token=admin.token)
    assert assigned["userAssignRole"]["errors"] == []
    assert (await api.data(ME, token=sam.token))["me"]["permissions"] == [
        "audit:read",
        "user:read",
    ]
    [event] = await audit_events(session, "role.create")
    assert event.actor_user_id == admin.id
    assert event.changes == {
        "name": "auditor",
        "description": "Reads the audit trail",
        "permissions": ["audit:read", "user:read"],
    }


@pytest.mark.parametrize(
    ("fields", "code", "field", "named"),
    [
        ({"name": "staff"}, "CONFLICT", ["name"], "staff"),
        ({"name": "x"}, "BAD_USER_INPUT", ["name"], ""),
        ({"name": "9lives"}, "BAD_USER_INPUT", ["name"], ""),
        ({"description": "d" * 1001}, "BAD_USER_INPUT", ["description"], ""),
        (
            {"permissions": ["audit:read", "audit:delete", "nope"]},
            "BAD_USER_INPUT",
            ["permissions"],
            "audit:delete, nope",
        ),
    ],
)
async def test_create_refusals_change_nothing(
    api: Api,
    admin: Caller,
    session: AsyncSession,
    fields: dict[str, Any],
    code: str,
    field: list[str],
    named: str,
) -> None:
    await ensure_builtin_roles(session)
    before = await role_state(session)
    payload = await create(
        api, admin, **{"name": "auditor", "permissions": ["audit:read"], **fields}
    )
    assert payload["role"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, field)
    assert named in error["message"]
    assert await role_state(session) == before
    assert await audit_events(session, "role.create") == []


async def test_role_write_is_needed_and_grants_only_what_one_holds(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    staff = await sign_in(api, session, "sam", ["staff"])
    body = await api(CREATE, {"input": {"name": "x1", "permissions": []}}, token=staff.token)
    assert top_code(body) == "FORBIDDEN"
    # a role manager with role:write and a few reads
    made = await create(
        api, admin, name="role-manager", permissions=["role:write", "role:read", "customer:read"]
    )
    assert made["errors"] == []
    manager = await sign_in(api, session, "rita", [])
    await api.data(ASSIGN, {"user": manager.gid, "role": "role-manager"}, token=admin.token)
    before = await role_state(session)
    beyond = await create(
        api, manager, name="escalate", permissions=["customer:read", "user:admin", "role:write"]
    )
    [error] = beyond["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", ["permissions"])
    assert "user:admin" in error["message"]
    assert "role:write" not in error["message"]
    # nor by growing a role it holds
    grow = await api.data(
        UPDATE,
        {
            "input": {
                "id": await role_id(session, "role-manager"),
                "permissions": ["role:write", "role:read", "customer:read", "user:admin"],
            }
        },
        token=manager.token,
    )
    assert grow["roleUpdate"]["errors"][0]["code"] == "BAD_USER_INPUT"
    assert await role_state(session) == before
    ok = await create(api, manager, name="readers", permissions=["customer:read"])
    assert ok["errors"] == []


async def test_update_description_and_permissions(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    await create(api, admin, name="auditor", permissions=["audit:read", "user:read"])
    sam = await sign_in(api, session, "sam", [])
    await api.data(ASSIGN, {"user": sam.gid, "role": "auditor"}, token=admin.token)
    gid = await role_id(session, "auditor")
    data = await api.data(
        UPDATE,
        {"input": {"id": gid, "description": "New", "permissions": ["audit:read", "role:read"]}},
        token=admin.token,
    )
    assert data["roleUpdate"]["errors"] == []
    assert data["roleUpdate"]["role"]["description"] == "New"
    assert data["roleUpdate"]["role"]["permissions"] == ["audit:read", "role:read"]
    # the holder's next request has the new set
    assert (await api.data(ME, token=sam.token))["me"]["permissions"] == [
        "audit:read",
        "role:read",
    ]
    [event] = await audit_events(session, "role.update")
    assert event.changes["permissions"] == {"added": ["role:read"], "removed": ["user:read"]}
    assert event.changes["description"] == {"from": "", "to": "New"}
    # only the description: the permissions stay
    again = await api.data(UPDATE, {"input": {"id": gid, "description": "x"}}, token=admin.token)
    assert again["roleUpdate"]["role"]["permissions"] == ["audit:read", "role:read"]
    # an empty set is a set
    empty = await api.data(UPDATE, {"input": {"id": gid, "permissions": []}}, token=admin.token)
    assert empty["roleUpdate"]["role"]["permissions"] == []


async def test_emptied_builtin_roles_stay_empty(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    gid = await role_id(session, "support")
    await api.data(UPDATE, {"input": {"id": gid, "permissions": []}}, token=admin.token)
    await ensure_builtin_roles(session)  # as at every start-up and user creation
    await sign_in(api, session, "sam", ["support"])
    support = await session.scalar(select(Role.id).where(Role.name == "support"))
    assert await count(session, RolePermission, RolePermission.role_id == support) == 0


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"permissions": ["customer:read"]}, "INVALID_STATE", ["permissions"]),
        ({"permissions": sorted(PERMISSIONS)[1:]}, "INVALID_STATE", ["permissions"]),
        ({"permissions": [*sorted(PERMISSIONS), "x:y"]}, "BAD_USER_INPUT", ["permissions"]),
        ({"id": to_global_id("Role", 10**9)}, "NOT_FOUND", ["id"]),
        ({"id": to_global_id("User", 1)}, "BAD_USER_INPUT", ["id"]),
        ({"description": "d" * 1001}, "BAD_USER_INPUT", ["description"]),
    ],
)
async def test_update_refusals_change_nothing(
    api: Api,
    admin: Caller,
    session: AsyncSession,
    fields: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    before = await role_state(session)
    gid = await role_id(session, "admin")
    data = await api.data(UPDATE, {"input": {"id": gid, **fields}}, token=admin.token)
    [error] = data["roleUpdate"]["errors"]
    assert (error["code"], error["field"]) == (code, field)
    assert await role_state(session) == before
    assert await audit_events(session, "role.update") == []


async def test_admin_role_description_can_change(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    gid = await role_id(session, "admin")
    data = await api.data(
        UPDATE,
        {"input": {"id": gid, "description": "Root", "permissions": sorted(PERMISSIONS)}},
        token=admin.token,
    )
    assert data["roleUpdate"]["errors"] == []
    assert data["roleUpdate"]["role"]["permissions"] == sorted(PERMISSIONS)


async def test_a_role_update_cannot_take_the_last_user_admin(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    await create(api, admin, name="super", permissions=["user:admin", "role:write", "user:read"])
    boss = await sign_in(api, session, "boss", [])
    await api.data(ASSIGN, {"user": boss.gid, "role": "super"}, token=admin.token)
    # the admin role leaves root: boss is the only administrator, through "super"
    removed = await api.data(REMOVE, {"user": admin.gid, "role": "admin"}, token=boss.token)
    assert removed["userRemoveRole"]["errors"] == []
    before = await role_state(session)
    gid = await role_id(session, "super")
    data = await api.data(
        UPDATE, {"input": {"id": gid, "permissions": ["role:write"]}}, token=boss.token
    )
    assert data["roleUpdate"]["errors"][0]["code"] == "LAST_ADMIN"
    assert await role_state(session) == before


async def test_delete_a_role(api: Api, admin: Caller, session: AsyncSession) -> None:
    await create(api, admin, name="auditor", permissions=["audit:read"])
    gid = await role_id(session, "auditor")
    data = await api.data(DELETE, {"id": gid}, token=admin.token)
    assert data["roleDelete"] == {"deletedId": gid, "errors": []}
    assert await session.scalar(select(Role.id).where(Role.name == "auditor")) is None
    [event] = await audit_events(session, "role.delete")
    assert event.changes == {"name": "auditor", "permissions": ["audit:read"]}
    assert event.actor_user_id == admin.id
    gone = await api.data(DELETE, {"id": gid}, token=admin.token)
    assert gone["roleDelete"]["errors"][0]["code"] == "NOT_FOUND"


async def test_delete_refusals_change_nothing(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    await create(api, admin, name="auditor", permissions=["audit:read"])
    sam = await sign_in(api, session, "sam", [])
    await api.data(ASSIGN, {"user": sam.gid, "role": "auditor"}, token=admin.token)
    before = await role_state(session)
    in_use = await api.data(DELETE, {"id": await role_id(session, "auditor")}, token=admin.token)
    [error] = in_use["roleDelete"]["errors"]
    assert (error["code"], error["field"]) == ("ROLE_IN_USE", ["id"])
    assert "1 user" in error["message"]
    for name in BUILTIN_ROLES:
        builtin = await api.data(DELETE, {"id": await role_id(session, name)}, token=admin.token)
        assert builtin["roleDelete"]["errors"][0]["code"] == "INVALID_STATE"
    staff = await sign_in(api, session, "stu", ["staff"])
    body = await api(DELETE, {"id": await role_id(session, "auditor")}, token=staff.token)
    assert top_code(body) == "FORBIDDEN"
    assert await role_state(session) == before
    assert await audit_events(session, "role.delete") == []
