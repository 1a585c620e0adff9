"""What the inbound webhook tests share: an office and keys bound to it or to a
manufacturer (made through apiKeyCreate, as an admin does), sales reports, and signed
requests."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.models import Customer
from opsgraph.webhooks.signing import new_secret, signed_headers
from tests.mutations.helpers import gid

SALES = "/v1/sales-webhook"
SECRET = new_secret()
CREATE_KEY = """mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) {
  secret apiKey { id customerId manufacturer } errors { code message field } } }"""


def state_url(purchase_order_id: int) -> str:
    return f"/v1/update-state-webhook/{gid('PurchaseOrder', purchase_order_id)}"


def report(number: str = "NO-1001", **changes: Any) -> dict[str, Any]:
    body = {
        "regional_office": "NORD",
        "external_order_number": number,
        "car_model": "i4 eDrive40",
        "brand": "BMW",
    }
    body.update(changes)
    return body


def signed(
    body: dict[str, Any] | bytes,
    *,
    message_id: str = "msg-1",
    secret: str = SECRET,
    at: dt.datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The bytes of ``body`` and the Standard Webhooks headers signing them."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = signed_headers(message_id, raw, [secret], at=at or dt.datetime.now(dt.UTC))
    return raw, {**headers, "Content-Type": "application/json"}


@dataclass
class Keys:
    office_id: int
    sales: dict[str, str]  # headers with the office's sales key
    manufacturer: dict[str, str]  # headers with BMW's key


async def make_office(factory: async_sessionmaker[AsyncSession], name: str = "Nord AB") -> int:
    async with factory() as session:
        office = Customer(name=name, external_id="NORD", email="nord@example.com")
        session.add(office)
        await session.commit()
        return office.id


async def create_key(http: httpx.AsyncClient, headers: dict[str, str], **input: Any) -> str:
    response = await http.post(
        "/graphql", json={"query": CREATE_KEY, "variables": {"input": input}}, headers=headers
    )
    payload = response.json()["data"]["apiKeyCreate"]
    assert payload["errors"] == [], payload
    return str(payload["secret"])


async def make_keys(
    http: httpx.AsyncClient, admin: dict[str, str], factory: async_sessionmaker[AsyncSession]
) -> Keys:
    office = await make_office(factory)
    sales = await create_key(
        http,
        admin,
        name="Nord sales",
        scopes=["webhook:sales"],
        customerId=gid("Customer", office),
    )
    maker = await create_key(
        http, admin, name="BMW states", scopes=["webhook:manufacturer"], manufacturer="BMW"
    )
    return Keys(
        office,
        {"Authorization": f"Bearer {sales}"},
        {"Authorization": f"Bearer {maker}"},
    )
