"""Root fields for customers: guard, convert, call one service, wrap."""

from __future__ import annotations

import strawberry

from opsgraph.context import Context
from opsgraph.schema.customer import Customer
from opsgraph.schema.node import parse_global_id, to_cursor
from opsgraph.schema.pagination import Connection, Edge, PageInfo, page_request
from opsgraph.services import customer as service


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="Customers in id order, a page at a time.")
    async def customers(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Customer]:
        page = page_request(first, after)
        async with info.context.read_session() as session:
            rows, has_next, total = await service.list_customers(
                session, limit=page.limit, after_id=page.after_id
            )
        edges = [Edge(cursor=to_cursor(row.id), node=Customer.from_model(row)) for row in rows]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=page.after_id is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )

    @strawberry.field(description="One customer by global id or by external id.")
    async def customer(
        self,
        info: strawberry.Info[Context, None],
        id: strawberry.ID | None = None,
        external_id: str | None = None,
    ) -> Customer | None:
        pk = parse_global_id(id, "Customer") if id is not None else None
        async with info.context.read_session() as session:
            row = await service.get_customer(session, customer_id=pk, external_id=external_id)
        return Customer.from_model(row) if row is not None else None
