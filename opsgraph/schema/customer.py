"""GraphQL types for customers and their properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from opsgraph.loaders import computed
from opsgraph.schema.fields import batched, history_of, many, node_id, one
from opsgraph.schema.node import Node

ZERO = Decimal("0.00")


@strawberry.type(description="A customer: a company or person the business serves.")
class Customer(Node):
    id: strawberry.ID = node_id("Customer")
    external_id: str | None = strawberry.field(description="Id in the partner system, if any.")
    name: str
    email: str | None
    phone: str | None
    org_no: str | None = strawberry.field(description="Organisation number.")
    order_count: int = strawberry.field(description="Orders placed and not cancelled.")
    created_at: dt.datetime
    updated_at: dt.datetime

    properties = many("Customer", "properties", "The customer's properties (sites).")
    orders = many("Customer", "orders", "The customer's orders.")
    invoices = many("Customer", "invoices", "The customer's invoices.")
    payments = many("Customer", "payments", "Payments on the customer's invoices.")
    tickets = many("Customer", "tickets", "The customer's support tickets.")
    purchase_orders = many("Customer", "purchase_orders", "Purchase orders from partners.")
    outstanding_balance = batched(
        computed.customer_outstanding_balance,
        Decimal,
        "What is still owed on sent invoices.",
        default=ZERO,
        needs="invoice:read",
    )
    lifetime_value = batched(
        computed.customer_lifetime_value,
        Decimal,
        "Everything the customer has paid, all time.",
        default=ZERO,
        needs="payment:read",
    )
    history = history_of("Customer")


@strawberry.type(description="A property (site, address) that belongs to one customer.")
class Property(Node):
    id: strawberry.ID = node_id("Property")
    label: str
    address_line1: str | None
    address_line2: str | None
    postal_code: str | None
    city: str | None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    customer = one("Property", "customer", "The customer that owns the property.", nullable=False)
    orders = many("Property", "orders", "Orders delivered to this property.")
    invoices = many("Property", "invoices", "Invoices for this property.")
    history = history_of("Property")
