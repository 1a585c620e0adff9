"""Root field of inbound webhooks: webhookReceipts (`webhook:manage`), the log of what
the sales and state webhooks received and what became of it."""

from __future__ import annotations

from typing import Any

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.auth.permissions import WEBHOOK_MANAGE
from opsgraph.graph.pagination import decode_cursor, window
from opsgraph.schema.pagination import Connection, Edge, PageInfo
from opsgraph.schema.resolve import Info
from opsgraph.schema.webhook_receipt import (
    WebhookReceipt,
    WebhookReceiptSource,
    WebhookReceiptStatus,
)
from opsgraph.services import webhook_receipt as service

SORT = "id"  # the log's cursor column: newest first


def _values(given: list[Any] | None) -> list[str]:
    return [str(value.value) for value in given or []]


@strawberry.type
class WebhookReceiptQuery:
    @strawberry.field(
        description="Inbound webhooks, newest first (`webhook:manage`): each receipt's "
        "status and error, in some statuses and from some sources if given.",
        metadata=requires(WEBHOOK_MANAGE),
    )
    async def webhook_receipts(
        self,
        info: Info,
        status: list[WebhookReceiptStatus] | None = None,
        source: list[WebhookReceiptSource] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookReceipt]:
        actor = await info.context.require_principal()
        page = window(first, after, None, None)
        before_id = decode_cursor(after, SORT, int, field="after").id if after else None
        statuses, sources = _values(status), _values(source)
        async with info.context.read_session() as session:
            found = await service.list_webhook_receipts(
                session,
                statuses=statuses,
                sources=sources,
                before_id=before_id,
                limit=page.limit,
                actor=actor,
            )

        async def count() -> int:
            async with info.context.read_session() as session:
                return await service.count_webhook_receipts(
                    session, statuses=statuses, sources=sources, actor=actor
                )

        rows: list[Any] = found.rows  # the rows stand in for the type (schema/resolve.py)
        return Connection(
            edges=[Edge(node=row, sort_column=SORT) for row in rows],
            page_info=PageInfo(
                has_next_page=found.has_next,
                has_previous_page=after is not None,
                first=rows[0] if rows else None,
                last=rows[-1] if rows else None,
                sort_column=SORT,
            ),
            count=count,
        )
