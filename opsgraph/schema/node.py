"""Opaque global ids (``base64("Type:pk")``) and cursors."""

from __future__ import annotations

import base64
import binascii

from opsgraph.errors import InvalidInput


def _encode(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(value: str) -> str | None:
    if not value or len(value) > 200:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def to_global_id(type_name: str, pk: int) -> str:
    return _encode(f"{type_name}:{pk}")


def parse_global_id(value: str, expected_type: str, *, field: str = "id") -> int:
    """The primary key in a global id of ``expected_type``; a clear error otherwise."""
    decoded = _decode(value)
    type_name, _, raw_pk = (decoded or "").partition(":")
    if not decoded or not raw_pk.isdigit() or not type_name:
        raise InvalidInput(f"{value!r} is not a valid id", field=[field])
    if type_name != expected_type:
        raise InvalidInput(
            f"id {value!r} belongs to a {type_name}, not a {expected_type}", field=[field]
        )
    return int(raw_pk)


def to_cursor(pk: int) -> str:
    return _encode(f"cursor:{pk}")


def parse_cursor(value: str, *, field: str = "after") -> int:
    decoded = _decode(value)
    kind, _, raw_pk = (decoded or "").partition(":")
    if kind != "cursor" or not raw_pk.isdigit():
        raise InvalidInput(f"{value!r} is not a valid cursor", field=[field])
    return int(raw_pk)
