"""Relay cursor connections as GraphQL types, shared by every list, root and nested
(the cursors and page windows themselves: ``opsgraph.graph.pagination``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry

from opsgraph.graph.pagination import encode_cursor

NodeT = TypeVar("NodeT")


@strawberry.enum(description="Sort direction.")
class Direction(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.type(description="Where a page sits in its list (Relay cursor connections).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    first: strawberry.Private[Any]
    last: strawberry.Private[Any]
    sort_column: strawberry.Private[str]

    @strawberry.field(description="Cursor of the first row of the page.")
    def start_cursor(self) -> str | None:
        return encode_cursor(self.sort_column, self.first) if self.first is not None else None

    @strawberry.field(description="Cursor of the last row of the page.")
    def end_cursor(self) -> str | None:
        return encode_cursor(self.sort_column, self.last) if self.last is not None else None


@strawberry.type(description="One row of a page and the cursor that points at it.")
class Edge(Generic[NodeT]):
    node: NodeT
    sort_column: strawberry.Private[str]

    @strawberry.field(description="Opaque cursor: pass it as `after` or `before`.")
    def cursor(self) -> str:
        return encode_cursor(self.sort_column, self.node)


@strawberry.type(description="A page of a list, with cursors and the list's total size.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many rows the whole list (all pages) holds.")
    async def total_count(self) -> int:
        return await self.count()
