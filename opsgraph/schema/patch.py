"""Update inputs to service patches: the one conversion every update resolver uses.

An update input's field that can be cleared, or whose null is refused at the field, is a
``strawberry.Maybe[T | None]``: left out it is None, given it is ``Some(value)``, and
``Some(None)`` for an explicit null. Its SDL is a plain nullable field with no default, so
a client's "left out" and "null" differ. ``patch`` turns it into the services'
``Patch[T]``: ``KEEP`` when left out.

The older inputs whose fields all map to columns that can't be empty declare ``= null``
in the SDL (null: kept as it is); for a plain ``T | None`` value ``patch`` gives ``KEEP``
for None, as that SDL promises.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, overload

from strawberry import Some

from opsgraph.services.patch import KEEP, Patch

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Given(Protocol[T_co]):
    """``strawberry.Some`` as a reader sees it: the value given."""

    @property
    def value(self) -> T_co: ...


@overload
def patch(value: Given[T] | None) -> Patch[T]: ...


@overload
def patch(value: T | None) -> Patch[T]: ...


def patch(value: Any) -> Any:
    """``KEEP`` for a field left out (or a null that keeps), else the value given (None
    for an explicit null of a ``Maybe``)."""
    if value is None:
        return KEEP
    return value.value if isinstance(value, Some) else value
