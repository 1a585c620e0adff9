"""What the mutation tests share: global ids, a refused mutation's one error, the audit
events of an action."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.graph.ids import to_global_id
from opsgraph.models import AuditEvent


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


def payload_of(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The payload of mutation ``name``, in a response without top-level errors."""
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    return payload


def refused(body: dict[str, Any], mutation: str, *objects: str) -> dict[str, Any]:
    """The one payload error of a refused mutation: its ``objects`` (and every other
    field it selected but ``errors``) null."""
    payload = payload_of(body, mutation)
    for name in objects:
        assert payload[name] is None, payload
    assert all(value is None for key, value in payload.items() if key != "errors"), payload
    [error] = payload["errors"]
    return dict(error)


async def events(session: AsyncSession, action: str) -> list[AuditEvent]:
    """The audit events of ``action``, oldest first."""
    found = await session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    )
    return list(found.all())
