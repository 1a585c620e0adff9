"""GraphQL types for invoices, payments and financial transactions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry

from opsgraph.graph import money
from opsgraph.loaders import computed
from opsgraph.schema.enums import InvoiceStatus, PaymentMethod, TransactionKind
from opsgraph.schema.fields import batched, from_row, history_of, many, node_id, one
from opsgraph.schema.node import Node
from opsgraph.services.transitions import INVOICE


def _invoice_transitions(root: Any) -> list[str]:
    return INVOICE.available(root.status)


@strawberry.type(description="An invoice sent (or to be sent) to a customer.")
class Invoice(Node):
    id: strawberry.ID = node_id("Invoice")
    number: str
    status: InvoiceStatus
    period_start: dt.date
    period_end: dt.date
    issued_date: dt.date
    due_date: dt.date
    subtotal: Decimal
    tax: Decimal
    total: Decimal = strawberry.field(description="subtotal + tax.")
    created_at: dt.datetime
    updated_at: dt.datetime

    customer = one("Invoice", "customer", "Who is invoiced.", nullable=False)
    order = one("Invoice", "order", "The order invoiced, if any.")
    property = one("Invoice", "property", "The property invoiced for, if any.")
    payments = many("Invoice", "payments", "Payments made on the invoice.")
    lines = many(
        "Invoice", "lines", "The lines invoiced: the order's (none when not made from an order)."
    )
    amount_paid = batched(
        computed.invoice_amount_paid,
        Decimal,
        "Sum of the invoice's payments.",
        default=money.ZERO,
    )
    balance_due = batched(
        computed.invoice_amount_paid,
        Decimal,
        "What is still owed: total - amountPaid (0 when void).",
        default=money.ZERO,
        derive=money.balance_due,
    )
    is_overdue = batched(
        computed.invoice_amount_paid,
        bool,
        "Sent, past its due date and not fully paid.",
        default=money.ZERO,
        derive=money.is_overdue,
    )
    history = history_of("Invoice")
    available_transitions = from_row(
        _invoice_transitions,
        list[InvoiceStatus],
        "The statuses the invoice can move to now, from the same table that enforces them: "
        "sent by invoiceSend, paid by payments, void by invoiceVoid (refused while it has "
        "payments).",
    )


@strawberry.type(description="A payment against an invoice.")
class Payment(Node):
    id: strawberry.ID = node_id("Payment")
    amount: Decimal
    paid_at: dt.datetime
    method: PaymentMethod
    reference: str = strawberry.field(description="Unique per invoice.")
    created_at: dt.datetime

    invoice = one("Payment", "invoice", "The invoice paid.", nullable=False)
    history = history_of("Payment")


@strawberry.type(description="A bookkeeping entry: income, expense or transfer.")
class FinancialTransaction(Node):
    id: strawberry.ID = node_id("FinancialTransaction")
    kind: TransactionKind
    amount: Decimal
    occurred_on: dt.date
    description: str
    created_at: dt.datetime

    created_by = one("FinancialTransaction", "created_by", "Who booked it, if known.")
    payment = one("FinancialTransaction", "payment", "The payment booked, for income.")
    history = history_of("FinancialTransaction")
