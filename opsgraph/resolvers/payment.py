"""Root mutation fields of payments (paymentRecord).

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.ids import parse_global_id
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.invoice_mutations import PaymentRecordInput, PaymentRecordPayload
from opsgraph.schema.resolve import Info
from opsgraph.services import payment as service


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(
        description="Record a payment of a sent invoice (`payment:write`), at most its "
        "remaining balance; the one that pays the rest makes the invoice paid. Also books "
        "an income transaction. `dryRun`: check and show, keep nothing.",
        metadata=requires("payment:write"),
    )
    async def payment_record(self, info: Info, input: PaymentRecordInput) -> PaymentRecordPayload:
        return await mutate(
            info,
            PaymentRecordPayload,
            lambda session, actor: service.record_payment(
                session,
                invoice_id=parse_global_id(input.invoice_id, "Invoice", field="invoiceId"),
                amount=input.amount,
                method=input.method.value,
                reference=input.reference,
                paid_at=input.paid_at,
                actor=actor,
            ),
            lambda done: {
                "payment": Ref("Payment", done.payment.id),
                "invoice": Ref("Invoice", done.invoice.id),
            },
            dry_run=input.dry_run,
        )
