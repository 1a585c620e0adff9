"""Root fields of the reports."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Annotated, Any

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.catalogue import ENTITIES
from opsgraph.graph.ids import parse_global_id
from opsgraph.graph.pagination import window
from opsgraph.schema.fields import connection_of, order_input, typed
from opsgraph.schema.report import CustomerStatement, DailyKpis
from opsgraph.schema.resolve import Info, root_list
from opsgraph.services import report as service

TransactionOrder = order_input("FinancialTransaction")


async def _transactions(
    info: Info,
    from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
    to: dt.date | None = None,
    created_by: strawberry.ID | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    order_by: TransactionOrder | None = None,  # type: ignore[valid-type]
) -> Any:
    if from_ is not None and to is not None:
        service.check_period(from_, to)
    filters = SimpleNamespace(occurred_from=from_, occurred_to=to, created_by=created_by)
    return await root_list(
        info,
        ENTITIES["FinancialTransaction"],
        window(first, after, last, before),
        order_by,
        filters,
    )


@strawberry.type
class ReportQuery:
    @strawberry.field(
        description="A customer's invoices issued between from and to, with totals.",
        metadata=requires("report:read"),
    )
    async def customer_statement(
        self,
        info: Info,
        customer_id: strawberry.ID,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date,
    ) -> CustomerStatement:
        pk = parse_global_id(customer_id, "Customer", field="customerId")
        async with info.context.read_session() as session:
            totals = await service.customer_statement(
                session, customer_id=pk, start=from_, end=to, scope=info.context.scope()
            )
        return CustomerStatement(
            customer_id=pk,
            customer_global_id=customer_id,
            start=from_,
            end=to,
            total_invoiced=totals.invoiced,
            total_paid=totals.paid,
            total_outstanding=totals.outstanding,
            invoice_count=totals.invoice_count,
        )

    @strawberry.field(description="Key figures of one day (UTC).", metadata=requires("report:read"))
    async def daily_kpis(self, info: Info, date: dt.date) -> DailyKpis:
        async with info.context.read_session() as session:
            kpis = await service.daily_kpis(session, day=date, scope=info.context.scope())
        return DailyKpis(**vars(kpis))

    transactions = strawberry.field(
        resolver=typed(_transactions, connection_of("FinancialTransaction")),
        description="Financial transactions, optionally by date range and booker.",
        metadata=requires("transaction:read"),
    )
