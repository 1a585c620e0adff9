"""The ``events`` root field: the feed of committed events (`event:read`, and the read
permission of each event's object)."""

from __future__ import annotations

import datetime as dt

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.auth.permissions import EVENT_READ
from opsgraph.events import feed
from opsgraph.graph.pagination import window
from opsgraph.schema.event import EventConnection, position
from opsgraph.schema.resolve import Info


@strawberry.type
class EventQuery:
    @strawberry.field(
        description="Committed events, oldest first (`event:read`; only types whose objects "
        "you may read, and for a customer-portal user only its customer's). Follow the feed "
        "with `after` = the last `endCursor`: an event committed later never appears before "
        "a cursor you have passed. `types` and `since` (occurredAt) filter it.",
        metadata=requires(EVENT_READ),
    )
    async def events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        types: list[str] | None = None,
        since: dt.datetime | None = None,
    ) -> EventConnection:
        actor = await info.context.require_principal()
        size = window(first, after, None, None).limit
        start = position(after) if after else None
        async with info.context.read_session() as session:
            page = await feed.list_events(
                session, actor=actor, first=size, after=start, types=types, since=since
            )

        async def count() -> int:
            async with info.context.read_session() as session:
                return await feed.count_events(session, actor=actor, types=types, since=since)

        return EventConnection.of(page, after=after, count=count)
