"""GraphQL types of the reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import strawberry

from opsgraph.graph.catalogue import ENTITIES
from opsgraph.graph.pagination import window
from opsgraph.schema.fields import connection_of, lazy, typed
from opsgraph.schema.resolve import Info, root_list


async def _customer(root: Any, info: Info) -> Any:
    return await info.context.loaders.by_key("Customer").load(root.customer_id)


async def _invoices(
    root: Any, info: Info, first: int | None = None, after: str | None = None
) -> Any:
    filters = SimpleNamespace(
        customer_id=root.customer_global_id, issued_from=root.start, issued_to=root.end
    )
    order = SimpleNamespace(field=SimpleNamespace(value="issued_date"), direction=None)
    return await root_list(
        info, ENTITIES["Invoice"], window(first, after, None, None), order, filters
    )


@strawberry.type(description="A customer's invoices over a period, with their totals.")
class CustomerStatement:
    customer_id: strawberry.Private[int]
    customer_global_id: strawberry.Private[str]
    start: strawberry.Private[dt.date]
    end: strawberry.Private[dt.date]
    total_invoiced: Decimal = strawberry.field(description="Sum of the invoices (void excluded).")
    total_paid: Decimal = strawberry.field(description="Paid on those invoices.")
    total_outstanding: Decimal = strawberry.field(description="Invoiced minus paid.")
    invoice_count: int

    @strawberry.field(name="from", description="First day of the period.")
    def from_(self) -> dt.date:
        return self.start

    @strawberry.field(description="Last day of the period (inclusive).")
    def to(self) -> dt.date:
        return self.end

    customer = strawberry.field(
        resolver=typed(_customer, lazy("Customer")), description="The customer."
    )
    invoices = strawberry.field(
        resolver=typed(_invoices, connection_of("Invoice")),
        description="Invoices issued in the period (void included), by issue date.",
    )


@strawberry.type(description="Key figures of one UTC day.")
class DailyKpis:
    date: dt.date
    orders_placed: int = strawberry.field(description="Orders placed, cancelled ones excluded.")
    revenue: Decimal = strawberry.field(description="Total value of those orders.")
    payments_received: Decimal
    tickets_opened: int
    tickets_resolved: int
    mean_resolution_hours: float | None = strawberry.field(
        description="Mean hours from opening to resolving, over the tickets resolved that day."
    )
    billable_minutes: int
