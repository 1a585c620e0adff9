"""The demo data set as rows, built deterministically before anything touches the database.

Customers with properties, products with their stock history, purchase orders, orders with
lines, tickets with time entries are planned here; invoices, payments and transactions in
:mod:`opsgraph.seed.demo_billing`. Rows refer to each other with :class:`Ref` (a table and
a position, or a username); :mod:`opsgraph.seed.demo` replaces each with the id the row got
when inserted. Every row satisfies the models' CHECK constraints, and the derived values
agree: order and invoice totals, stock levels and movements, customers' order counts.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal

from opsgraph.seed import demo_data as d
from opsgraph.seed.demo_billing import plan_expenses, plan_invoices
from opsgraph.seed.demo_data import ADMIN, STAFF, DemoPlan, Ref, money, with_tax

# when, product, delta, reason, order, note
StockEvent = tuple[dt.datetime, int, int, str, int | None, str]
TICKET_STATUSES = ("open", "in_progress", "resolved", "closed")
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")


def _slug(text: str) -> str:
    folded = text.lower().translate(str.maketrans("åäöé", "aaoe"))
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def _org_no(rng: random.Random) -> str:
    """A Swedish organisation number (``556xxx-xxxx``) with a valid Luhn check digit."""
    digits = [5, 5, 6, *(rng.randint(0, 9) for _ in range(6))]
    total = sum(sum(divmod(n * (2 if i % 2 == 0 else 1), 10)) for i, n in enumerate(digits))
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return f"{text[:6]}-{text[6:]}"


class _Builder:
    def __init__(self) -> None:
        self.rng = random.Random(d.SEED)  # noqa: S311 - demo data, not secrets
        self.plan = DemoPlan()
        for table in (
            "customer",
            "property",
            "product",
            "stock_level",
            "purchase_order",
            "order",
            "order_line",
            "stock_movement",
            "invoice",
            "payment",
            "financial_transaction",
            "ticket",
            "time_entry",
        ):
            self.plan.rows(table)
        self.properties_of: dict[int, list[int]] = {}

    def customer(self, external_id: str, name: str, email: str, phone: str, org_no: str) -> int:
        self.properties_of[len(self.plan.rows("customer"))] = []
        return self.plan.add(
            "customer",
            external_id=external_id,
            name=name,
            email=email,
            phone=phone,
            org_no=org_no,
            order_count=0,
        )

    def property(self, customer: int, label: str, street: str, postal: str, city: str) -> None:
        index = self.plan.add(
            "property",
            customer_id=Ref("customer", customer),
            label=label,
            address_line1=street,
            postal_code=postal,
            city=city,
            country="SE",
        )
        self.properties_of[customer].append(index)

    def customers(self) -> None:
        rng = self.rng
        for external_id, name, email, phone, org_no, place in d.KNOWN_CUSTOMERS:
            self.property(self.customer(external_id, name, email, phone, org_no), *place)
        pairs = rng.sample([(f, s) for f in d.NAME_FIRST for s in d.NAME_SUFFIX], d.EXTRA_CUSTOMERS)
        for n, (first, suffix) in enumerate(pairs):
            city, postal_prefix, area = rng.choice(d.CITIES)
            phone = (
                f"+46 {area} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
            )
            email = f"info@{_slug(first)}-{_slug(suffix.split()[0])}.se"
            index = self.customer(f"C-{102 + n}", f"{first} {suffix}", email, phone, _org_no(rng))
            for label in rng.sample(d.PROPERTY_LABELS, rng.randint(1, 3)):
                street = f"{rng.choice(d.STREETS)} {rng.randint(1, 80)}"
                postal = f"{postal_prefix} {rng.randint(10, 99)}"
                self.property(index, label, street, postal, city)

    def products(self) -> None:
        for sku, name, price, _ in d.PRODUCTS:
            self.plan.add(
                "product", sku=sku, name=name, description=f"{name} (demo)", unit_price=money(price)
            )

    def purchase_orders(self) -> None:
        rng = self.rng
        by_external = {row["external_id"]: i for i, row in enumerate(self.plan.rows("customer"))}
        for external_id, customer, source, state, text, amount, version in d.KNOWN_PURCHASE_ORDERS:
            self._purchase_order(
                external_id, by_external[customer], source, state, text, money(amount), version
            )
        customers = len(self.plan.rows("customer"))
        for n, (state, version) in enumerate(d.EXTRA_PURCHASE_ORDER_STATES):
            self._purchase_order(
                f"PO-{202 + n}",
                rng.randrange(2, customers),
                rng.choice(d.PURCHASE_ORDER_SOURCES),
                state,
                rng.choice(d.PURCHASE_ORDER_WORK),
                money(rng.randint(20, 600) * 100),
                version,
            )

    def _purchase_order(
        self,
        external_id: str,
        customer: int,
        source: str,
        state: str,
        description: str,
        amount: Decimal,
        version: int,
    ) -> None:
        self.plan.add(
            "purchase_order",
            external_id=external_id,
            customer_id=Ref("customer", customer),
            source=source,
            state=state,
            description=description,
            amount=amount,
            state_version=version,
        )

    def _order_status(self, i: int) -> str:
        if i == 7:
            return "cancelled"
        if i == d.ORDERS - 12:
            return "confirmed"
        if i >= d.ORDERS - 5:
            return "pending"
        if i > d.ORDERS - 12:
            return self.rng.choice(("confirmed", "pending"))
        return self.rng.choices(("completed", "cancelled", "confirmed"), (75, 15, 10))[0]

    def orders(self) -> list[StockEvent]:
        """Orders and lines; returns the stock events they cause."""
        rng, plan = self.rng, self.plan
        customers = plan.rows("customer")
        events: list[StockEvent] = []
        for i in range(d.ORDERS):
            customer = i if i < 2 else rng.randrange(len(customers))
            placed = d.START + dt.timedelta(minutes=i * 6480 + rng.randint(0, 2880))
            status = self._order_status(i)
            chosen = rng.sample(range(len(d.PRODUCTS)), rng.randint(1, 3))
            properties = self.properties_of[customer]
            property_ref = Ref("property", rng.choice(properties)) if rng.random() < 0.8 else None
            lines = [(p, rng.randint(1, 5), money(d.PRODUCTS[p][2])) for p in chosen]
            subtotal, tax, total = with_tax(sum((q * price for _, q, price in lines), Decimal(0)))
            external_id = f"SO-{1001 + i}"
            plan.add(
                "order",
                customer_id=Ref("customer", customer),
                property_id=property_ref,
                status=status,
                external_id=external_id,
                subtotal=subtotal,
                tax=tax,
                total=total,
                placed_at=placed,
                created_at=placed,
            )
            if status != "cancelled":
                customers[customer]["order_count"] += 1
            for product, quantity, price in lines:
                plan.add(
                    "order_line",
                    order_id=Ref("order", i),
                    product_id=Ref("product", product),
                    quantity=quantity,
                    unit_price=price,
                    line_total=quantity * price,
                    created_at=placed,
                )
                events.append((placed, product, -quantity, "sale", i, f"Order {external_id}"))
                if status == "cancelled":
                    back = placed + dt.timedelta(days=1)
                    note = f"Order {external_id} avbruten"
                    events.append((back, product, quantity, "cancellation", i, note))
        return events

    def stock(self, events: list[StockEvent]) -> None:
        before = d.START - dt.timedelta(days=1)
        timeline: list[StockEvent] = [
            (before, p, qty, "initial", None, "Ingående saldo")
            for p, (*_, qty) in enumerate(d.PRODUCTS)
        ]
        timeline += [
            (d.START + dt.timedelta(days=day), p, delta, reason, None, note)
            for p, delta, reason, note, day in d.STOCK_EVENTS
        ]
        timeline += events
        level = [0] * len(d.PRODUCTS)
        for at, product, delta, reason, order, note in sorted(timeline, key=lambda e: e[0]):
            level[product] += delta
            if level[product] < 0:
                raise RuntimeError(f"demo stock of {d.PRODUCTS[product][0]} would go negative")
            self.plan.add(
                "stock_movement",
                product_id=Ref("product", product),
                delta=delta,
                reason=reason,
                quantity_after=level[product],
                order_id=None if order is None else Ref("order", order),
                actor_id=STAFF if reason in ("receipt", "adjustment") else None,
                note=note,
                created_at=at,
            )
        for product, quantity in enumerate(level):
            self.plan.add("stock_level", product_id=Ref("product", product), quantity=quantity)

    def tickets(self) -> None:
        rng, plan = self.rng, self.plan
        for t in range(d.TICKETS):
            status = TICKET_STATUSES[t % 4]
            # the first sixteen cover every (status, priority) pair
            priority = TICKET_PRIORITIES[(t // 4 + t) % 4]
            customer = 0 if t == 0 else rng.randrange(len(plan.rows("customer")))
            opened = d.START + dt.timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 8))
            entries = 0 if status == "open" and rng.random() < 0.5 else rng.randint(1, 3)
            done = status in ("resolved", "closed")
            plan.add(
                "ticket",
                customer_id=Ref("customer", customer),
                subject=d.TICKET_SUBJECTS[t % len(d.TICKET_SUBJECTS)],
                description="Inkommet via kundportalen (demo).",
                status=status,
                priority=priority,
                assignee_id=STAFF if status != "open" or t % 8 == 0 else None,
                created_by=ADMIN,
                created_at=opened,
                resolved_at=opened + dt.timedelta(days=entries, hours=6) if done else None,
            )
            for j in range(entries):
                started = opened + dt.timedelta(days=j, hours=1 + rng.randint(0, 4))
                plan.add(
                    "time_entry",
                    ticket_id=Ref("ticket", t),
                    user_id=ADMIN if rng.random() < 0.25 else STAFF,
                    minutes=rng.choice(d.ENTRY_MINUTES),
                    billable=rng.random() < 0.6,
                    note=rng.choice(d.TIME_NOTES),
                    started_at=started,
                    created_at=started,
                )


def build_plan() -> DemoPlan:
    """The whole demo data set; the same every time."""
    builder = _Builder()
    builder.customers()
    builder.products()
    builder.purchase_orders()
    builder.stock(builder.orders())
    plan_invoices(builder.plan, builder.rng, builder.properties_of)
    plan_expenses(builder.plan)
    builder.tickets()
    return builder.plan
