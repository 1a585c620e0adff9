"""Products and stock through GraphQL: productCreate, productUpdate, productDeactivate,
stockAdjust (and its dry run); every refusal with its code and field, changing nothing.

The helpers here (``state``, ``make_product``, ``caller_without``) are shared with the
order tests.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.graph.ids import parse_global_id, to_global_id
from tests.conftest import GraphQLClient, create_and_sign_in
from tests.mutations.helpers import events, refused

ERRORS = "errors { code message field }"
PRODUCT = "id sku name description unitPrice active stockLevel { quantity }"
CREATE = f"""mutation($input: ProductCreateInput!) {{ productCreate(input: $input) {{
  product {{ {PRODUCT} movements {{ edges {{ node {{ delta reason quantityAfter }} }} }} }}
  {ERRORS} }} }}"""
UPDATE = f"""mutation($input: ProductUpdateInput!) {{ productUpdate(input: $input) {{
  product {{ {PRODUCT} }} {ERRORS} }} }}"""
DEACTIVATE = f"""mutation($id: ID!) {{ productDeactivate(input: {{id: $id}}) {{
  product {{ {PRODUCT} }} {ERRORS} }} }}"""
ADJUST = f"""mutation($input: StockAdjustInput!) {{ stockAdjust(input: $input) {{
  product {{ {PRODUCT} }} movement {{ id delta reason quantityAfter note }} {ERRORS} }} }}"""

STATE_QUERIES = {
    "products": "SELECT id, sku, name, description, unit_price, active FROM product",
    "stock": "SELECT product_id, quantity FROM stock_level",
    "movements": "SELECT id, product_id, delta, reason, quantity_after, order_id "
    "FROM stock_movement",
    "orders": 'SELECT id, customer_id, property_id, status, subtotal, tax, total FROM "order"',
    "lines": "SELECT id, order_id, product_id, quantity, unit_price FROM order_line",
    "customers": "SELECT id, order_count FROM customer",
    "audit": "SELECT id, action FROM audit_event",
}


async def state(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a product, stock or order mutation could touch: equal before and after
    a refused mutation."""
    found = {}
    for name, query in STATE_QUERIES.items():
        rows = await session.execute(text(f"{query} ORDER BY 1"))
        found[name] = [tuple(row) for row in rows]
    return found


async def make_product(
    gql: GraphQLClient, sku: str, price: str = "10.00", stock: int = 10, **fields: Any
) -> tuple[str, int]:
    """A product made through productCreate: its global id and primary key."""
    body = await gql(
        CREATE,
        {
            "input": {
                "sku": sku,
                "name": f"Product {sku}",
                "unitPrice": price,
                "initialStock": stock,
            }
            | fields
        },
    )
    payload = body["data"]["productCreate"]
    assert payload["errors"] == [], payload
    gid: str = payload["product"]["id"]
    return gid, parse_global_id(gid, "Product")


async def caller_without(
    anon_client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    """The headers of an accountant: no product, stock or order write permission."""
    return await create_and_sign_in(anon_client, session_factory, "counter", ["accountant"])


# --- productCreate ----------------------------------------------------------------------


async def test_create_makes_the_product_its_stock_and_initial_movement(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    body = await gql(
        CREATE,
        {
            "input": {
                "sku": " SNOW-SHOVEL-01 ",
                "name": "  Snow shovel ",
                "description": "Wide blade",
                "unitPrice": "249.5",
                "initialStock": 12,
            }
        },
    )
    payload = body["data"]["productCreate"]
    assert payload["errors"] == []
    product = payload["product"]
    assert {k: v for k, v in product.items() if k not in ("id", "movements")} == {
        "sku": "SNOW-SHOVEL-01",
        "name": "Snow shovel",
        "description": "Wide blade",
        "unitPrice": "249.50",
        "active": True,
        "stockLevel": {"quantity": 12},
    }
    assert [e["node"] for e in product["movements"]["edges"]] == [
        {"delta": 12, "reason": "INITIAL", "quantityAfter": 12}
    ]
    pk = parse_global_id(product["id"], "Product")
    now = await state(session)
    assert (pk, 12) in now["stock"]
    [event] = await events(session, "product.create")
    assert (event.entity_type, event.entity_id) == ("Product", pk)
    assert event.changes == {
        "after": {
            "sku": "SNOW-SHOVEL-01",
            "name": "Snow shovel",
            "description": "Wide blade",
            "unit_price": "249.50",
            "active": True,
        },
        "initial_stock": 12,
    }


async def test_create_without_initial_stock_starts_at_zero(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    body = await gql(CREATE, {"input": {"sku": "ZERO-1", "name": "Zero", "unitPrice": "0"}})
    product = body["data"]["productCreate"]["product"]
    assert product["stockLevel"] == {"quantity": 0}
    assert product["unitPrice"] == "0.00"
    assert [e["node"] for e in product["movements"]["edges"]] == [
        {"delta": 0, "reason": "INITIAL", "quantityAfter": 0}
    ]


@pytest.mark.parametrize(
    ("fields", "code", "field", "said"),
    [
        ({"sku": "snow-1"}, "INVALID_SKU", ["sku"], "upper-case"),
        ({"sku": "AB"}, "INVALID_SKU", ["sku"], "3-32"),
        ({"sku": "ABC-"}, "INVALID_SKU", ["sku"], "ABC-"),
        ({"sku": "-ABC"}, "INVALID_SKU", ["sku"], "-ABC"),
        ({"sku": "A" * 33}, "INVALID_SKU", ["sku"], "3-32"),
        ({"sku": "AB C"}, "INVALID_SKU", ["sku"], "AB C"),
        ({"sku": "TAKEN-1"}, "DUPLICATE_SKU", ["sku"], "TAKEN-1"),
        ({"sku": " TAKEN-1 "}, "DUPLICATE_SKU", ["sku"], "TAKEN-1"),
        ({"name": "   "}, "BAD_USER_INPUT", ["name"], "blank"),
        ({"name": "n" * 201}, "BAD_USER_INPUT", ["name"], "200"),
        ({"description": "d" * 5001}, "BAD_USER_INPUT", ["description"], "5000"),
        ({"unitPrice": "-0.01"}, "BAD_USER_INPUT", ["unitPrice"], "negative"),
        ({"unitPrice": "1.005"}, "BAD_USER_INPUT", ["unitPrice"], "2 decimals"),
        ({"unitPrice": "10000000000"}, "BAD_USER_INPUT", ["unitPrice"], "at most"),
        ({"initialStock": -1}, "BAD_USER_INPUT", ["initialStock"], "-1"),
    ],
)
async def test_create_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    fields: dict[str, Any],
    code: str,
    field: list[str],
    said: str,
) -> None:
    await make_product(gql, "TAKEN-1")
    before = await state(session)
    body = await gql(
        CREATE, {"input": {"sku": "NEW-1", "name": "New", "unitPrice": "1.00"} | fields}
    )
    error = refused(body, "productCreate", "product")
    assert (error["code"], error["field"]) == (code, field)
    assert said in error["message"]
    assert await state(session) == before


# --- productUpdate ----------------------------------------------------------------------


async def test_update_changes_the_fields_given_and_audits_the_difference(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    gid, pk = await make_product(gql, "OLD-1", price="5.00", stock=3)
    body = await gql(
        UPDATE,
        {"input": {"id": gid, "sku": "NEW-1", "unitPrice": "7.25", "name": "Product OLD-1"}},
    )
    payload = body["data"]["productUpdate"]
    assert payload["errors"] == []
    assert payload["product"] | {"id": None} == {
        "id": None,
        "sku": "NEW-1",
        "name": "Product OLD-1",
        "description": "",
        "unitPrice": "7.25",
        "active": True,
        "stockLevel": {"quantity": 3},
    }
    [event] = await events(session, "product.update")
    assert (event.entity_type, event.entity_id) == ("Product", pk)
    assert event.changes == {
        "before": {"sku": "OLD-1", "unit_price": "5.00"},
        "after": {"sku": "NEW-1", "unit_price": "7.25"},
    }
    # nothing to change: no event
    same = await gql(UPDATE, {"input": {"id": gid, "sku": "NEW-1", "unitPrice": "7.250"}})
    assert same["data"]["productUpdate"]["errors"] == []
    assert len(await events(session, "product.update")) == 1


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"id": to_global_id("Product", 10**9)}, "NOT_FOUND", ["id"]),
        ({"id": to_global_id("Order", 1)}, "BAD_USER_INPUT", ["id"]),
        ({"id": "garbage"}, "BAD_USER_INPUT", ["id"]),
        ({"sku": "TAKEN-1"}, "DUPLICATE_SKU", ["sku"]),
        ({"sku": "bad sku"}, "INVALID_SKU", ["sku"]),
        ({"name": ""}, "BAD_USER_INPUT", ["name"]),
        ({"unitPrice": "2.001"}, "BAD_USER_INPUT", ["unitPrice"]),
        ({"unitPrice": "-1"}, "BAD_USER_INPUT", ["unitPrice"]),
    ],
)
async def test_update_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    fields: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    await make_product(gql, "TAKEN-1")
    gid, _ = await make_product(gql, "MINE-1")
    before = await state(session)
    body = await gql(UPDATE, {"input": {"id": gid, "name": "Renamed"} | fields})
    error = refused(body, "productUpdate", "product")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


# --- productDeactivate ------------------------------------------------------------------


async def test_deactivate_once_then_invalid_state(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    gid, pk = await make_product(gql, "GONE-1", stock=4)
    body = await gql(DEACTIVATE, {"id": gid})
    payload = body["data"]["productDeactivate"]
    assert payload["errors"] == []
    assert payload["product"]["active"] is False
    assert payload["product"]["stockLevel"] == {"quantity": 4}  # stock stays
    [event] = await events(session, "product.deactivate")
    assert (event.entity_type, event.entity_id) == ("Product", pk)
    assert event.changes == {
        "before": {"active": True},
        "after": {"active": False},
        "sku": "GONE-1",
    }
    before = await state(session)
    again = refused(await gql(DEACTIVATE, {"id": gid}), "productDeactivate", "product")
    assert (again["code"], again["field"]) == ("INVALID_STATE", ["id"])
    assert "already inactive" in again["message"]
    missing = refused(
        await gql(DEACTIVATE, {"id": to_global_id("Product", 10**9)}),
        "productDeactivate",
        "product",
    )
    assert (missing["code"], missing["field"]) == ("NOT_FOUND", ["id"])
    assert await state(session) == before


# --- stockAdjust ------------------------------------------------------------------------


async def adjust(gql: GraphQLClient, product: str, delta: int, **fields: Any) -> dict[str, Any]:
    body = await gql(
        ADJUST, {"input": {"productId": product, "delta": delta, "reason": "ADJUSTMENT"} | fields}
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["stockAdjust"]
    return payload


async def test_adjust_writes_a_movement_and_an_audit_event(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    gid, pk = await make_product(gql, "ADJ-1", stock=5)
    received = await adjust(gql, gid, 20, reason="RECEIPT", note=" pallet 7 ")
    assert received["errors"] == []
    assert received["product"]["stockLevel"] == {"quantity": 25}
    assert received["movement"] | {"id": None} == {
        "id": None,
        "delta": 20,
        "reason": "RECEIPT",
        "quantityAfter": 25,
        "note": "pallet 7",
    }
    counted = await adjust(gql, gid, -25)
    assert counted["errors"] == []
    assert counted["product"]["stockLevel"] == {"quantity": 0}
    assert counted["movement"]["quantityAfter"] == 0
    movements = [row for row in (await state(session))["movements"] if row[1] == pk]
    assert [(d, r, q) for _, _, d, r, q, _ in movements] == [
        (5, "initial", 5),
        (20, "receipt", 25),
        (-25, "adjustment", 0),
    ]
    first, second = await events(session, "stock.adjust")
    assert (first.entity_type, first.entity_id) == ("StockLevel", pk)
    assert first.changes == {
        "before": {"quantity": 5},
        "after": {"quantity": 25},
        "sku": "ADJ-1",
        "delta": 20,
        "reason": "receipt",
        "note": "pallet 7",
        "movement_id": parse_global_id(received["movement"]["id"], "StockMovement"),
    }
    assert second.changes["after"] == {"quantity": 0}
    # the stock level's history lists them
    history = await gql(
        "query($id: ID!) { product(id: $id) { stockLevel { history { edges { node { action"
        " } } } } } }",
        {"id": gid},
    )
    listed = history["data"]["product"]["stockLevel"]["history"]["edges"]
    assert [edge["node"]["action"] for edge in listed] == ["stock.adjust", "stock.adjust"]


@pytest.mark.parametrize(
    ("fields", "code", "field", "said"),
    [
        ({"delta": -4}, "INSUFFICIENT_STOCK", ["delta"], "only 3 of product ADJ-2 in stock"),
        ({"delta": 0}, "BAD_USER_INPUT", ["delta"], "not be 0"),
        ({"delta": 2**31 - 1}, "BAD_USER_INPUT", ["delta"], "exceed"),
        ({"reason": "SALE"}, "BAD_USER_INPUT", ["reason"], "written by the system"),
        ({"reason": "CANCELLATION"}, "BAD_USER_INPUT", ["reason"], "written by the system"),
        ({"reason": "INITIAL"}, "BAD_USER_INPUT", ["reason"], "written by the system"),
        ({"reason": "RECEIPT", "delta": -1}, "BAD_USER_INPUT", ["delta"], "positive"),
        ({"note": "n" * 1001}, "BAD_USER_INPUT", ["note"], "1000"),
        ({"productId": to_global_id("Product", 10**9)}, "NOT_FOUND", ["productId"], "no product"),
        (
            {"productId": to_global_id("Order", 1)},
            "BAD_USER_INPUT",
            ["productId"],
            "names an order, not a product",
        ),
        ({"delta": -4, "dryRun": True}, "INSUFFICIENT_STOCK", ["delta"], "only 3"),
    ],
)
async def test_adjust_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    fields: dict[str, Any],
    code: str,
    field: list[str],
    said: str,
) -> None:
    gid, _ = await make_product(gql, "ADJ-2", stock=3)
    before = await state(session)
    body = await gql(
        ADJUST, {"input": {"productId": gid, "delta": 1, "reason": "ADJUSTMENT"} | fields}
    )
    error = refused(body, "stockAdjust", "product", "movement")
    assert (error["code"], error["field"]) == (code, field)
    assert said in error["message"]
    assert await state(session) == before


async def test_adjust_dry_run_shows_the_new_level_and_keeps_nothing(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    gid, _ = await make_product(gql, "DRY-1", stock=8)
    before = await state(session)
    payload = await adjust(gql, gid, -5, dryRun=True, note="count")
    assert payload["errors"] == []
    assert payload["product"]["stockLevel"] == {"quantity": 3}
    assert payload["movement"]["quantityAfter"] == 3
    assert payload["movement"]["delta"] == -5
    assert await state(session) == before
    again = await gql(f"query($id: ID!) {{ product(id: $id) {{ {PRODUCT} }} }}", {"id": gid})
    assert again["data"]["product"]["stockLevel"] == {"quantity": 8}


# --- permissions ------------------------------------------------------------------------


async def test_write_permissions_are_needed(
    gql: GraphQLClient,
    session: AsyncSession,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    gid, _ = await make_product(gql, "PERM-1")
    headers = await caller_without(anon_client, session_factory)
    before = await state(session)
    for query, variables, needs in [
        (CREATE, {"input": {"sku": "PERM-2", "name": "x", "unitPrice": "1"}}, "product:write"),
        (UPDATE, {"input": {"id": gid, "name": "x"}}, "product:write"),
        (DEACTIVATE, {"id": gid}, "product:write"),
        (ADJUST, {"input": {"productId": gid, "delta": 1, "reason": "RECEIPT"}}, "stock:write"),
    ]:
        body = await gql(query, variables, status=403, **headers)
        assert "data" not in body or body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert needs in error["message"]
    assert await state(session) == before


async def test_each_mutation_of_a_document_reads_the_rows_as_it_left_them(
    gql: GraphQLClient,
) -> None:
    """Mutations of one document run in turn; what one read (the stock level through its
    product) must not stand in for the rows after the next one changed them."""
    product, _ = await make_product(gql, "FRESH-1", stock=10)
    body = await gql(
        """mutation($id: ID!) {
          a: stockAdjust(input: {productId: $id, delta: -3, reason: ADJUSTMENT}) {
            product { stockLevel { quantity } } errors { code } }
          b: stockAdjust(input: {productId: $id, delta: -4, reason: ADJUSTMENT}) {
            product { stockLevel { quantity } } errors { code } }
        }""",
        {"id": product},
    )
    assert "errors" not in body, body
    assert body["data"]["a"]["product"]["stockLevel"] == {"quantity": 7}
    assert body["data"]["b"]["product"]["stockLevel"] == {"quantity": 3}
