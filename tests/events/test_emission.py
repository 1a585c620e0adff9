"""Every type of the catalogue is emitted by its service path, in the transaction of the
change, with the documented payload; a change that changes nothing emits nothing."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.events.catalogue import EVENT_TYPES
from opsgraph.events.emit import envelope
from opsgraph.services import customer as customers
from opsgraph.services import order as orders
from opsgraph.services import purchase_order as purchase_orders
from opsgraph.services import stock
from tests.conftest import GraphQLClient
from tests.events.catalogue_run import (
    admin,
    by_type,
    emitted,
    run_catalogue,
    set_reorder_level,
)
from tests.mutations.helpers import gid


async def test_every_type_is_emitted_with_its_payload(session: AsyncSession) -> None:
    actor = await admin(session)
    ran = await run_catalogue(session, actor)
    events = await emitted(session)
    found = by_type(events)
    assert set(found) == set(EVENT_TYPES)
    customer = gid("Customer", ran.customer_id)
    # every event but stock.low belongs to the customer; each names its object
    for event in events:
        expected = None if event.type == "stock.low" else ran.customer_id
        assert event.customer_id == expected, event.type
        assert event.actor_user_id == actor.user_id
        body = envelope(event)
        assert body["id"] == f"evt_{event.uid.hex}"
        assert body["objectId"] == gid(event.entity_type, event.entity_id)

    [created] = found["customer.created"]
    assert created == {
        "id": customer,
        "externalId": f"C-{ran.salt}",
        "name": "Nordic Roofing",
        "email": "ops@nordic.example",
        "phone": None,
        "orgNo": None,
    }
    [updated] = found["customer.updated"]
    assert updated["changes"] == {"phone": {"from": None, "to": "+46 8 123 456"}}
    assert (updated["id"], updated["externalId"]) == (customer, f"C-{ran.salt}")

    [order] = found["order.created"]
    assert order["id"] == gid("Order", ran.order_id)
    assert (order["customerId"], order["status"], order["externalId"]) == (
        customer,
        "PENDING",
        f"O-{ran.salt}",
    )
    assert (order["subtotal"], order["tax"], order["total"]) == ("159.20", "4.00", "163.20")
    [line] = order["lines"]
    assert line["productId"] == gid("Product", ran.product_id)
    assert (line["quantity"], line["unitPrice"], line["lineTotal"]) == (8, "19.90", "159.20")
    assert line["sku"] == f"SALT-{ran.salt}"
    [moved] = found["order.status_changed"]
    assert moved["changes"] == {"status": {"from": "PENDING", "to": "CONFIRMED"}}
    assert (moved["customerId"], moved["externalId"]) == (customer, f"O-{ran.salt}")

    invoice_events = found["invoice.created"]
    assert [data["id"] for data in invoice_events] == [
        gid("Invoice", ran.invoice_id),
        gid("Invoice", ran.void_invoice_id),
    ]
    made = invoice_events[0]
    assert (made["status"], made["total"], made["orderId"], made["customerId"]) == (
        "DRAFT",
        "163.20",
        gid("Order", ran.order_id),
        customer,
    )
    assert made["number"].startswith("INV-2026-")
    assert (made["issuedDate"], made["dueDate"]) == ("2026-12-01", "2026-12-31")
    [sent] = found["invoice.sent"]
    assert sent["changes"] == {"status": {"from": "DRAFT", "to": "SENT"}}
    assert sent["number"] == made["number"]
    [paid] = found["invoice.paid"]
    assert paid["changes"] == {"status": {"from": "SENT", "to": "PAID"}}
    assert paid["paymentId"] == gid("Payment", ran.payment_ids[1])
    [voided] = found["invoice.voided"]
    assert voided["changes"] == {"status": {"from": "DRAFT", "to": "VOID"}}
    assert voided["reason"] == "issued twice"
    assert voided["id"] == gid("Invoice", ran.void_invoice_id)

    first, second = found["payment.recorded"]
    assert first["id"] == gid("Payment", ran.payment_ids[0])
    assert (first["amount"], first["method"], first["reference"]) == (
        "100.00",
        "BANK_TRANSFER",
        f"P1-{ran.salt}",
    )
    assert (first["invoiceId"], first["invoiceNumber"], first["customerId"]) == (
        gid("Invoice", ran.invoice_id),
        made["number"],
        customer,
    )
    assert second["amount"] == "63.20"
    # the settling payment comes before the invoice it settles
    order_of = [event.type for event in events]
    assert order_of.index("invoice.paid") > len(order_of) - 1 - order_of[::-1].index(
        "payment.recorded"
    )

    [ticket] = found["ticket.created"]
    assert (ticket["id"], ticket["customerId"], ticket["status"], ticket["priority"]) == (
        gid("Ticket", ran.ticket_id),
        customer,
        "OPEN",
        "HIGH",
    )
    assert ticket["subject"] == "Gutter leaks"
    [changed] = found["ticket.status_changed"]
    assert changed["changes"] == {"status": {"from": "OPEN", "to": "IN_PROGRESS"}}

    [purchase] = found["purchase_order.created"]
    assert purchase["id"] == gid("PurchaseOrder", ran.purchase_order_id)
    assert (purchase["state"], purchase["amount"], purchase["stateVersion"]) == (
        "RECEIVED",
        "1200.00",
        1,
    )
    assert (purchase["externalId"], purchase["customerId"]) == (f"PO-{ran.salt}", customer)
    [state] = found["purchase_order.state_changed"]
    assert state["changes"] == {
        "state": {"from": "RECEIVED", "to": "APPROVED"},
        "stateVersion": {"from": 1, "to": 2},
    }
    assert state["externalId"] == f"PO-{ran.salt}"
    assert (purchase["brand"], purchase["carModel"], state["brand"]) == ("Volvo", "XC60", "Volvo")

    # the order took the stock from 12 to 4 (level 5); the adjustment to 3 emitted nothing
    [low] = found["stock.low"]
    assert low == {
        "productId": gid("Product", ran.product_id),
        "sku": f"SALT-{ran.salt}",
        "quantity": 4,
        "previousQuantity": 12,
        "reorderLevel": 5,
    }


async def test_stock_low_fires_on_each_fall_not_while_low(session: AsyncSession) -> None:
    actor = await admin(session)
    ran = await run_catalogue(session, actor)  # stock 3, level 5, one stock.low so far

    async def adjust(delta: int) -> None:
        await stock.adjust_stock(
            session, product_id=ran.product_id, delta=delta, reason="adjustment", actor=actor
        )

    await adjust(-1)  # 2: still low
    await adjust(+2)  # 4: still low
    assert len(await emitted(session, "stock.low")) == 1
    await adjust(+2)  # 6: above the level again
    await adjust(-1)  # 5: at the level: falls again
    lows = await emitted(session, "stock.low")
    assert [(e.data["previousQuantity"], e.data["quantity"]) for e in lows] == [(12, 4), (6, 5)]
    # a cancelled order restoring stock is no fall
    await set_reorder_level(session, ran.product_id, 0, actor)
    order = await orders.create_order(
        session,
        customer_id=ran.customer_id,
        lines=[orders.LineInput(ran.product_id, 5)],
        actor=actor,
    )  # 5 -> 0: at level 0
    await orders.cancel_order(session, order_id=order.id, actor=actor)
    lows = await emitted(session, "stock.low")
    assert [(e.data["previousQuantity"], e.data["quantity"]) for e in lows][-1] == (5, 0)
    assert len(lows) == 3
    [cancelled] = [
        e for e in await emitted(session, "order.status_changed") if e.entity_id == order.id
    ]
    assert cancelled.data["changes"] == {"status": {"from": "PENDING", "to": "CANCELLED"}}


async def test_upserts_emit_created_then_updated_and_nothing_for_a_resend(
    session: AsyncSession,
) -> None:
    actor = await admin(session)
    ran = await run_catalogue(session, actor)
    before = len(await emitted(session))

    first = await customers.upsert_customer(
        session, external_id=f"U-{ran.salt}", name="Upserted", actor=actor
    )
    assert first.created
    made = (await emitted(session, "customer.created"))[-1]
    assert made.entity_id == first.customer.id
    assert made.data["externalId"] == f"U-{ran.salt}"
    assert made.customer_id == first.customer.id
    # the same again: nothing changes, nothing is emitted
    again = await customers.upsert_customer(
        session, external_id=f"U-{ran.salt}", name="Upserted", actor=actor
    )
    assert not again.created
    assert len(await emitted(session)) == before + 1
    # a real change: customer.updated with from -> to
    await customers.upsert_customer(
        session, external_id=f"U-{ran.salt}", name="Upserted AB", actor=actor
    )
    updated = (await emitted(session, "customer.updated"))[-1]
    assert updated.data["changes"] == {"name": {"from": "Upserted", "to": "Upserted AB"}}
    # an update to the same values emits nothing either
    await customers.update_customer(
        session, customer_id=first.customer.id, name="Upserted AB", actor=actor
    )
    assert len(await emitted(session)) == before + 2

    # purchase orders: re-sending one emits nothing, a changed amount no catalogue event
    resend = await purchase_orders.upsert_purchase_order(
        session,
        external_id=f"PO-{ran.salt}",
        customer_external_id=f"C-{ran.salt}",
        amount=Decimal("1200.00"),
        actor=actor,
    )
    assert not resend.created
    assert len(await emitted(session)) == before + 2
    created = await purchase_orders.upsert_purchase_order(
        session,
        external_id=f"PO2-{ran.salt}",
        customer_external_id=f"C-{ran.salt}",
        amount=Decimal("10.00"),
        actor=actor,
    )
    assert created.created
    newest = (await emitted(session))[-1]
    assert (newest.type, newest.entity_id) == ("purchase_order.created", created.purchase_order.id)


REORDER = """
mutation($id: ID!, $level: Int!) {
  productUpdate(input: {id: $id, reorderLevel: $level}) {
    product { stockLevel { quantity reorderLevel } } errors { code field }
  }
}"""
ADJUST = """
mutation($id: ID!, $delta: Int!) {
  stockAdjust(input: {productId: $id, delta: $delta, reason: ADJUSTMENT}) {
    errors { code }
  }
}"""


async def test_the_reorder_level_is_set_by_product_update(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    actor = await admin(session)
    ran = await run_catalogue(session, actor)  # stock 3, level 5
    await session.commit()
    product = gid("Product", ran.product_id)
    body = await gql(REORDER, {"id": product, "level": 2})
    assert body["data"]["productUpdate"] == {
        "product": {"stockLevel": {"quantity": 3, "reorderLevel": 2}},
        "errors": [],
    }
    refused = await gql(REORDER, {"id": product, "level": -1})
    assert refused["data"]["productUpdate"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": ["reorderLevel"]}
    ]
    assert (await gql(ADJUST, {"id": product, "delta": -1}))["data"]["stockAdjust"] == {
        "errors": []
    }  # 3 -> 2: at the new level
    low = (await emitted(session, "stock.low"))[-1]
    assert (low.data["previousQuantity"], low.data["quantity"], low.data["reorderLevel"]) == (
        3,
        2,
        2,
    )
    assert low.actor_user_id is not None
