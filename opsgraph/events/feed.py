"""The ``events`` feed: committed events, oldest first, in an order pollers can rely on.

The promise: an event committed later never appears before a position (cursor) a poller
has already passed. Ordering by ``id`` can't keep it: ids are taken when a row is
written, not when its transaction commits, so a long transaction's event (small id) may
commit after a short one's (larger id) has been read and passed.

So the feed orders by ``(txid, id)``, ``txid`` being the writing transaction's id, and
shows only the rows of transactions older than every transaction still running:
``txid < pg_snapshot_xmin(pg_current_snapshot())``. Every transaction below that
horizon has ended, so the rows below it are complete and final: they are all visible to
the statement (committed) or gone for good (rolled back). Any transaction that commits
later is still running at the read (so its id is at or above the horizon) or gets its id
afterwards (above every id handed out so far), and sorts after every position the read
returned. All rows of one transaction become visible together, so ``id`` only orders
within a transaction.

The cost: a long-running transaction holds the feed back (nothing after it shows) until
it ends; the statement and idle-in-transaction timeouts of the settings bound that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import InvalidInput
from opsgraph.events.catalogue import CATALOGUE, readable_types
from opsgraph.loaders.sql import Scope
from opsgraph.models import Event
from opsgraph.models.event import VISIBLE_BEFORE
from opsgraph.permissions import Permission

MAX_TYPES = len(CATALOGUE)


@dataclass(frozen=True)
class Position:
    """Where a poller is in the feed: the last event it saw."""

    txid: int
    id: int


@dataclass(frozen=True)
class FeedPage:
    events: Sequence[Event]
    has_next: bool


def _conditions(
    actor: Principal, types: Sequence[str] | None, since: dt.datetime | None
) -> list[ColumnElement[bool]]:
    """What the caller may see of the committed feed: the types whose objects it may read
    (of ``types``, when given), its own customer's events for a portal principal, events
    from ``since`` on."""
    actor.require(Permission.EVENT_READ)
    wanted = readable_types(actor.permissions)
    if types is not None:
        unknown = [name for name in types if name not in CATALOGUE]
        if unknown:
            raise InvalidInput(
                f"unknown event type {unknown[0]!r}; the types are {', '.join(CATALOGUE)}",
                field=["types"],
            )
        wanted = tuple(name for name in wanted if name in types)
    conditions: list[ColumnElement[bool]] = [
        Event.txid < text(VISIBLE_BEFORE),
        Event.type.in_(wanted) if wanted else false(),
    ]
    scope = Scope.of(actor)
    if scope is not None:
        conditions.append(
            false() if scope.customer_id is None else Event.customer_id == scope.customer_id
        )
    if since is not None:
        if since.tzinfo is None:
            raise InvalidInput("since needs a UTC offset", field=["since"])
        conditions.append(Event.occurred_at >= since)
    return conditions


async def list_events(
    session: AsyncSession,
    *,
    actor: Principal,
    first: int,
    after: Position | None = None,
    types: Sequence[str] | None = None,
    since: dt.datetime | None = None,
) -> FeedPage:
    """Up to ``first`` events after ``after`` (from the start: None), oldest first."""
    query = select(Event).where(*_conditions(actor, types, since))
    if after is not None:
        query = query.where(tuple_(Event.txid, Event.id) > tuple_(after.txid, after.id))
    rows = (await session.scalars(query.order_by(Event.txid, Event.id).limit(first + 1))).all()
    return FeedPage(events=rows[:first], has_next=len(rows) > first)


async def count_events(
    session: AsyncSession,
    *,
    actor: Principal,
    types: Sequence[str] | None = None,
    since: dt.datetime | None = None,
) -> int:
    """How many events the feed holds for the caller (every page)."""
    query = select(func.count()).select_from(Event).where(*_conditions(actor, types, since))
    return int(await session.scalar(query) or 0)
