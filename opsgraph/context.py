"""The per-request context every resolver receives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from opsgraph.db import SessionFactory
from opsgraph.loaders import Loaders
from opsgraph.settings import Settings


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    settings: Settings
    session_factory: SessionFactory
    # Strawberry resolves sibling fields concurrently; reads take turns on this lock so a
    # session (and, in tests, the one shared connection) is never used by two at once.
    _read_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    loaders: Loaders = field(init=False)
    # how the query was read: "compiled" (opsgraph.execution) or "resolvers"
    read_path: str = field(default="resolvers", init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.fetch)

    async def fetch(self, statement: Executable) -> Sequence[Any]:
        """Run one read statement and return all its rows."""
        async with self._read_lock, self.session_factory() as session:
            result = await session.execute(statement)
            return result.all()

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for a service call that reads; it takes its turn like the loaders."""
        async with self._read_lock, self.session_factory() as session:
            yield session
