"""Orders and stock under concurrent load: real commits, real parallel connections.

Every request is fired at once (``asyncio.gather``) against the app over a database of
the test's own with a pool of 40 connections. The assertions are exact counts and the
invariants that must hold whatever the interleaving: stock never below zero and equal to
the sum of its movements, ``order_count`` equal to the number of non-cancelled orders,
every loser told so with a typed payload error (no top-level error, no 500).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import text

from opsgraph.graph.ids import parse_global_id, to_global_id
from opsgraph.models import Customer
from tests.conftest import LiveApi

CREATE = """mutation($input: OrderCreateInput!) { orderCreate(input: $input) {
  order { id } errors { code field message } } }"""
CANCEL = """mutation($id: ID!) { orderCancel(input: {id: $id}) {
  order { id status } errors { code field } } }"""
ADJUST = """mutation($input: StockAdjustInput!) { stockAdjust(input: $input) {
  movement { id } errors { code field } } }"""
PRODUCT = """mutation($input: ProductCreateInput!) { productCreate(input: $input) {
  product { id } errors { code field } } }"""


async def make_customer(live: LiveApi) -> tuple[str, int]:
    async with live.session_factory() as session:
        customer = Customer(name="Rush Buyer", email="rush@example.com", order_count=0)
        session.add(customer)
        await session.commit()
        return to_global_id("Customer", customer.id), customer.id


async def make_product(live: LiveApi, sku: str, stock: int) -> tuple[str, int]:
    data = await live.data(
        PRODUCT, {"input": {"sku": sku, "name": sku, "unitPrice": "5.00", "initialStock": stock}}
    )
    assert data["productCreate"]["errors"] == []
    gid: str = data["productCreate"]["product"]["id"]
    return gid, parse_global_id(gid, "Product")


async def payloads(live: LiveApi, requests: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Send every request at once; each must be a 200 without top-level errors. Returns
    each one's (only) mutation payload, in the order sent."""
    responses = await asyncio.gather(*(live.gql(query, variables) for query, variables in requests))
    found = []
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        [payload] = body["data"].values()
        found.append(payload)
    return found


def outcome(payload: dict[str, Any]) -> str:
    """``ok`` or the code of the payload's one error."""
    if not payload["errors"]:
        return "ok"
    [error] = payload["errors"]
    code: str = error["code"]
    return code


async def check_invariants(live: LiveApi) -> dict[str, Any]:
    """Stock >= 0 and equal to the sum of its movements; order_count = orders not
    cancelled; returns the figures for the test's own exact checks."""
    async with live.session_factory() as session:
        stock = list(
            await session.execute(
                text(
                    "SELECT s.product_id, s.quantity, coalesce(sum(m.delta), 0) AS moved "
                    "FROM stock_level s LEFT JOIN stock_movement m USING (product_id) "
                    "GROUP BY s.product_id, s.quantity"
                )
            )
        )
        counts = list(
            await session.execute(
                text(
                    "SELECT c.id, c.order_count, count(o.id) FILTER "
                    "(WHERE o.status <> 'cancelled') FROM customer c "
                    'LEFT JOIN "order" o ON o.customer_id = c.id GROUP BY c.id'
                )
            )
        )
        movements = Counter(
            dict(
                (
                    await session.execute(
                        text("SELECT reason, count(*) FROM stock_movement GROUP BY reason")
                    )
                ).all()
            )
        )
    for product_id, quantity, moved in stock:
        assert quantity >= 0, product_id
        assert quantity == moved, product_id
    for customer_id, order_count, live_orders in counts:
        assert order_count == live_orders, customer_id
    return {
        "stock": {row.product_id: row.quantity for row in stock},
        "order_count": {row.id: row.order_count for row in counts},
        "movements": movements,
    }


async def test_120_orders_of_one_unit_against_a_stock_of_50(live: LiveApi) -> None:
    """Exactly 50 orders win, the other 70 get INSUFFICIENT_STOCK in their payloads.

    Shown to depend on the row lock (tried on 2026-12-02, then restored):
    - ``lock_stock`` without ``FOR UPDATE`` (the UPDATE in ``move_stock`` still
      relative and conditional): 4 orders succeeded and 116 requests got a masked
      top-level "Unexpected error." (``move_stock``'s AssertionError "stock of product 1
      changed under its lock": the quantity had moved since it was read); stock 46, 4
      sale movements.
    - plain read-modify-write (no ``FOR UPDATE``, ``SET quantity = <computed>``): all
      120 "succeeded" (``Counter({'ok': 120})`` instead of 50 ok / 70
      INSUFFICIENT_STOCK); lost updates left stock at 47, not 0, with 120 sale
      movements (quantity_after 44-49) summing to -120, so stock 47 != sum of movements
      -70; order_count 120. The CHECK (quantity >= 0) never fired: the quantity never
      went below zero, it was just wrong. The mixed test below failed the same way
      (product MIX-B: stock 28, its movements summing to -30).
    """
    customer, customer_pk = await make_customer(live)
    product, product_pk = await make_product(live, "RUSH-1", 50)
    order = {"input": {"customerId": customer, "lines": [{"productId": product, "quantity": 1}]}}
    results = await payloads(live, [(CREATE, order)] * 120)
    assert Counter(map(outcome, results)) == {"ok": 50, "INSUFFICIENT_STOCK": 70}
    for payload in results:
        if payload["errors"]:
            assert payload["order"] is None
            [error] = payload["errors"]
            assert error["field"] == ["lines", "0", "quantity"]
            assert error["message"] == "only 0 of product RUSH-1 in stock; the order needs 1"
    assert len({p["order"]["id"] for p in results if not p["errors"]}) == 50
    figures = await check_invariants(live)
    assert figures["stock"] == {product_pk: 0}
    assert figures["movements"] == {"initial": 1, "sale": 50}
    assert figures["order_count"] == {customer_pk: 50}


async def test_cancellations_and_orders_in_parallel_keep_the_books(live: LiveApi) -> None:
    """Orders of two products (lines in either order: the locks are taken by product id,
    so they can't deadlock), double cancellations and stock adjustments all at once."""
    customer, customer_pk = await make_customer(live)
    first, first_pk = await make_product(live, "MIX-A", 30)
    second, second_pk = await make_product(live, "MIX-B", 30)

    def order(*lines: tuple[str, int]) -> tuple[str, dict[str, Any]]:
        given = [{"productId": product, "quantity": quantity} for product, quantity in lines]
        return CREATE, {"input": {"customerId": customer, "lines": given}}

    placed = await payloads(live, [order((first, 1), (second, 1))] * 10)
    assert Counter(map(outcome, placed)) == {"ok": 10}
    to_cancel = [payload["order"]["id"] for payload in placed]
    # 20 left of each product; 60 orders want 2 units of A and 1 of B, in both line orders,
    # while the 10 orders are each cancelled twice and the stock is counted up and down
    mixed: list[tuple[str, dict[str, Any]]] = []
    for i in range(60):
        lines = [(first, 1), (second, 1), (first, 1)]
        mixed.append(order(*(lines if i % 2 else lines[::-1])))
    for order_id in to_cancel:
        mixed += [(CANCEL, {"id": order_id})] * 2
    for delta in (5, -3, 4, -6):
        adjust = {"productId": second, "delta": delta, "reason": "ADJUSTMENT"}
        mixed.append((ADJUST, {"input": adjust}))
    results = await payloads(live, mixed)
    creates, cancels, adjusts = results[:60], results[60:80], results[80:]
    assert Counter(map(outcome, cancels)) == {"ok": 10, "INVALID_TRANSITION": 10}
    assert set(map(outcome, creates)) <= {"ok", "INSUFFICIENT_STOCK"}
    assert set(map(outcome, adjusts)) <= {"ok", "INSUFFICIENT_STOCK"}
    won = sum(outcome(payload) == "ok" for payload in creates)
    adjusted = sum(
        delta
        for delta, payload in zip((5, -3, 4, -6), adjusts, strict=True)
        if outcome(payload) == "ok"
    )
    figures = await check_invariants(live)
    # A: 30 at first, each winning order took 2; the 10 cancelled orders gave theirs back
    assert figures["stock"] == {first_pk: 30 - 2 * won, second_pk: 30 - won + adjusted}
    assert figures["order_count"] == {customer_pk: won}
    assert figures["movements"]["cancellation"] == 20  # 10 orders x 2 lines
    assert figures["movements"]["sale"] == 20 + 3 * won
    # product A alone limits the orders: 30 units, 2 per order, whatever the interleaving
    assert won <= 15


async def test_concurrent_creates_of_one_sku_make_one_product(live: LiveApi) -> None:
    product = {"input": {"sku": "ONLY-ONE", "name": "Only one", "unitPrice": "1.00"}}
    results = await payloads(live, [(PRODUCT, product)] * 12)
    assert Counter(map(outcome, results)) == {"ok": 1, "DUPLICATE_SKU": 11}
    for payload in results:
        if payload["errors"]:
            assert payload["errors"][0]["field"] == ["sku"]
    async with live.session_factory() as session:
        made = await session.scalar(text("SELECT count(*) FROM product WHERE sku = 'ONLY-ONE'"))
        levels = await session.scalar(text("SELECT count(*) FROM stock_level"))
    assert (made, levels) == (1, 1)


async def test_30_adjustments_of_minus_one_against_a_stock_of_20(live: LiveApi) -> None:
    """Exactly 20 win; the other 10 get INSUFFICIENT_STOCK.

    Shown to depend on the conditional UPDATE (tried on 2026-12-02, then restored): with
    ``adjust_stock`` reading the quantity and writing ``SET quantity = <read - 1>``, all
    30 "succeeded" (``Counter({'ok': 30})``), stock ended at 18 while its 31 movements
    summed to -10 (lost updates; quantity_after 18-19 on all 30 adjustments).
    """
    product, product_pk = await make_product(live, "COUNT-1", 20)
    adjust = {"input": {"productId": product, "delta": -1, "reason": "ADJUSTMENT"}}
    results = await payloads(live, [(ADJUST, adjust)] * 30)
    assert Counter(map(outcome, results)) == {"ok": 20, "INSUFFICIENT_STOCK": 10}
    for payload in results:
        if payload["errors"]:
            assert payload["errors"][0]["field"] == ["delta"]
    figures = await check_invariants(live)
    assert figures["stock"] == {product_pk: 0}
    assert figures["movements"] == {"initial": 1, "adjustment": 20}
