"""The feed's promise under concurrency, committing for real: an event committed later
never appears before a cursor a poller has already passed."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import URL, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from opsgraph.auth.permissions import PERMISSIONS, PORTAL_SCOPED
from opsgraph.auth.principal import Principal
from opsgraph.events.emit import emit
from opsgraph.events.feed import Position, list_events
from opsgraph.models import Event

READER = Principal(1, "poller", PERMISSIONS - {PORTAL_SCOPED})


@pytest.fixture
async def factory(fresh_database_url: URL) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(fresh_database_url, pool_size=12, max_overflow=4)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def write(session: AsyncSession, marker: int) -> None:
    await emit(
        session,
        "customer.created",
        entity_type="Customer",
        entity_id=marker,
        customer_id=None,
        data={"marker": marker},
        actor=None,
    )
    await session.flush()


class Poller:
    """Follows the feed from its cursor; remembers everything it saw, in order."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        self.cursor: Position | None = None
        self.seen: list[tuple[int, int, int]] = []  # (txid, id, marker)

    async def poll(self) -> list[int]:
        """One page after the cursor: the markers of the new events."""
        async with self.factory() as session:
            page = await list_events(session, actor=READER, first=100, after=self.cursor)
        for event in page.events:
            position = Position(event.txid, event.id)
            # never before (or at) a position already passed
            assert self.cursor is None or (position.txid, position.id) > (
                self.cursor.txid,
                self.cursor.id,
            )
            self.cursor = position
            self.seen.append((event.txid, event.id, event.entity_id))
        return [event.entity_id for event in page.events]


async def test_a_later_commit_waits_for_an_older_running_transaction(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    poller = Poller(factory)
    async with factory() as session, session.begin():
        await write(session, 1)
    assert await poller.poll() == [1]

    older = factory()
    await older.begin()
    await write(older, 2)  # transaction A: its id is taken, it stays open
    async with factory() as session, session.begin():
        await write(session, 3)  # transaction B, newer, commits first
    async with factory() as session:  # B's event is committed, with the larger txid
        found = await session.execute(select(Event.entity_id, Event.txid))
        rows = {row.entity_id: row.txid for row in found}
        assert set(rows) == {1, 3}
        assert rows[3] > rows[1]
    try:
        # B is committed, but A is older and still running: B is not shown yet
        assert await poller.poll() == []
        assert await poller.poll() == []
    finally:
        await older.commit()
        await older.close()
    # A committed: the poller continues from its cursor and gets A's, then B's
    assert await poller.poll() == [2, 3]
    assert await poller.poll() == []


async def test_many_writers_and_a_poller_see_everything_once_in_order(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    writers, commits = 8, 50
    poller = Poller(factory)
    done = asyncio.Event()

    async def writer(number: int) -> None:
        rng = random.Random(number)
        for step in range(commits):
            async with factory() as session, session.begin():
                await write(session, number * 1000 + step)
                if rng.random() < 0.3:  # hold some transactions open a little longer
                    await session.execute(text("SELECT pg_sleep(:s)"), {"s": rng.random() / 100})

    async def follow() -> None:
        while not done.is_set():
            await poller.poll()
            await asyncio.sleep(0)

    following = asyncio.create_task(follow())
    try:
        await asyncio.gather(*(writer(number) for number in range(writers)))
    finally:
        done.set()
        await following
    during = len(poller.seen)
    assert during > 0  # the poller followed the writers, not only the finished feed
    while await poller.poll():  # the rest, now that every writer has committed
        pass
    markers = [marker for _, _, marker in poller.seen]
    assert len(markers) == len(set(markers)) == writers * commits
    assert set(markers) == {n * 1000 + s for n in range(writers) for s in range(commits)}
    positions = [(txid, event_id) for txid, event_id, _ in poller.seen]
    assert positions == sorted(positions)
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == len(markers)
