"""Inputs and payloads of the invoice and payment mutations: invoiceCreate,
invoiceCreateFromOrder, invoiceSend, invoiceVoid, paymentRecord."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from opsgraph.schema.enums import PaymentMethod
from opsgraph.schema.errors import UserError, changed_field, dry_run_field, errors_field
from opsgraph.schema.invoice import Invoice, Payment

MONEY = "Two decimals at most, not negative."


@strawberry.input(
    description="A draft invoice for a customer. It is numbered `INV-<year of issue>-NNNNN` "
    "in sequence, without gaps."
)
class InvoiceCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="Who is invoiced.")
    property_id: strawberry.ID | None = strawberry.field(
        default=None, description="A property of that customer the invoice is for, if any."
    )
    period_start: dt.date = strawberry.field(description="First day invoiced.")
    period_end: dt.date = strawberry.field(description="Last day invoiced; not before the first.")
    issued_date: dt.date = strawberry.field(description="Its year is the number's.")
    due_date: dt.date = strawberry.field(description="Not before the issued date.")
    subtotal: Decimal = strawberry.field(description=MONEY)
    tax: Decimal = strawberry.field(description=MONEY)
    total: Decimal | None = strawberry.field(
        default=None, description="subtotal + tax; computed when null, and must equal it if given."
    )


@strawberry.type(description="The result of `invoiceCreate`.")
class InvoiceCreatePayload:
    invoice: Invoice | None = changed_field("The invoice made (a draft).")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A draft invoice for an order that is not cancelled and not invoiced yet: "
    "the order's customer, property, amounts and lines; its period is the day the order was "
    "placed. Give `dueDate` or `paymentTermsDays` (default 30 days), not both."
)
class InvoiceCreateFromOrderInput:
    order_id: strawberry.ID
    issued_date: dt.date | None = strawberry.field(default=None, description="Default: today.")
    due_date: dt.date | None = strawberry.field(
        default=None, description="Default: `paymentTermsDays` after the issued date."
    )
    payment_terms_days: int | None = strawberry.field(
        default=None, description="Days from issue until due, 0-365; default 30."
    )


@strawberry.type(description="The result of `invoiceCreateFromOrder`.")
class InvoiceCreateFromOrderPayload:
    invoice: Invoice | None = changed_field("The invoice made (a draft).")
    errors: list[UserError] = errors_field()


@strawberry.input(description="The draft invoice to send.")
class InvoiceSendInput:
    id: strawberry.ID


@strawberry.type(description="The result of `invoiceSend`.")
class InvoiceSendPayload:
    invoice: Invoice | None = changed_field("The invoice, now sent.")
    errors: list[UserError] = errors_field()


@strawberry.input(description="The invoice to void: a draft or a sent one without payments.")
class InvoiceVoidInput:
    id: strawberry.ID
    reason: str | None = strawberry.field(
        default=None, description="Why, kept in the audit trail (at most 1000 characters)."
    )


@strawberry.type(description="The result of `invoiceVoid`.")
class InvoiceVoidPayload:
    invoice: Invoice | None = changed_field("The invoice, now void.")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A payment of a sent invoice: at most its remaining balance, with a "
    "reference new on that invoice. It is booked as an income transaction on the day paid."
)
class PaymentRecordInput:
    invoice_id: strawberry.ID
    amount: Decimal = strawberry.field(description="More than 0, two decimals at most.")
    method: PaymentMethod
    reference: str = strawberry.field(
        description="The bank's or card's reference: unique per invoice, 1-100 characters."
    )
    paid_at: dt.datetime | None = strawberry.field(
        default=None,
        description="When it was paid; default now. Not in the future (a few minutes of "
        "clock difference allowed); without an offset it is UTC.",
    )
    dry_run: bool = dry_run_field()


@strawberry.type(description="The result of `paymentRecord`.")
class PaymentRecordPayload:
    payment: Payment | None = changed_field("The payment recorded.")
    invoice: Invoice | None = changed_field(
        "The invoice paid: `paid` once its payments reach its total, else still `sent`."
    )
    errors: list[UserError] = errors_field()
