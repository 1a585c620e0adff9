"""The audit trail: every change a service makes is an ``audit_event`` in the same
transaction (actor, action, entity, before/after of the changed fields, request id).

``entity_type`` is the GraphQL type name (``"Order"``), so ``Order.history`` finds them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from asgi_correlation_id import correlation_id
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.models import AuditEvent


def audit(
    session: AsyncSession,
    action: str,
    *,
    actor: int | None,
    entity_type: str,
    entity_id: int | None,
    changes: dict[str, Any],
    actor_api_key: int | None = None,
) -> None:
    """Record an audit event in the caller's transaction. ``actor_api_key``: the API key
    the actor acted with, if any."""
    session.add(
        AuditEvent(
            actor_user_id=actor,
            actor_api_key_id=actor_api_key,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            changes=changes,
            request_id=correlation_id.get(),
        )
    )


def jsonable(value: Any) -> Any:
    """A value as the audit trail's JSON keeps it: money as an exact string, times in ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of a model object (or row), ready for the audit trail."""
    return {name: jsonable(getattr(obj, name)) for name in fields}


def record(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    entity_type: str,
    entity_id: int,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    **extra: Any,
) -> None:
    """Record what ``action`` did to one entity. ``before``/``after`` are snapshots; only
    the fields that differ are kept (all of them for a create or a delete). ``extra``:
    anything else worth keeping (a reason, the order of a movement)."""
    old = {key: jsonable(value) for key, value in (before or {}).items()}
    new = {key: jsonable(value) for key, value in (after or {}).items()}
    if before is not None and after is not None:
        changed = [key for key in {**old, **new} if old.get(key) != new.get(key)]
        old = {key: old[key] for key in changed if key in old}
        new = {key: new[key] for key in changed if key in new}
    changes: dict[str, Any] = {}
    if before is not None:
        changes["before"] = old
    if after is not None:
        changes["after"] = new
    changes.update({key: jsonable(value) for key, value in extra.items()})
    audit(
        session,
        action,
        actor=actor.user_id if actor else None,
        actor_api_key=actor.api_key_id if actor else None,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes,
    )
