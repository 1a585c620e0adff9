"""Cursor connections shared by every list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import strawberry

from opsgraph.errors import InvalidInput
from opsgraph.schema.node import parse_cursor

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

NodeT = TypeVar("NodeT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total_count: int


@dataclass(frozen=True)
class PageRequest:
    """Validated pagination arguments: how many rows and after which key."""

    limit: int
    after_id: int | None


def page_request(first: int | None, after: str | None) -> PageRequest:
    if first is None:
        first = DEFAULT_PAGE_SIZE
    if first < 0:
        raise InvalidInput("first must not be negative", field=["first"])
    if first > MAX_PAGE_SIZE:
        raise InvalidInput(
            f"first may be at most {MAX_PAGE_SIZE} (asked for {first})", field=["first"]
        )
    return PageRequest(limit=first, after_id=parse_cursor(after) if after else None)
