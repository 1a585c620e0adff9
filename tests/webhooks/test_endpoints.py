"""Webhook endpoint administration: a secret shown once and rotated with an overlap, the
address guard at registration, event types within what the caller may read, update,
delete, `webhook:manage` for all of it, audited without secrets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from opsgraph.auth.permissions import BUILTIN_ROLES
from opsgraph.auth.principal import Principal
from opsgraph.errors import InvalidInput
from opsgraph.events.emit import emit
from opsgraph.graph.ids import parse_global_id, to_global_id
from opsgraph.models import Customer, WebhookDelivery, WebhookEndpoint
from opsgraph.services.role import create_role
from opsgraph.services.webhook import checked_event_types, signing_secrets
from opsgraph.webhooks.signing import signed_headers
from tests.resolvers.accounts import (
    Api,
    Caller,
    MakeApi,
    admin,
    api,
    audit_events,
    count,
    make_api,
    sign_in,
    top_code,
)

__all__ = ["admin", "api", "make_api"]  # fixtures

ENDPOINT = "id url description eventTypes active disabledReason secretPreview rotating "
ENDPOINT += "previousSecretExpiresAt customer { id name }"
CREATE = f"""mutation($input: WebhookEndpointCreateInput!) {{
  webhookEndpointCreate(input: $input) {{
    secret webhookEndpoint {{ {ENDPOINT} }} errors {{ code message field }} }} }}"""
UPDATE = f"""mutation($input: WebhookEndpointUpdateInput!) {{
  webhookEndpointUpdate(input: $input) {{
    webhookEndpoint {{ {ENDPOINT} }} errors {{ code message field }} }} }}"""
DELETE = """mutation($id: ID!) { webhookEndpointDelete(input: {id: $id}) {
  deletedId errors { code message field } } }"""
ROTATE = f"""mutation($id: ID!, $keep: Boolean! = true) {{
  webhookEndpointRotateSecret(input: {{id: $id, keepPrevious: $keep}}) {{
    secret webhookEndpoint {{ {ENDPOINT} }} errors {{ code message field }} }} }}"""
LIST = f"{{ webhookEndpoints {{ {ENDPOINT} }} }}"
URL = "https://hooks.example.com/opsgraph"


async def create(api: Api, caller: Caller, **fields: Any) -> Any:
    body = await api(CREATE, {"input": {"url": URL, **fields}}, token=caller.token)
    assert "errors" not in body, body
    return body["data"]["webhookEndpointCreate"]


async def created(api: Api, caller: Caller, **fields: Any) -> Any:
    payload = await create(api, caller, **fields)
    assert payload["errors"] == [], payload
    return payload


async def endpoint_row(session: AsyncSession, global_id: str) -> WebhookEndpoint:
    pk = parse_global_id(global_id, "WebhookEndpoint")
    found = await session.scalar(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id == pk)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


async def make_role(
    session: AsyncSession, admin: Caller, name: str, permissions: list[str]
) -> None:
    actor = Principal(user_id=admin.id, username="root", permissions=BUILTIN_ROLES["admin"][1])
    await create_role(session, name=name, description="", permissions=permissions, actor=actor)


async def test_create_shows_the_secret_once(api: Api, admin: Caller, session: AsyncSession) -> None:
    payload = await created(
        api,
        admin,
        eventTypes=["ORDER_CREATED", "INVOICE_PAID", "ORDER_CREATED"],
        description=" ERP ",
    )
    secret, endpoint = payload["secret"], payload["webhookEndpoint"]
    assert secret.startswith("whsec_")
    assert endpoint["url"] == URL
    assert endpoint["eventTypes"] == ["ORDER_CREATED", "INVOICE_PAID"]  # catalogue order, once
    assert (endpoint["description"], endpoint["active"], endpoint["rotating"]) == (
        "ERP",
        True,
        False,
    )
    assert endpoint["secretPreview"] == f"whsec_...{secret.rstrip('=')[-4:]}"
    row = await endpoint_row(session, endpoint["id"])
    assert row.secret == secret
    assert row.event_types == ["order.created", "invoice.paid"]
    listed = await api.data(LIST, token=admin.token)
    assert listed["webhookEndpoints"] == [endpoint]
    assert secret not in str(listed)
    assert secret[6:] not in str(listed)
    [event] = await audit_events(session, "webhook_endpoint.create")
    assert event.changes["after"]["url"] == URL
    assert secret[6:] not in str(event.changes)


async def test_no_event_types_means_every_type(api: Api, admin: Caller) -> None:
    payload = await created(api, admin)
    assert payload["webhookEndpoint"]["eventTypes"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # not https
        "https://10.0.0.7/x",  # private
        "https://192.168.1.1/x",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://[fd00:ec2::254]/x",
        "https://127.0.0.1/x",  # loopback outside insecure mode
        "https://localhost:8443/x",
        "https://[::1]/x",
        "https://user:pw@hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "https://hooks.example.com/" + "x" * 2048,
        "   ",
    ],
)
async def test_unsafe_urls_are_refused(
    api: Api, admin: Caller, session: AsyncSession, url: str
) -> None:
    payload = await create(api, admin, url=url)
    assert payload["webhookEndpoint"] is None
    assert payload["secret"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("UNSAFE_URL", ["url"])
    assert await count(session, WebhookEndpoint) == 0


async def test_insecure_mode_allows_loopback_only(make_api: MakeApi, session: AsyncSession) -> None:
    api = await make_api(webhooks_allow_insecure=True)
    admin = await sign_in(api, session, "root", ["admin"])
    for url in ("http://127.0.0.1:8081/hook", "https://localhost/hook", "http://[::1]:9/x"):
        payload = await created(api, admin, url=url)
        assert payload["webhookEndpoint"]["url"] == url
    for url in ("http://10.0.0.7/x", "https://169.254.169.254/x", "http://example.com/x"):
        [error] = (await create(api, admin, url=url))["errors"]
        assert error["code"] == "UNSAFE_URL", url


async def test_unknown_event_types_are_refused(api: Api, admin: Caller) -> None:
    body = await api(
        CREATE, {"input": {"url": URL, "eventTypes": ["ORDER_EXPLODED"]}}, token=admin.token
    )
    assert body.get("data") is None
    assert "ORDER_EXPLODED" in body["errors"][0]["message"]
    # the rule itself, for callers other than GraphQL
    actor = Principal(user_id=1, username="root", permissions=frozenset({"order:read"}))
    with pytest.raises(InvalidInput) as refused:
        checked_event_types(["order.created", "order.exploded"], actor)
    assert refused.value.field == ["eventTypes"]
    assert checked_event_types(["order.created"], actor) == ["order.created"]


async def test_event_types_must_be_readable(api: Api, admin: Caller, session: AsyncSession) -> None:
    """A manager of webhooks who can't read invoices subscribes to no invoice events, nor
    to every type at once."""
    await make_role(session, admin, "hooks", ["webhook:manage", "order:read", "customer:read"])
    hooks = await sign_in(api, session, "hooks", ["hooks"])
    [error] = (await create(api, hooks, eventTypes=["ORDER_CREATED", "INVOICE_PAID"]))["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", ["eventTypes"])
    assert "invoice.paid (invoice:read)" in error["message"]
    assert "order.created" not in error["message"]
    [error] = (await create(api, hooks))["errors"]  # every type
    assert error["field"] == ["eventTypes"]
    payload = await created(api, hooks, eventTypes=["ORDER_CREATED", "CUSTOMER_UPDATED"])
    assert payload["webhookEndpoint"]["eventTypes"] == ["CUSTOMER_UPDATED", "ORDER_CREATED"]


async def test_webhook_manage_is_needed(api: Api, admin: Caller, session: AsyncSession) -> None:
    endpoint = (await created(api, admin))["webhookEndpoint"]
    staff = await sign_in(api, session, "sam", ["staff"])
    assert top_code(await api(CREATE, {"input": {"url": URL}}, token=staff.token)) == "FORBIDDEN"
    assert top_code(await api(LIST, token=staff.token)) == "FORBIDDEN"
    assert top_code(await api(ROTATE, {"id": endpoint["id"]}, token=staff.token)) == "FORBIDDEN"
    assert top_code(await api(DELETE, {"id": endpoint["id"]}, token=staff.token)) == "FORBIDDEN"
    update = {"input": {"id": endpoint["id"], "active": False}}
    assert top_code(await api(UPDATE, update, token=staff.token)) == "FORBIDDEN"
    assert top_code(await api(LIST)) == "UNAUTHENTICATED"
    assert await count(session, WebhookEndpoint) == 1
    assert (await endpoint_row(session, endpoint["id"])).active is True


async def test_portal_users_manage_no_webhooks(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    """Even a role that grants webhook:manage does not make webhooks portal work."""
    await make_role(session, admin, "portal-hooks", ["webhook:manage", "portal:scoped"])
    portal = await sign_in(api, session, "pat", ["portal-hooks"])
    assert top_code(await api(LIST, token=portal.token)) == "FORBIDDEN"


async def test_rotation_keeps_the_previous_secret_for_the_overlap(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    first = await created(api, admin)
    old, endpoint_id = first["secret"], first["webhookEndpoint"]["id"]
    before = dt.datetime.now(dt.UTC)
    payload = (await api.data(ROTATE, {"id": endpoint_id}, token=admin.token))[
        "webhookEndpointRotateSecret"
    ]
    after = dt.datetime.now(dt.UTC)
    assert payload["errors"] == []
    new, endpoint = payload["secret"], payload["webhookEndpoint"]
    assert new.startswith("whsec_")
    assert new != old
    assert endpoint["rotating"] is True
    assert endpoint["secretPreview"] == f"whsec_...{new.rstrip('=')[-4:]}"
    row = await endpoint_row(session, endpoint_id)
    assert (row.secret, row.previous_secret) == (new, old)
    expires = row.previous_secret_expires_at
    assert expires is not None
    assert before + dt.timedelta(hours=24) <= expires <= after + dt.timedelta(hours=24)
    assert dt.datetime.fromisoformat(endpoint["previousSecretExpiresAt"]) == expires

    # while the overlap lasts a delivery carries a signature by each secret
    during = expires - dt.timedelta(seconds=1)
    assert signing_secrets(row, during) == [new, old]
    headers = signed_headers("evt_1", b"{}", signing_secrets(row, during), at=after)
    for secret in (old, new):
        assert Webhook(secret).verify("{}", headers) == {}
    assert signing_secrets(row, expires) == [new]
    assert signing_secrets(row, expires + dt.timedelta(hours=1)) == [new]

    listed = str(await api.data(LIST, token=admin.token))
    assert old[6:] not in listed
    assert new[6:] not in listed
    [event] = await audit_events(session, "webhook_endpoint.rotate_secret")
    assert old[6:] not in str(event.changes)
    assert new[6:] not in str(event.changes)


async def test_rotation_without_overlap_drops_the_old_secret_at_once(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    endpoint_id = (await created(api, admin))["webhookEndpoint"]["id"]
    await api.data(ROTATE, {"id": endpoint_id}, token=admin.token)
    data = await api.data(ROTATE, {"id": endpoint_id, "keep": False}, token=admin.token)
    payload = data["webhookEndpointRotateSecret"]
    assert payload["webhookEndpoint"]["rotating"] is False
    assert payload["webhookEndpoint"]["previousSecretExpiresAt"] is None
    row = await endpoint_row(session, endpoint_id)
    assert row.previous_secret is None
    assert signing_secrets(row, dt.datetime.now(dt.UTC)) == [payload["secret"]]


async def test_update_keeps_the_customer_left_out(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    customer = Customer(name="Nordic Sales")
    session.add(customer)
    await session.flush()
    customer_gid = to_global_id("Customer", customer.id)
    endpoint = (await created(api, admin, customerId=customer_gid))["webhookEndpoint"]
    keep = {"input": {"id": endpoint["id"], "description": "renamed"}}
    payload = (await api.data(UPDATE, keep, token=admin.token))["webhookEndpointUpdate"]
    assert payload["errors"] == []
    assert payload["webhookEndpoint"]["customer"] == {"id": customer_gid, "name": "Nordic Sales"}
    assert payload["webhookEndpoint"]["description"] == "renamed"


async def test_update_changes_what_is_given(api: Api, admin: Caller, session: AsyncSession) -> None:
    customer = Customer(name="Nordic Sales")
    session.add(customer)
    await session.flush()
    customer_gid = to_global_id("Customer", customer.id)
    endpoint = (await created(api, admin, description="first"))["webhookEndpoint"]
    changes = {
        "id": endpoint["id"],
        "url": "https://other.example.com/in",
        "eventTypes": ["STOCK_LOW"],
        "customerId": customer_gid,
    }
    payload = (await api.data(UPDATE, {"input": changes}, token=admin.token))[
        "webhookEndpointUpdate"
    ]
    assert payload["errors"] == []
    changed = payload["webhookEndpoint"]
    assert (changed["url"], changed["eventTypes"], changed["description"]) == (
        "https://other.example.com/in",
        ["STOCK_LOW"],
        "first",
    )
    assert changed["customer"] == {"id": customer_gid, "name": "Nordic Sales"}
    [event] = await audit_events(session, "webhook_endpoint.update")
    assert event.changes["before"] == {
        "url": URL,
        "event_types": [],
        "customer_id": None,
    }

    unscope = {"input": {"id": endpoint["id"], "customerId": None}}
    payload = (await api.data(UPDATE, unscope, token=admin.token))["webhookEndpointUpdate"]
    assert payload["webhookEndpoint"]["customer"] is None

    for bad, code, field in (
        ({"url": "https://10.1.2.3/"}, "UNSAFE_URL", ["url"]),
        ({"url": None}, "BAD_USER_INPUT", ["url"]),
        ({"description": "x" * 501}, "BAD_USER_INPUT", ["description"]),
        ({"customerId": to_global_id("Customer", 10**9)}, "NOT_FOUND", ["customerId"]),
    ):
        data = await api.data(UPDATE, {"input": {"id": endpoint["id"], **bad}}, token=admin.token)
        [error] = data["webhookEndpointUpdate"]["errors"]
        assert (error["code"], error["field"]) == (code, field), bad
    assert (await endpoint_row(session, endpoint["id"])).url == "https://other.example.com/in"

    missing = {"input": {"id": to_global_id("WebhookEndpoint", 10**9), "active": False}}
    [error] = (await api.data(UPDATE, missing, token=admin.token))["webhookEndpointUpdate"][
        "errors"
    ]
    assert error["code"] == "NOT_FOUND"


async def test_turning_on_a_disabled_endpoint_clears_the_reason(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    endpoint_id = (await created(api, admin))["webhookEndpoint"]["id"]
    row = await endpoint_row(session, endpoint_id)
    row.active = False
    row.disabled_reason = "the receiver answered 410 Gone"
    await session.flush()
    listed = await api.data(LIST, token=admin.token)
    assert listed["webhookEndpoints"][0]["disabledReason"] == "the receiver answered 410 Gone"
    data = await api.data(UPDATE, {"input": {"id": endpoint_id, "active": True}}, token=admin.token)
    endpoint = data["webhookEndpointUpdate"]["webhookEndpoint"]
    assert (endpoint["active"], endpoint["disabledReason"]) == (True, None)
    row = await endpoint_row(session, endpoint_id)
    assert (row.active, row.disabled_reason) == (True, None)


async def test_delete_takes_the_deliveries_and_leaves_their_jobs_stale(
    api: Api, admin: Caller, session: AsyncSession
) -> None:
    endpoint_id = (await created(api, admin))["webhookEndpoint"]["id"]
    pk = parse_global_id(endpoint_id, "WebhookEndpoint")
    await emit(
        session,
        "stock.low",
        entity_type="Product",
        entity_id=1,
        customer_id=None,
        data={},
        actor=None,
    )
    await session.flush()
    assert await count(session, WebhookDelivery, WebhookDelivery.endpoint_id == pk) == 1
    jobs = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'webhooks.deliver'"
    assert (await session.execute(text(jobs))).scalar_one() == 1

    payload = (await api.data(DELETE, {"id": endpoint_id}, token=admin.token))[
        "webhookEndpointDelete"
    ]
    assert payload == {"deletedId": endpoint_id, "errors": []}
    assert await count(session, WebhookEndpoint) == 0
    assert await count(session, WebhookDelivery) == 0
    # the job stays queued; the worker finds no delivery for it and does nothing
    assert (await session.execute(text(jobs))).scalar_one() == 1
    [event] = await audit_events(session, "webhook_endpoint.delete")
    assert event.changes["before"]["url"] == URL
    assert "secret" not in str(event.changes)

    again = (await api.data(DELETE, {"id": endpoint_id}, token=admin.token))[
        "webhookEndpointDelete"
    ]
    assert again["errors"][0]["code"] == "NOT_FOUND"
