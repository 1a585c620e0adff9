"""A property-based state machine (hypothesis) over orders, cancellations, invoices,
payments and stock adjustments, all through GraphQL against a committed database.

Hypothesis picks sequences of mutations, dry runs and batches of them sent at once; a
model predicts what each single mutation must answer (success, or which typed error).
After every step the database must hold the invariants:

* every invoice: the payments sum to at most its total, and it is ``paid`` exactly when
  they reach it;
* every product: stock >= 0 and equal to the sum of its movements;
* every customer: ``order_count`` equals the number of its non-cancelled orders;

and the model's stock and paid amounts must equal the database's.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from opsgraph.app import create_app
from tests.conftest import create_and_sign_in, make_settings

CUSTOMER = """mutation($name: String!) { customerCreate(input: {name: $name}) {
  customer { id } errors { code } } }"""
PRODUCT = """mutation($sku: String!, $price: Decimal!, $stock: Int!) {
  productCreate(input: {sku: $sku, name: $sku, unitPrice: $price, initialStock: $stock}) {
    product { id } errors { code } } }"""
ADJUST = """mutation($id: ID!, $delta: Int!, $dry: Boolean!) {
  stockAdjust(input: {productId: $id, delta: $delta, reason: ADJUSTMENT, dryRun: $dry}) {
    product { stockLevel { quantity } } errors { code } } }"""
ORDER = """mutation($customer: ID!, $lines: [OrderLineInput!]!, $dry: Boolean!) {
  orderCreate(input: {customerId: $customer, lines: $lines, dryRun: $dry}) {
    order { id total status } errors { code field } } }"""
CANCEL = """mutation($id: ID!) { orderCancel(input: {id: $id}) {
  order { status } errors { code } } }"""
CONFIRM = """mutation($id: ID!) { orderConfirm(input: {id: $id}) {
  order { status } errors { code } } }"""
INVOICE = """mutation($order: ID!) { invoiceCreateFromOrder(input: {orderId: $order}) {
  invoice { id total } errors { code } } }"""
SEND = """mutation($id: ID!) { invoiceSend(input: {id: $id}) {
  invoice { status } errors { code } } }"""
PAY = """mutation($id: ID!, $amount: Decimal!, $ref: String!, $dry: Boolean!) {
  paymentRecord(input: {invoiceId: $id, amount: $amount, method: CARD, reference: $ref,
      dryRun: $dry}) {
    invoice { status amountPaid } errors { code } } }"""

CENT = Decimal("0.01")
# what the runs did, over all examples: the test checks the machine got somewhere
DONE: Counter[str] = Counter()


@dataclass
class Order:
    id: str
    customer: str
    lines: dict[str, int]  # product id -> units
    total: Decimal
    status: str = "PENDING"
    invoiced: bool = False


@dataclass
class Invoice:
    id: str
    total: Decimal
    paid: Decimal = Decimal("0.00")


@dataclass
class Model:
    stock: dict[str, int] = field(default_factory=dict)
    price: dict[str, Decimal] = field(default_factory=dict)


class Ops:
    """The app over the test's database, driven from the machine's own event loop."""

    names = itertools.count()

    def __init__(self, url: URL) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine: AsyncEngine = create_async_engine(url, pool_size=10, max_overflow=10)
        factory = async_sessionmaker(self.engine, expire_on_commit=False)
        app = create_app(make_settings(url), session_factory=factory)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=60
        )
        self.headers = self.run(
            create_and_sign_in(self.http, factory, f"machine-{next(self.names)}", ["admin"])
        )

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    async def call(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        [payload] = body["data"].values()
        result: dict[str, Any] = payload
        return result

    def one(self, query: str, **variables: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.run(self.call(query, **variables))
        return result

    def scalars(self, sql: str) -> list[Any]:
        async def fetch() -> list[Any]:
            async with self.engine.connect() as conn:
                return list((await conn.execute(text(sql))).all())

        rows: list[Any] = self.run(fetch())
        return rows

    def close(self) -> None:
        self.run(self.http.aclose())
        self.run(self.engine.dispose())
        self.loop.close()


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


class Billing(RuleBasedStateMachine):
    url: URL  # set by the test
    customers = Bundle("customers")
    products = Bundle("products")
    orders = Bundle("orders")
    invoices = Bundle("invoices")

    def __init__(self) -> None:
        super().__init__()
        self.ops = Ops(self.url)
        self.model = Model()
        self.references = itertools.count()
        self.invoice_list: list[Invoice] = []  # every invoice made (bundles hold references)
        self.orders_made: list[Order] = []

    def teardown(self) -> None:
        self.ops.close()

    # --- setup -----------------------------------------------------------------------

    @initialize(target=customers)
    def add_customer(self) -> str:
        payload = self.ops.one(CUSTOMER, name=f"Machine customer {next(Ops.names)}")
        assert payload["errors"] == []
        customer_id: str = payload["customer"]["id"]
        return customer_id

    @rule(
        target=products,
        stock=st.integers(0, 8),
        price=st.sampled_from([Decimal("5.00"), Decimal("9.99"), Decimal("12.50")]),
    )
    def add_product(self, stock: int, price: Decimal) -> str:
        payload = self.ops.one(
            PRODUCT, sku=f"SM-{next(Ops.names):06d}", price=str(price), stock=stock
        )
        assert payload["errors"] == []
        product_id: str = payload["product"]["id"]
        self.model.stock[product_id] = stock
        self.model.price[product_id] = price
        return product_id

    # --- stock -----------------------------------------------------------------------

    @rule(product=products, delta=st.integers(-6, 6).filter(bool), dry=st.booleans())
    def adjust_stock(self, product: str, delta: int, dry: bool) -> None:
        payload = self.ops.one(ADJUST, id=product, delta=delta, dry=dry)
        after = self.model.stock[product] + delta
        if after < 0:
            assert codes(payload) == ["INSUFFICIENT_STOCK"]
            return
        assert payload["errors"] == []
        assert payload["product"]["stockLevel"]["quantity"] == after  # also in a dry run
        DONE["adjust"] += 1
        if not dry:
            self.model.stock[product] = after

    # --- orders ----------------------------------------------------------------------

    @rule(
        target=orders,
        customer=customers,
        lines=st.lists(st.tuples(products, st.integers(1, 3)), min_size=1, max_size=3),
        dry=st.booleans(),
    )
    def place_order(self, customer: str, lines: list[tuple[str, int]], dry: bool) -> Any:
        wanted: dict[str, int] = {}
        for product, units in lines:
            wanted[product] = wanted.get(product, 0) + units
        sent = [{"productId": p, "quantity": q} for p, q in lines]
        payload = self.ops.one(ORDER, customer=customer, lines=sent, dry=dry)
        if any(self.model.stock[p] < units for p, units in wanted.items()):
            assert codes(payload) == ["INSUFFICIENT_STOCK"]
            return multiple()
        assert payload["errors"] == [], payload
        total = sum((self.model.price[p] * q for p, q in lines), Decimal("0.00"))
        assert Decimal(payload["order"]["total"]) == total
        DONE["order"] += 1
        if dry:
            return multiple()
        for product, units in wanted.items():
            self.model.stock[product] -= units
        return Order(payload["order"]["id"], customer, wanted, total)

    @rule(order=orders)
    def cancel_order(self, order: Order) -> None:
        payload = self.ops.one(CANCEL, id=order.id)
        if order.status not in ("PENDING", "CONFIRMED"):
            assert codes(payload) == ["INVALID_TRANSITION"]
            return
        if order.invoiced:  # its invoice lives (no rule here voids invoices)
            assert codes(payload) == ["ALREADY_INVOICED"]
            DONE["cancel refused"] += 1
            return
        assert payload["errors"] == [], payload
        order.status = "CANCELLED"
        DONE["cancel"] += 1
        for product, units in order.lines.items():
            self.model.stock[product] += units

    @rule(order=orders)
    def confirm_order(self, order: Order) -> None:
        payload = self.ops.one(CONFIRM, id=order.id)
        if order.status != "PENDING":
            assert codes(payload) == ["INVALID_TRANSITION"]
            return
        assert payload["errors"] == []
        order.status = "CONFIRMED"

    # --- invoices and payments -------------------------------------------------------

    @rule(target=invoices, order=orders)
    def invoice_order(self, order: Order) -> Any:
        payload = self.ops.one(INVOICE, order=order.id)
        if order.status == "CANCELLED" or order.invoiced:
            assert payload["errors"], payload
            return multiple()
        assert payload["errors"] == [], payload
        order.invoiced = True
        invoice = Invoice(payload["invoice"]["id"], Decimal(payload["invoice"]["total"]))
        assert invoice.total == order.total
        sent = self.ops.one(SEND, id=invoice.id)
        assert sent["errors"] == []
        self.invoice_list.append(invoice)
        DONE["invoice"] += 1
        return invoice

    @rule(
        invoice=invoices,
        share=st.sampled_from(["cent", "ten", "rest", "over"]),
        dry=st.booleans(),
    )
    def pay(self, invoice: Invoice, share: str, dry: bool) -> None:
        rest = invoice.total - invoice.paid
        amount = {
            "cent": CENT,
            "ten": Decimal("10.00"),
            "rest": rest,
            "over": rest + CENT,
        }[share]
        if amount <= 0:
            amount = CENT
        reference = f"ref-{next(self.references)}"
        payload = self.ops.one(PAY, id=invoice.id, amount=str(amount), ref=reference, dry=dry)
        if rest == 0:
            assert codes(payload) == ["INVOICE_ALREADY_PAID"]
            return
        if amount > rest:
            assert codes(payload) == ["PAYMENT_EXCEEDS_BALANCE"]
            return
        assert payload["errors"] == [], payload
        paid = invoice.paid + amount
        assert Decimal(payload["invoice"]["amountPaid"]) == paid  # also in a dry run
        assert payload["invoice"]["status"] == ("PAID" if paid == invoice.total else "SENT")
        DONE["paid in full" if paid == invoice.total else "paid in part"] += 1
        if not dry:
            invoice.paid = paid

    @rule(target=invoices, customer=customers, product=products, units=st.integers(1, 3))
    def sell(self, customer: str, product: str, units: int) -> Invoice:
        """Restock when needed, then order, invoice and send: a short way to payments."""
        if self.model.stock[product] < units:
            self.adjust_stock(product, units, dry=False)
        order = self.place_order(customer, [(product, units)], dry=False)
        assert isinstance(order, Order)
        self.orders_made.append(order)
        invoice = self.invoice_order(order)
        assert isinstance(invoice, Invoice)
        return invoice

    @rule(customer=customers, product=products, units=st.integers(1, 3))
    def order_then_cancel(self, customer: str, product: str, units: int) -> None:
        """Restock when needed, order, then cancel: the stock must come back."""
        if self.model.stock[product] < units:
            self.adjust_stock(product, units, dry=False)
        order = self.place_order(customer, [(product, units)], dry=False)
        assert isinstance(order, Order)
        self.cancel_order(order)

    @precondition(lambda self: bool(self.orders_made))
    @rule(data=st.data())
    def cancel_sold(self, data: st.DataObject) -> None:
        """Cancel an order that has an invoice (it can't be, while the invoice lives)."""
        self.cancel_order(data.draw(st.sampled_from(self.orders_made)))

    # --- several at once -------------------------------------------------------------

    @rule(
        customer=customers,
        product=products,
        invoice=invoices,
        shape=st.lists(st.sampled_from(["order", "adjust", "pay"]), min_size=2, max_size=8),
    )
    def at_once(self, customer: str, product: str, invoice: Invoice, shape: list[str]) -> None:
        """Mutations on the same rows sent together: no prediction per mutation, but the
        invariants must hold and no request may fail with anything but a typed error."""
        calls = []
        for kind in shape:
            if kind == "order":
                lines = [{"productId": product, "quantity": 1}]
                calls.append(self.ops.call(ORDER, customer=customer, lines=lines, dry=False))
            elif kind == "adjust":
                calls.append(self.ops.call(ADJUST, id=product, delta=-1, dry=False))
            else:
                reference = f"ref-{next(self.references)}"
                calls.append(
                    self.ops.call(PAY, id=invoice.id, amount="1.00", ref=reference, dry=False)
                )

        async def together() -> list[dict[str, Any]]:
            return list(await asyncio.gather(*calls))

        allowed = {"INSUFFICIENT_STOCK", "PAYMENT_EXCEEDS_BALANCE", "INVOICE_ALREADY_PAID"}
        for payload in self.ops.run(together()):
            assert set(codes(payload)) <= allowed, payload
        DONE["at once"] += 1
        self.resync()

    def resync(self) -> None:
        """After a batch, take the stock and paid amounts the database has (the invariants
        below check them against the movements and payments)."""
        levels = dict(self.ops.scalars("SELECT product_id, quantity FROM stock_level"))
        for product in self.model.stock:
            self.model.stock[product] = levels[_pk(product)]
        paid = dict(self.ops.scalars("SELECT invoice_id, sum(amount) FROM payment GROUP BY 1"))
        for known in self.invoice_list:
            known.paid = paid.get(_pk(known.id), Decimal("0.00"))

    # --- invariants ------------------------------------------------------------------

    @invariant()
    def invoices_never_overpaid(self) -> None:
        wrong = self.ops.scalars(
            "SELECT i.number, i.total, i.status, coalesce(sum(p.amount), 0) FROM invoice i "
            "LEFT JOIN payment p ON p.invoice_id = i.id GROUP BY i.id "
            "HAVING coalesce(sum(p.amount), 0) > i.total "
            "OR (i.status = 'paid') <> (coalesce(sum(p.amount), 0) = i.total AND i.total > 0 "
            "AND i.status <> 'void')"
        )
        assert wrong == []

    @invariant()
    def stock_is_the_sum_of_its_movements(self) -> None:
        wrong = self.ops.scalars(
            "SELECT s.product_id, s.quantity, coalesce(sum(m.delta), 0) FROM stock_level s "
            "LEFT JOIN stock_movement m ON m.product_id = s.product_id GROUP BY s.product_id "
            "HAVING s.quantity < 0 OR s.quantity <> coalesce(sum(m.delta), 0)"
        )
        assert wrong == []
        levels = dict(self.ops.scalars("SELECT product_id, quantity FROM stock_level"))
        for product, quantity in self.model.stock.items():
            assert levels[_pk(product)] == quantity

    @invariant()
    def order_count_counts_live_orders(self) -> None:
        wrong = self.ops.scalars(
            "SELECT c.id, c.order_count, count(o.id) FROM customer c "
            "LEFT JOIN \"order\" o ON o.customer_id = c.id AND o.status <> 'cancelled' "
            "GROUP BY c.id HAVING c.order_count <> count(o.id)"
        )
        assert wrong == []

    @invariant()
    def paid_amounts_match_the_model(self) -> None:
        paid = dict(self.ops.scalars("SELECT invoice_id, sum(amount) FROM payment GROUP BY 1"))
        for invoice in self.invoice_list:
            assert paid.get(_pk(invoice.id), Decimal("0.00")) == invoice.paid


def _pk(global_id: str) -> int:
    from opsgraph.graph.ids import decode_global_id

    return decode_global_id(global_id)[1]


def test_billing_state_machine(fresh_database_url: URL) -> None:
    Billing.url = fresh_database_url
    DONE.clear()
    run_state_machine_as_test(
        Billing,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
            # the same examples on every run: CI must not pass or fail by luck. Run with
            # --hypothesis-seed=<n> (and derandomize off) to explore other sequences.
            derandomize=True,
        ),
    )
    kinds = ["adjust", "order", "cancel", "cancel refused", "invoice", "paid in part"]
    kinds += ["paid in full", "at once"]
    assert all(DONE[kind] > 0 for kind in kinds), DONE
