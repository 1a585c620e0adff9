"""Opaque global ids: ``base64url("Type:pk")`` without padding.

Every surface that names an object to the outside (GraphQL ``id`` fields, event payloads,
webhook bodies) encodes it here, so a receiver can pass an id from a webhook straight to
``node(id:)``.
"""

from __future__ import annotations

import base64
import binascii

from opsgraph.errors import InvalidInput


def encode_opaque(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_opaque(value: str) -> str | None:
    if not value or len(value) > 200:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def to_global_id(type_name: str, pk: int) -> str:
    return encode_opaque(f"{type_name}:{pk}")


def decode_global_id(value: str, *, field: list[str] | None = None) -> tuple[str, int]:
    """The type name and primary key in a global id; a clear error when malformed."""
    decoded = decode_opaque(value)
    type_name, _, raw_pk = (decoded or "").partition(":")
    if not decoded or not raw_pk.isdigit() or not type_name or len(raw_pk) > 18:
        raise InvalidInput(f"{value!r} is not a valid id", field=field or ["id"])
    return type_name, int(raw_pk)


def parse_global_id(value: str, expected_type: str, *, field: str | list[str] = "id") -> int:
    """The primary key in a global id of ``expected_type``; a clear error otherwise, at
    ``field`` (a name, or a path such as ``["lines", "0", "productId"]``)."""
    path = [field] if isinstance(field, str) else field
    type_name, pk = decode_global_id(value, field=path)
    if type_name != expected_type:
        from opsgraph.graph.names import article, noun  # names builds on the ids here

        raise InvalidInput(
            f"id {value!r} names {article(noun(type_name))}, not {article(noun(expected_type))}",
            field=path,
        )
    return pk
