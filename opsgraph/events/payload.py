"""The ``data`` of an event, made the same way for every type.

Keys are the GraphQL API's camelCase field names; a reference to another object is its
global id under the reference's GraphQL name (``customer_id`` -> ``customerId``); an
enum is its GraphQL value (``pending`` -> ``PENDING``); money is an exact string and a
time ISO 8601 (``emit`` makes every value JSON-safe).

``fields_of`` is what a ``*.created`` event carries (the object's fields); ``changed``
what a change carries (``changes: {field: {from, to}}`` of the fields that differ).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from opsgraph.graph.ids import to_global_id
from opsgraph.services.audit import jsonable

# reference columns -> the GraphQL type their global id names
REFERENCES: Final = {
    "id": None,  # the object itself: the caller names its type
    "customer_id": "Customer",
    "property_id": "Property",
    "order_id": "Order",
    "invoice_id": "Invoice",
    "payment_id": "Payment",
    "product_id": "Product",
    "ticket_id": "Ticket",
    "assignee_id": "User",
    "created_by": "User",
}
# columns whose values are GraphQL enum values
ENUMS: Final = frozenset({"status", "state", "priority", "method"})
# GraphQL names that are not the camelCase of the column
RENAMED: Final = {"created_by": "createdById", "assignee_id": "assigneeId"}


def camel(name: str) -> str:
    """``external_id`` -> ``externalId``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _value(name: str, value: Any, own_type: str | None) -> Any:
    if value is None:
        return None
    if name in REFERENCES:
        type_name = REFERENCES[name] or own_type
        if type_name is not None and isinstance(value, int):
            return to_global_id(type_name, value)
    if name in ENUMS and isinstance(value, str):
        return value.upper()
    return jsonable(value)


def _key(name: str) -> str:
    return RENAMED.get(name) or camel(name)


def fields_of(
    source: Any | Mapping[str, Any], names: Iterable[str], *, type_name: str | None = None
) -> dict[str, Any]:
    """The named columns of a model object, row or mapping, as event data. ``type_name``:
    the GraphQL type of ``source`` (its ``id`` becomes that type's global id)."""
    get = source.get if isinstance(source, Mapping) else lambda name: getattr(source, name)
    return {_key(name): _value(name, get(name), type_name) for name in names}


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], *, type_name: str | None = None
) -> dict[str, dict[str, Any]]:
    """``{field: {"from": old, "to": new}}`` for the columns whose values differ, compared
    as event data (in the order of ``before``, then ``after``)."""
    result: dict[str, dict[str, Any]] = {}
    for name in {**before, **after}:
        old = _value(name, before.get(name), type_name)
        new = _value(name, after.get(name), type_name)
        if old != new:
            result[_key(name)] = {"from": old, "to": new}
    return result
