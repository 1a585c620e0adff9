"""How a message names things to a client, the one way every service does it.

* An object by what the client knows it by: its business key (an invoice's number, a
  product's SKU, a customer's or an order's external id, a user's username...) where it
  has one, else its global id (``opsgraph.graph.ids``) as ``node(id:)`` takes it; never the
  internal integer id, which no client ever sees: ``invoice INV-2026-00012``,
  ``ticket VGlja2V0OjE5``, ``customer "ACME 1"``.
* A status as the GraphQL enum value the client sends and reads: ``OPEN``, ``IN_PROGRESS``.
* With the article its first sound takes: ``an OPEN ticket``, ``a PENDING order``.
"""

from __future__ import annotations

import re
from typing import Any

from opsgraph.graph.ids import to_global_id

# the column that names each kind of object to people, where it has one
KEYS = {
    "ApiKey": "prefix",
    "Customer": "external_id",
    "Invoice": "number",
    "Order": "external_id",
    "Product": "sku",
    "PurchaseOrder": "external_id",
    "Role": "name",
    "User": "username",
}
# nouns that are not simply the type name in lower case words
NOUNS = {"ApiKey": "API key", "FinancialTransaction": "transaction"}
PLAIN_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")
WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


def noun(type_name: str) -> str:
    """``PurchaseOrder`` -> ``purchase order``."""
    return NOUNS.get(type_name) or WORD_START.sub(" ", type_name).lower()


def quoted(key: str) -> str:
    """A key as written in a message: bare when it is one plain word, else in quotes."""
    return key if PLAIN_KEY.fullmatch(key) else f'"{key}"'


def named(type_name: str, pk: int | None = None, *, key: str | None = None) -> str:
    """``invoice INV-2026-00012`` (by ``key``), else ``ticket VGlja2V0OjE5`` (by the
    global id of ``pk``)."""
    if key:
        return f"{noun(type_name)} {quoted(key)}"
    if pk is None:
        return f"this {noun(type_name)}"
    return f"{noun(type_name)} {to_global_id(type_name, pk)}"


def name_of(row: Any, type_name: str | None = None) -> str:
    """A model object (or a row with its columns) named as ``named`` does; the type is
    the model's class name (the GraphQL type's) unless given."""
    kind = type_name or type(row).__name__
    column = KEYS.get(kind)
    key = getattr(row, column, None) if column else None
    return named(kind, getattr(row, "id", None), key=key)


def enum_value(value: str) -> str:
    """A status or state as its GraphQL enum value: ``in_progress`` -> ``IN_PROGRESS``."""
    return str(value).upper()


def enum_values(values: list[str] | tuple[str, ...]) -> str:
    """``OPEN, IN_PROGRESS or CLOSED``."""
    names = [enum_value(value) for value in values]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def article(word: str) -> str:
    """``an OPEN``, ``a PENDING``, ``an order``: ``word`` with the article its first
    letter takes (good for the statuses and nouns of this API)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
