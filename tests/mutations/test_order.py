"""Orders through GraphQL: orderCreate (every rule, the dry run), orderConfirm,
orderComplete, orderCancel and ``Order.availableTransitions``; every refusal with its code
and field, changing nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.graph.ids import parse_global_id, to_global_id
from opsgraph.models import Customer, Property
from tests.conftest import GraphQLClient
from tests.mutations.helpers import events, refused
from tests.mutations.test_product import (
    DEACTIVATE,
    ERRORS,
    caller_without,
    make_product,
    state,
)

ORDER = """id status subtotal tax total externalId availableTransitions
  customer { orderCount } property { label }
  lines { edges { node { quantity unitPrice lineTotal
    product { sku stockLevel { quantity } } } } }"""
CREATE = f"""mutation($input: OrderCreateInput!) {{ orderCreate(input: $input) {{
  order {{ {ORDER} }} {ERRORS} }} }}"""
MOVE = """mutation($id: ID!) {{ {name}(input: {{id: $id}}) {{
  order {{ id status availableTransitions customer {{ orderCount }} }} {errors} }} }}"""
CONFIRM = MOVE.format(name="orderConfirm", errors=ERRORS)
COMPLETE = MOVE.format(name="orderComplete", errors=ERRORS)
CANCEL = MOVE.format(name="orderCancel", errors=ERRORS)


@dataclass
class World:
    """A customer with a property, another customer's property, and two products."""

    customer: str
    customer_pk: int
    own_property: str
    other_property: str
    shovel: str  # 10 in stock at 249.50
    salt: str  # 2 in stock at 19.90
    shovel_pk: int
    salt_pk: int


async def customer(session: AsyncSession, name: str) -> Customer:
    row = Customer(name=name, email=f"{name.lower()}@example.com", order_count=0)
    session.add(row)
    await session.flush()
    return row


async def prop(session: AsyncSession, owner: Customer, label: str) -> Property:
    row = Property(customer_id=owner.id, label=label, country="SE")
    session.add(row)
    await session.flush()
    return row


@pytest.fixture
async def world(gql: GraphQLClient, session: AsyncSession) -> World:
    buyer = await customer(session, "Buyer")
    other = await customer(session, "Other")
    own = await prop(session, buyer, "Main street 1")
    theirs = await prop(session, other, "Side street 2")
    shovel, shovel_pk = await make_product(gql, "SHOVEL-1", price="249.50", stock=10)
    salt, salt_pk = await make_product(gql, "SALT-1", price="19.90", stock=2)
    return World(
        to_global_id("Customer", buyer.id),
        buyer.id,
        to_global_id("Property", own.id),
        to_global_id("Property", theirs.id),
        shovel,
        salt,
        shovel_pk,
        salt_pk,
    )


def line(product: str, quantity: int, **more: Any) -> dict[str, Any]:
    return {"productId": product, "quantity": quantity, **more}


async def place(gql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    body = await gql(CREATE, {"input": fields})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["orderCreate"]
    return payload


async def stock_is_sum_of_movements(session: AsyncSession) -> None:
    rows = await session.execute(
        text(
            "SELECT s.product_id, s.quantity, coalesce(sum(m.delta), 0) FROM stock_level s "
            "LEFT JOIN stock_movement m ON m.product_id = s.product_id GROUP BY s.product_id"
        )
    )
    for product_id, quantity, moved in rows:
        assert quantity == moved, product_id


def nodes(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in order["lines"]["edges"]]


# --- orderCreate ------------------------------------------------------------------------


async def test_create_takes_the_stock_and_counts_the_order(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    payload = await place(
        gql,
        customerId=world.customer,
        propertyId=world.own_property,
        lines=[line(world.shovel, 2), line(world.salt, 2, unitPrice="15")],
        tax="124.75",
        externalId=" ERP-77 ",
    )
    assert payload["errors"] == []
    order = payload["order"]
    assert {k: order[k] for k in ("status", "subtotal", "tax", "total", "externalId")} == {
        "status": "PENDING",
        "subtotal": "529.00",
        "tax": "124.75",
        "total": "653.75",
        "externalId": "ERP-77",
    }
    assert order["availableTransitions"] == ["CONFIRMED", "CANCELLED"]
    assert order["customer"] == {"orderCount": 1}
    assert order["property"] == {"label": "Main street 1"}
    assert nodes(order) == [
        {
            "quantity": 2,
            "unitPrice": "249.50",  # the product's price
            "lineTotal": "499.00",
            "product": {"sku": "SHOVEL-1", "stockLevel": {"quantity": 8}},
        },
        {
            "quantity": 2,
            "unitPrice": "15.00",  # given
            "lineTotal": "30.00",
            "product": {"sku": "SALT-1", "stockLevel": {"quantity": 0}},
        },
    ]
    order_pk = parse_global_id(order["id"], "Order")
    now = await state(session)
    sales = [m for m in now["movements"] if m[3] == "sale"]
    assert [(p, d, q, o) for _, p, d, _, q, o in sales] == [
        (world.shovel_pk, -2, 8, order_pk),
        (world.salt_pk, -2, 0, order_pk),
    ]
    await stock_is_sum_of_movements(session)
    [event] = await events(session, "order.create")
    assert (event.entity_type, event.entity_id) == ("Order", order_pk)
    assert event.changes["after"] == {
        "customer_id": world.customer_pk,
        "property_id": parse_global_id(world.own_property, "Property"),
        "status": "pending",
        "external_id": "ERP-77",
        "subtotal": "529.00",
        "tax": "124.75",
        "total": "653.75",
        "lines": [
            {
                "product_id": world.shovel_pk,
                "sku": "SHOVEL-1",
                "quantity": 2,
                "unit_price": "249.50",
                "line_total": "499.00",
            },
            {
                "product_id": world.salt_pk,
                "sku": "SALT-1",
                "quantity": 2,
                "unit_price": "15.00",
                "line_total": "30.00",
            },
        ],
    }
    assert event.changes["stock_after"] == {str(world.shovel_pk): 8, str(world.salt_pk): 0}


async def test_lines_of_one_product_share_its_stock(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    payload = await place(
        gql,
        customerId=world.customer,
        lines=[line(world.shovel, 3), line(world.salt, 1), line(world.shovel, 7)],
    )
    assert payload["errors"] == []
    assert payload["order"]["total"] == "2514.90"
    sales = [m for m in (await state(session))["movements"] if m[3] == "sale"]
    assert [(p, d, q) for _, p, d, _, q, _ in sales] == [
        (world.shovel_pk, -3, 7),
        (world.salt_pk, -1, 1),
        (world.shovel_pk, -7, 0),
    ]
    await stock_is_sum_of_movements(session)
    # 1 salt left: two lines of one each need 2; the second line is the one named
    before = await state(session)
    error = refused(
        await gql(
            CREATE,
            {"input": {"customerId": world.customer, "lines": [line(world.salt, 1)] * 2}},
        ),
        "orderCreate",
        "order",
    )
    assert (error["code"], error["field"]) == ("INSUFFICIENT_STOCK", ["lines", "1", "quantity"])
    assert error["message"] == "only 1 of product SALT-1 in stock; the order needs 2"
    assert await state(session) == before


Change = Callable[[World], dict[str, Any]]
REFUSALS: list[tuple[str, Change, str, list[str], str]] = [
    (
        "unknown customer",
        lambda w: {"customerId": to_global_id("Customer", 10**9)},
        "NOT_FOUND",
        ["customerId"],
        "no customer",
    ),
    (
        "customer id of another type",
        lambda w: {"customerId": w.shovel},
        "BAD_USER_INPUT",
        ["customerId"],
        "names a product, not a customer",
    ),
    (
        "unknown property",
        lambda w: {"propertyId": to_global_id("Property", 10**9)},
        "NOT_FOUND",
        ["propertyId"],
        "no property",
    ),
    (
        "another customer's property",
        lambda w: {"propertyId": w.other_property},
        "PROPERTY_CUSTOMER_MISMATCH",
        ["propertyId"],
        "another customer",
    ),
    ("no lines", lambda w: {"lines": []}, "BAD_USER_INPUT", ["lines"], "at least one line"),
    (
        "quantity 0",
        lambda w: {"lines": [line(w.shovel, 1), line(w.salt, 0)]},
        "BAD_USER_INPUT",
        ["lines", "1", "quantity"],
        "at least 1",
    ),
    (
        "negative quantity",
        lambda w: {"lines": [line(w.shovel, -2)]},
        "BAD_USER_INPUT",
        ["lines", "0", "quantity"],
        "at least 1",
    ),
    (
        "unknown product",
        lambda w: {"lines": [line(w.shovel, 1), line(to_global_id("Product", 10**9), 1)]},
        "NOT_FOUND",
        ["lines", "1", "productId"],
        "no product",
    ),
    (
        "product id of another type",
        lambda w: {"lines": [line(w.shovel, 1), line(w.customer, 1)]},
        "BAD_USER_INPUT",
        ["lines", "1", "productId"],
        "names a customer, not a product",
    ),
    (
        "malformed product id",
        lambda w: {"lines": [line("???", 1)]},
        "BAD_USER_INPUT",
        ["lines", "0", "productId"],
        "not a valid id",
    ),
    (
        "not enough stock",
        lambda w: {"lines": [line(w.shovel, 9), line(w.salt, 3)]},
        "INSUFFICIENT_STOCK",
        ["lines", "1", "quantity"],
        "only 2 of product SALT-1 in stock; the order needs 3",
    ),
    (
        "unit price with 3 decimals",
        lambda w: {"lines": [line(w.shovel, 1, unitPrice="1.001")]},
        "BAD_USER_INPUT",
        ["lines", "0", "unitPrice"],
        "2 decimals",
    ),
    (
        "negative unit price",
        lambda w: {"lines": [line(w.shovel, 1, unitPrice="-1")]},
        "BAD_USER_INPUT",
        ["lines", "0", "unitPrice"],
        "negative",
    ),
    (
        "line total beyond NUMERIC(12,2)",
        lambda w: {"lines": [line(w.shovel, 2, unitPrice="9999999999.99")]},
        "BAD_USER_INPUT",
        ["lines", "0", "quantity"],
        "line total",
    ),
    ("negative tax", lambda w: {"tax": "-0.50"}, "BAD_USER_INPUT", ["tax"], "negative"),
    ("tax with 3 decimals", lambda w: {"tax": "0.125"}, "BAD_USER_INPUT", ["tax"], "decimals"),
    (
        "order total beyond NUMERIC(12,2)",
        lambda w: {"tax": "9999999999.99"},
        "BAD_USER_INPUT",
        ["lines"],
        "order total",
    ),
    (
        "duplicate external id",
        lambda w: {"externalId": "ERP-1"},
        "DUPLICATE_EXTERNAL_ID",
        ["externalId"],
        "ERP-1",
    ),
    (
        "blank external id",
        lambda w: {"externalId": "  "},
        "BAD_USER_INPUT",
        ["externalId"],
        "blank",
    ),
    (
        "dry run of an order without the stock",
        lambda w: {"lines": [line(w.salt, 5)], "dryRun": True},
        "INSUFFICIENT_STOCK",
        ["lines", "0", "quantity"],
        "only 2",
    ),
]


@pytest.mark.parametrize(
    ("change", "code", "field", "said"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSALS],
)
async def test_create_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    world: World,
    change: Change,
    code: str,
    field: list[str],
    said: str,
) -> None:
    first = await place(
        gql, customerId=world.customer, lines=[line(world.shovel, 1)], externalId="ERP-1"
    )
    assert first["errors"] == []
    before = await state(session)
    given = {"customerId": world.customer, "lines": [line(world.shovel, 1)]} | change(world)
    error = refused(await gql(CREATE, {"input": given}), "orderCreate", "order")
    assert (error["code"], error["field"]) == (code, field)
    assert said in error["message"]
    assert await state(session) == before


async def test_inactive_products_cant_be_ordered(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    deactivated = await gql(DEACTIVATE, {"id": world.salt})
    assert deactivated["data"]["productDeactivate"]["errors"] == []
    before = await state(session)
    error = refused(
        await gql(
            CREATE,
            {
                "input": {
                    "customerId": world.customer,
                    "lines": [line(world.shovel, 1), line(world.salt, 1)],
                }
            },
        ),
        "orderCreate",
        "order",
    )
    assert (error["code"], error["field"]) == ("INACTIVE", ["lines", "1", "productId"])
    assert "SALT-1 is inactive" in error["message"]
    assert await state(session) == before


async def test_dry_run_shows_the_order_and_keeps_nothing(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    before = await state(session)
    payload = await place(
        gql,
        customerId=world.customer,
        propertyId=world.own_property,
        lines=[line(world.shovel, 4), line(world.salt, 1)],
        tax="10.00",
        dryRun=True,
    )
    assert payload["errors"] == []
    order = payload["order"]
    assert (order["status"], order["subtotal"], order["tax"], order["total"]) == (
        "PENDING",
        "1017.90",
        "10.00",
        "1027.90",
    )
    assert order["customer"] == {"orderCount": 1}
    assert [
        (n["quantity"], n["lineTotal"], n["product"]["stockLevel"]["quantity"])
        for n in nodes(order)
    ] == [(4, "998.00", 6), (1, "19.90", 1)]
    # nothing kept: no order, line, movement, audit event; stock and order_count as before
    assert await state(session) == before
    gone = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": order["id"]})
    assert gone["data"]["node"] is None
    # and the same order for real afterwards gets the same numbers
    real = await place(
        gql,
        customerId=world.customer,
        lines=[line(world.shovel, 4), line(world.salt, 1)],
        tax="10.00",
    )
    assert real["order"]["total"] == "1027.90"


# --- status changes ---------------------------------------------------------------------


async def move(gql: GraphQLClient, query: str, order: str) -> dict[str, Any]:
    body = await gql(query, {"id": order})
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


async def test_confirm_then_complete_follow_the_table(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    order = (await place(gql, customerId=world.customer, lines=[line(world.shovel, 1)]))["order"]
    pk = parse_global_id(order["id"], "Order")
    confirmed = await move(gql, CONFIRM, order["id"])
    assert confirmed["errors"] == []
    assert confirmed["order"]["status"] == "CONFIRMED"
    assert confirmed["order"]["availableTransitions"] == ["COMPLETED", "CANCELLED"]
    completed = await move(gql, COMPLETE, order["id"])
    assert completed["order"]["status"] == "COMPLETED"
    assert completed["order"]["availableTransitions"] == []
    assert completed["order"]["customer"] == {"orderCount": 1}
    [confirm_event] = await events(session, "order.confirm")
    [complete_event] = await events(session, "order.complete")
    assert (confirm_event.entity_type, confirm_event.entity_id) == ("Order", pk)
    assert confirm_event.changes == {
        "before": {"status": "pending"},
        "after": {"status": "confirmed"},
    }
    assert complete_event.changes == {
        "before": {"status": "confirmed"},
        "after": {"status": "completed"},
    }
    # the order's history, newest first
    history = await gql(
        "query($id: ID!) { node(id: $id) { ... on Order { history { edges { node { action"
        " } } } } } }",
        {"id": order["id"]},
    )
    actions = [e["node"]["action"] for e in history["data"]["node"]["history"]["edges"]]
    assert sorted(actions) == ["order.complete", "order.confirm", "order.create"]


@pytest.mark.parametrize(
    ("steps", "query", "said"),
    [
        (
            [],
            COMPLETE,
            "a PENDING order can't become COMPLETED: it can become CONFIRMED or CANCELLED",
        ),
        ([CONFIRM], CONFIRM, "a CONFIRMED order can't become CONFIRMED"),
        ([CONFIRM, COMPLETE], CANCEL, "a COMPLETED order can't become CANCELLED"),
        ([CANCEL], CONFIRM, "a CANCELLED order can't become CONFIRMED: it can't change"),
        ([CANCEL], CANCEL, "a CANCELLED order can't become CANCELLED"),
    ],
)
async def test_transitions_outside_the_table_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    world: World,
    steps: list[str],
    query: str,
    said: str,
) -> None:
    order = (await place(gql, customerId=world.customer, lines=[line(world.shovel, 2)]))["order"]
    for step in steps:
        assert (await move(gql, step, order["id"]))["errors"] == []
    before = await state(session)
    error = refused(await gql(query, {"id": order["id"]}), _name(query)[0], "order")
    assert (error["code"], error["field"]) == ("INVALID_TRANSITION", ["id"])
    assert said in error["message"]
    assert await state(session) == before


def _name(query: str) -> list[str]:
    for name in ("orderConfirm", "orderComplete", "orderCancel"):
        if name in query:
            return [name]
    raise AssertionError(query)


@pytest.mark.parametrize("query", [CONFIRM, COMPLETE, CANCEL])
async def test_status_changes_of_unknown_orders(
    gql: GraphQLClient, session: AsyncSession, world: World, query: str
) -> None:
    before = await state(session)
    for order, code in [
        (to_global_id("Order", 10**9), "NOT_FOUND"),
        (world.shovel, "BAD_USER_INPUT"),
    ]:
        error = refused(await gql(query, {"id": order}), _name(query)[0], "order")
        assert (error["code"], error["field"]) == (code, ["id"])
    assert await state(session) == before


@pytest.mark.parametrize("confirm_first", [False, True])
async def test_cancel_restores_the_stock_and_the_count(
    gql: GraphQLClient, session: AsyncSession, world: World, confirm_first: bool
) -> None:
    kept = await place(gql, customerId=world.customer, lines=[line(world.shovel, 1)])
    order = (
        await place(
            gql,
            customerId=world.customer,
            lines=[line(world.shovel, 3), line(world.salt, 2), line(world.shovel, 1)],
        )
    )["order"]
    pk = parse_global_id(order["id"], "Order")
    if confirm_first:
        await move(gql, CONFIRM, order["id"])
    cancelled = await move(gql, CANCEL, order["id"])
    assert cancelled["errors"] == []
    assert cancelled["order"]["status"] == "CANCELLED"
    assert cancelled["order"]["availableTransitions"] == []
    assert cancelled["order"]["customer"] == {"orderCount": 1}  # the kept order
    assert kept["order"]["customer"] == {"orderCount": 1}
    now = await state(session)
    assert dict(now["stock"])[world.shovel_pk] == 9
    assert dict(now["stock"])[world.salt_pk] == 2
    back = [m for m in now["movements"] if m[3] == "cancellation"]
    assert [(p, d, q, o) for _, p, d, _, q, o in back] == [
        (world.shovel_pk, 3, 8, pk),
        (world.salt_pk, 2, 2, pk),
        (world.shovel_pk, 1, 9, pk),
    ]
    await stock_is_sum_of_movements(session)
    [event] = await events(session, "order.cancel")
    assert (event.entity_type, event.entity_id) == ("Order", pk)
    assert event.changes == {
        "before": {"status": "confirmed" if confirm_first else "pending"},
        "after": {"status": "cancelled"},
        "restored": [
            {"product_id": world.shovel_pk, "quantity": 3},
            {"product_id": world.salt_pk, "quantity": 2},
            {"product_id": world.shovel_pk, "quantity": 1},
        ],
        "stock_after": {str(world.shovel_pk): 9, str(world.salt_pk): 2},
    }
    # the stock is back: the salt can be sold again
    again = await place(gql, customerId=world.customer, lines=[line(world.salt, 2)])
    assert again["errors"] == []


async def test_available_transitions_on_the_compiled_read_path(
    gql: GraphQLClient, world: World
) -> None:
    ids = []
    for steps in ([], [CONFIRM], [CONFIRM, COMPLETE], [CANCEL]):
        order = (await place(gql, customerId=world.customer, lines=[line(world.shovel, 1)]))[
            "order"
        ]
        for step in steps:
            await move(gql, step, order["id"])
        ids.append(order["id"])
    body = await gql(
        "{ orders(first: 10) { edges { node { id status availableTransitions } } } }",
        **{"X-Opsgraph-Statements": "1"},
    )
    assert body["extensions"]["readPath"] == "compiled"
    found = {e["node"]["id"]: e["node"] for e in body["data"]["orders"]["edges"]}
    assert [(found[i]["status"], found[i]["availableTransitions"]) for i in ids] == [
        ("PENDING", ["CONFIRMED", "CANCELLED"]),
        ("CONFIRMED", ["COMPLETED", "CANCELLED"]),
        ("COMPLETED", []),
        ("CANCELLED", []),
    ]


# --- permissions ------------------------------------------------------------------------


async def test_order_write_is_needed(
    gql: GraphQLClient,
    session: AsyncSession,
    world: World,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    order = (await place(gql, customerId=world.customer, lines=[line(world.shovel, 1)]))["order"]
    headers = await caller_without(anon_client, session_factory)
    before = await state(session)
    create = {"input": {"customerId": world.customer, "lines": [line(world.shovel, 1)]}}
    for query, variables in [
        (CREATE, create),
        (CONFIRM, {"id": order["id"]}),
        (COMPLETE, {"id": order["id"]}),
        (CANCEL, {"id": order["id"]}),
    ]:
        body = await gql(query, variables, status=403, **headers)
        [error] = body["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "order:write" in error["message"]
    assert await state(session) == before


async def test_an_invoiced_order_is_not_cancelled_until_its_invoice_is_void(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    order = (await place(gql, customerId=world.customer, lines=[line(world.shovel, 2)]))["order"]
    made = await gql(
        """mutation($id: ID!) { invoiceCreateFromOrder(input: {orderId: $id}) {
          invoice { id number } errors { code } } }""",
        {"id": order["id"]},
    )
    invoice = made["data"]["invoiceCreateFromOrder"]["invoice"]
    before = await state(session)
    error = refused(await gql(CANCEL, {"id": order["id"]}), "orderCancel", "order")
    assert (error["code"], error["field"]) == ("ALREADY_INVOICED", ["id"])
    assert invoice["number"] in error["message"]
    assert await state(session) == before
    voided = await gql(
        """mutation($id: ID!) { invoiceVoid(input: {id: $id}) { errors { code } } }""",
        {"id": invoice["id"]},
    )
    assert voided["data"]["invoiceVoid"]["errors"] == []
    cancelled = await move(gql, CANCEL, order["id"])
    assert cancelled["errors"] == []
    assert cancelled["order"]["status"] == "CANCELLED"
