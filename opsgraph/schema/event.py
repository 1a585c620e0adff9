"""GraphQL types of the event feed: ``Event`` (the envelope webhook receivers get) and its
connection, whose cursors encode the feed position ``(txid, id)``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import strawberry
from strawberry.scalars import JSON

from opsgraph.events.emit import envelope
from opsgraph.events.feed import FeedPage, Position
from opsgraph.graph.pagination import decode_cursor, encode_cursor
from opsgraph.models import Event as EventRow
from opsgraph.schema.pagination import PageInfo

# the cursors' sort key: they hold the writing transaction's id and the event's id
CURSOR_KEY = "txid"


def cursor_of(event: EventRow) -> str:
    return encode_cursor(CURSOR_KEY, SimpleNamespace(txid=event.txid, id=event.id))


def position(cursor: str) -> Position:
    """The feed position in an ``after`` cursor; a clear error for anything else."""
    decoded = decode_cursor(cursor, CURSOR_KEY, int, field="after")
    return Position(txid=decoded.value, id=decoded.id)


@strawberry.type(
    description="Something that happened to an object: the same envelope webhook deliveries carry."
)
class Event:
    id: strawberry.ID = strawberry.field(
        description='Public id ("evt_..."), also the webhook-id of its deliveries.'
    )
    type: str = strawberry.field(description="The event type, e.g. `order.created`.")
    occurred_at: dt.datetime
    object_id: strawberry.ID = strawberry.field(
        description="Global id of the object the event is about (for `node(id:)`)."
    )
    data: JSON = strawberry.field(
        description="What changed: the object's fields (`*.created`) or `changes` "
        "(`{field: {from, to}}`) with the fields that identify the object."
    )

    @classmethod
    def of(cls, event: EventRow) -> Event:
        body = envelope(event)
        return cls(
            id=strawberry.ID(body["id"]),
            type=event.type,
            occurred_at=event.occurred_at,
            object_id=strawberry.ID(body["objectId"]),
            data=body["data"],
        )


@strawberry.type(description="One event of the feed and the cursor just after it.")
class EventEdge:
    node: Event
    cursor: str = strawberry.field(description="Opaque cursor: pass it as `after`.")


@strawberry.type(description="A page of the event feed, oldest first.")
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many events the whole feed holds for you (all pages).")
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def of(
        cls, page: FeedPage, *, after: str | None, count: Callable[[], Awaitable[int]]
    ) -> EventConnection:
        def key(event: EventRow) -> Any:
            return SimpleNamespace(txid=event.txid, id=event.id)

        events = page.events
        return cls(
            edges=[EventEdge(node=Event.of(event), cursor=cursor_of(event)) for event in events],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=after is not None,
                first=key(events[0]) if events else None,
                last=key(events[-1]) if events else None,
                sort_column=CURSOR_KEY,
            ),
            count=count,
        )
