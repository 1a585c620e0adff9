"""Root mutation fields of invoices:
invoiceCreate, invoiceCreateFromOrder, invoiceSend, invoiceVoid.

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.ids import parse_global_id
from opsgraph.models import Invoice
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.invoice_mutations import (
    InvoiceCreateFromOrderInput,
    InvoiceCreateFromOrderPayload,
    InvoiceCreateInput,
    InvoiceCreatePayload,
    InvoiceSendInput,
    InvoiceSendPayload,
    InvoiceVoidInput,
    InvoiceVoidPayload,
)
from opsgraph.schema.resolve import Info
from opsgraph.services import invoice as service


def _invoice(invoice: Invoice) -> dict[str, Ref]:
    return {"invoice": Ref("Invoice", invoice.id)}


def _optional_id(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    return None if value is None else parse_global_id(value, type_name, field=field)


@strawberry.type
class InvoiceMutation:
    @strawberry.mutation(
        description="Make a draft invoice for a customer (`invoice:write`), numbered in "
        "sequence without gaps.",
        metadata=requires("invoice:write"),
    )
    async def invoice_create(self, info: Info, input: InvoiceCreateInput) -> InvoiceCreatePayload:
        return await mutate(
            info,
            InvoiceCreatePayload,
            lambda session, actor: service.create_invoice(
                session,
                customer_id=parse_global_id(input.customer_id, "Customer", field="customerId"),
                property_id=_optional_id(input.property_id, "Property", "propertyId"),
                period_start=input.period_start,
                period_end=input.period_end,
                issued_date=input.issued_date,
                due_date=input.due_date,
                subtotal=input.subtotal,
                tax=input.tax,
                total=input.total,
                actor=actor,
            ),
            _invoice,
        )

    @strawberry.mutation(
        description="Invoice an order (`invoice:write`): a draft with the order's customer, "
        "amounts and lines; one live invoice per order, none for a cancelled one.",
        metadata=requires("invoice:write"),
    )
    async def invoice_create_from_order(
        self, info: Info, input: InvoiceCreateFromOrderInput
    ) -> InvoiceCreateFromOrderPayload:
        return await mutate(
            info,
            InvoiceCreateFromOrderPayload,
            lambda session, actor: service.create_invoice_from_order(
                session,
                order_id=parse_global_id(input.order_id, "Order", field="orderId"),
                issued_date=input.issued_date,
                due_date=input.due_date,
                payment_terms_days=input.payment_terms_days,
                actor=actor,
            ),
            _invoice,
        )

    @strawberry.mutation(
        description="Send a draft invoice (`invoice:write`): it can then be paid.",
        metadata=requires("invoice:write"),
    )
    async def invoice_send(self, info: Info, input: InvoiceSendInput) -> InvoiceSendPayload:
        return await mutate(
            info,
            InvoiceSendPayload,
            lambda session, actor: service.send_invoice(
                session, invoice_id=parse_global_id(input.id, "Invoice"), actor=actor
            ),
            _invoice,
        )

    @strawberry.mutation(
        description="Void a draft or sent invoice (`invoice:write`); not once paid, nor while "
        "it has payments.",
        metadata=requires("invoice:write"),
    )
    async def invoice_void(self, info: Info, input: InvoiceVoidInput) -> InvoiceVoidPayload:
        return await mutate(
            info,
            InvoiceVoidPayload,
            lambda session, actor: service.void_invoice(
                session,
                invoice_id=parse_global_id(input.id, "Invoice"),
                reason=input.reason,
                actor=actor,
            ),
            _invoice,
        )
