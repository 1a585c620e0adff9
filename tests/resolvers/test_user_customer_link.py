"""Linking users to customers: userUpdate(customerId), userRegister(customerId), audited,
administrators only; what a portal user sees follows the link."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.graph.ids import to_global_id
from tests.resolvers.accounts import (
    PASSWORD,
    Api,
    Caller,
    MakeApi,
    admin,
    api,
    audit_events,
    make_api,
    sign_in,
    top_code,
)

__all__ = ["admin", "api", "make_api"]  # fixtures

REGISTER = """mutation($input: UserRegisterInput!) { userRegister(input: $input) {
  user { id customer { id name } } errors { code field } } }"""
UPDATE = """mutation($input: UserUpdateInput!) { userUpdate(input: $input) {
  user { email customer { id } } errors { code field } } }"""
COUNTS = "{ customers { totalCount edges { node { id } } } }"


async def new_customer(session: AsyncSession, name: str) -> str:
    pk = await session.scalar(
        text("INSERT INTO customer (name, external_id) VALUES (:n, :n) RETURNING id"),
        {"n": name},
    )
    return to_global_id("Customer", pk)


async def linked_to(session: AsyncSession, user_id: int) -> Any:
    return await session.scalar(
        text('SELECT customer_id FROM "user" WHERE id = :id'), {"id": user_id}
    )


async def visible_customers(api: Api, caller: Caller) -> list[str]:
    data = await api.data(COUNTS, token=caller.token)
    return [edge["node"]["id"] for edge in data["customers"]["edges"]]


async def test_linking_decides_what_a_portal_user_sees(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    acme = await new_customer(session, "acme")
    await new_customer(session, "globex")
    portal = await sign_in(api, session, "pat", ["customer"])
    assert await visible_customers(api, portal) == []  # not linked: nothing at all
    linked = await api.data(
        UPDATE, {"input": {"id": portal.gid, "customerId": acme}}, token=admin.token
    )
    assert linked["userUpdate"] == {
        "user": {"email": "pat@example.com", "customer": {"id": acme}},
        "errors": [],
    }
    assert await visible_customers(api, portal) == [acme]
    [event] = await audit_events(session, "user.update")
    assert event.actor_user_id == admin.id
    acme_pk = await linked_to(session, portal.id)
    assert acme_pk is not None
    assert event.changes == {"customer_id": {"from": None, "to": acme_pk}}
    # left out: the link is kept
    kept = await api.data(
        UPDATE, {"input": {"id": portal.gid, "email": "pat2@example.com"}}, token=admin.token
    )
    assert kept["userUpdate"]["user"] == {"email": "pat2@example.com", "customer": {"id": acme}}
    # null: unlinked, and the portal user sees nothing again
    unlinked = await api.data(
        UPDATE, {"input": {"id": portal.gid, "customerId": None}}, token=admin.token
    )
    assert unlinked["userUpdate"]["user"]["customer"] is None
    assert await linked_to(session, portal.id) is None
    assert await visible_customers(api, portal) == []
    events = await audit_events(session, "user.update")
    assert events[-1].changes["customer_id"]["to"] is None


async def test_only_an_administrator_links(api: Api, admin: Caller, session: AsyncSession) -> None:
    acme = await new_customer(session, "acme")
    portal = await sign_in(api, session, "pat", ["customer"])
    staff = await sign_in(api, session, "sam", ["staff"])
    for caller, target in ((portal, portal), (staff, staff), (staff, portal)):
        body = await api(
            UPDATE, {"input": {"id": target.gid, "customerId": acme}}, token=caller.token
        )
        assert top_code(body) == "FORBIDDEN"
    own = await api(UPDATE, {"input": {"customerId": None}}, token=portal.token)
    assert top_code(own) == "FORBIDDEN"
    assert await linked_to(session, portal.id) is None
    assert await audit_events(session, "user.update") == []


async def test_link_refusals_change_nothing(api: Api, admin: Caller, session: AsyncSession) -> None:
    portal = await sign_in(api, session, "pat", ["customer"])
    for customer, code in (
        (to_global_id("Customer", 987_654), "NOT_FOUND"),
        (to_global_id("Order", 1), "BAD_USER_INPUT"),
        ("not an id", "BAD_USER_INPUT"),
    ):
        data = await api.data(
            UPDATE, {"input": {"id": portal.gid, "customerId": customer}}, token=admin.token
        )
        assert data["userUpdate"] == {
            "user": None,
            "errors": [{"code": code, "field": ["customerId"]}],
        }
    assert await linked_to(session, portal.id) is None


async def test_register_a_linked_portal_user(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    acme = await new_customer(session, "acme")
    user = {"username": "pat", "email": "pat@example.com", "password": PASSWORD}
    data = await api.data(
        REGISTER,
        {"input": {**user, "roles": ["customer"], "customerId": acme}},
        token=admin.token,
    )
    assert data["userRegister"]["errors"] == []
    assert data["userRegister"]["user"]["customer"] == {"id": acme, "name": "acme"}
    [event] = await audit_events(session, "user.create")
    assert event.changes["customer_id"] is not None
    token = await api.login("pat")
    seen = await api.data(COUNTS, token=token)
    assert seen["customers"]["totalCount"] == 1
    missing = await api.data(
        REGISTER,
        {
            "input": {
                **user,
                "username": "pat2",
                "email": "pat2@example.com",
                "customerId": to_global_id("Customer", 987_654),
            }
        },
        token=admin.token,
    )
    assert missing["userRegister"]["errors"] == [{"code": "NOT_FOUND", "field": ["customerId"]}]


async def test_self_signup_links_to_no_customer(make_api: MakeApi, session: AsyncSession) -> None:
    api = await make_api(self_signup=True)
    acme = await new_customer(session, "acme")
    # (an anonymous caller may select the new user's id, not its customer)
    data = await api.data(
        REGISTER.replace("customer { id name }", ""),
        {
            "input": {
                "username": "pat",
                "email": "pat@example.com",
                "password": PASSWORD,
                "customerId": acme,
            }
        },
    )
    assert data["userRegister"] == {
        "user": None,
        "errors": [{"code": "BAD_USER_INPUT", "field": ["customerId"]}],
    }
