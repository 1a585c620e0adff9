"""Cursors and page windows shared by every list, root and nested.

Cursors are opaque: base64 of the sort key's value and the row id, so paging is stable
(sort key plus id as tie-breaker) and a cursor never skips or repeats rows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from opsgraph.errors import InvalidInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


# --- cursors -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | Decimal):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    return value


def encode_cursor(sort_column: str, row: Any) -> str:
    payload = [sort_column, _plain(getattr(row, sort_column)), row.id]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Cursor:
    sort_column: str
    value: Any
    id: int


def decode_cursor(value: str, sort_column: str, python_type: type, *, field: str) -> Cursor:
    """Parse a cursor made for ``sort_column``; anything else is a clear error."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        column, sort_value, row_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput(f"{value!r} is not a valid cursor", field=[field]) from None
    if column != sort_column or not isinstance(row_id, int):
        raise InvalidInput(
            f"cursor {value!r} belongs to another ordering; request the first page again",
            field=[field],
        )
    try:
        typed = _typed(sort_value, python_type)
    except (ValueError, TypeError, InvalidOperation):
        raise InvalidInput(f"{value!r} is not a valid cursor", field=[field]) from None
    return Cursor(sort_column, typed, row_id)


def _typed(value: Any, python_type: type) -> Any:
    if python_type is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if python_type is dt.date:
        return dt.date.fromisoformat(value)
    if python_type is Decimal:
        return Decimal(value)
    if python_type is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError
        return value
    if not isinstance(value, python_type):
        raise TypeError
    return value


# --- page arguments ----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Validated first/after/last/before (cursors still opaque)."""

    first: int | None
    last: int | None
    after: str | None
    before: str | None

    @property
    def limit(self) -> int:
        return self.last if self.last is not None else (self.first or 0)


def window(first: int | None, after: str | None, last: int | None, before: str | None) -> Window:
    if first is not None and last is not None:
        raise InvalidInput("give either first or last, not both", field=["first"])
    for name, size in (("first", first), ("last", last)):
        if size is not None and size < 0:
            raise InvalidInput(f"{name} must not be negative", field=[name])
        if size is not None and size > MAX_PAGE_SIZE:
            raise InvalidInput(
                f"{name} may be at most {MAX_PAGE_SIZE} (asked for {size})", field=[name]
            )
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    return Window(first=first, last=last, after=after, before=before)
