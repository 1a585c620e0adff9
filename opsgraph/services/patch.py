"""Partial updates: one typed way to say "keep this field" apart from "set it" and "clear it".

Every ``update_*`` service takes its changeable fields as keyword arguments of type
``Patch[T]`` that default to ``KEEP``: ``KEEP`` leaves the field as it is, a value sets it,
and None (where ``T`` allows it) clears it. A service refuses None for a field that can't
be empty with a typed error at that field.

    async def update_thing(session, *, thing_id: int, note: Patch[str | None] = KEEP, ...)

``given(note=note, ...)`` is the fields that were given, by name, for the service's own
checks and audit.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Final, TypeAlias, TypeVar, overload

from opsgraph.errors import InvalidInput

T = TypeVar("T")
U = TypeVar("U")


class Keep(enum.Enum):
    """The type of ``KEEP``: a field left out of an update."""

    KEEP = "KEEP"

    def __repr__(self) -> str:
        return "KEEP"

    def __bool__(self) -> bool:
        return False


KEEP: Final = Keep.KEEP

Patch: TypeAlias = T | Keep
"""A field of an update: ``KEEP``, or the new value (None clears where ``T`` allows it)."""


def given(**fields: Any) -> dict[str, Any]:
    """The fields that were given (every one not ``KEEP``), by name, in the order given."""
    return {name: value for name, value in fields.items() if value is not KEEP}


@overload
def mapped(value: T | Keep, convert: Callable[[T], U]) -> U | Keep: ...


@overload
def mapped(value: T | Keep | None, convert: Callable[[T], U]) -> U | Keep | None: ...


def mapped(value: Any, convert: Callable[[Any], Any]) -> Any:
    """``value`` converted when it is given and not None; ``KEEP`` and None as they are."""
    if isinstance(value, Keep) or value is None:
        return value
    return convert(value)


def required(value: Patch[T | None], *, field: str) -> Patch[T]:
    """``value``, refusing None (``InvalidInput`` at ``field``, the GraphQL input's name):
    a field that can't be empty."""
    if value is None:
        raise InvalidInput(f"{field} can't be null", field=[field])
    return value
