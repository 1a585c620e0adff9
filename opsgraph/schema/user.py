"""GraphQL types for users, roles and the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON

from opsgraph.graph.ids import to_global_id
from opsgraph.loaders import computed
from opsgraph.schema.fields import batched, from_row, history_of, many, node_id, one
from opsgraph.schema.node import Node


def _listed(root: Any, values: Any) -> list[str]:
    return list(values)


def _api_key_id(root: Any) -> strawberry.ID | None:
    key = root.actor_api_key_id
    return strawberry.ID(to_global_id("ApiKey", key)) if key is not None else None


def _object_id(root: Any) -> strawberry.ID | None:
    if root.entity_id is None:
        return None
    return strawberry.ID(to_global_id(root.entity_type, root.entity_id))


@strawberry.type(description="Someone who signs in: staff, or a customer-portal user.")
class User(Node):
    id: strawberry.ID = node_id("User")
    username: str
    email: str
    full_name: str
    is_active: bool
    last_login_at: dt.datetime | None
    created_at: dt.datetime

    roles = many("User", "roles", "Roles held by the user.")
    permissions = batched(
        computed.user_permissions,
        list[str],
        "Every permission the user holds through its roles, sorted.",
        default=(),
        derive=_listed,
    )
    assigned_tickets = many("User", "assigned_tickets", "Tickets assigned to the user.")
    customer = one("User", "customer", "For portal users: the customer they belong to.")
    history = history_of("User")


@strawberry.type(description="A named set of permissions.")
class Role(Node):
    id: strawberry.ID = node_id("Role")
    name: str
    description: str
    created_at: dt.datetime

    users = many("Role", "users", "Users holding the role.")
    permissions = batched(
        computed.role_permissions,
        list[str],
        "The role's permissions (`<domain>:<action>`), sorted.",
        default=(),
        derive=_listed,
    )
    history = history_of("Role")


@strawberry.type(description="One recorded change: who did what to which entity, when.")
class AuditEvent(Node):
    id: strawberry.ID = node_id("AuditEvent")
    action: str
    entity_type: str
    entity_id: int | None = strawberry.field(
        deprecation_reason="Use objectId: the changed object's global id, as node(id:) takes it."
    )
    object_id = from_row(
        _object_id,
        strawberry.ID | None,
        "The changed object's global id (`node(id:)` finds it), if it has one.",
    )
    changes: JSON = strawberry.field(description="Before/after of the changed fields.")
    request_id: str | None
    created_at: dt.datetime

    actor = one("AuditEvent", "actor", "The user who acted, if any.")
    actor_api_key_id = from_row(
        _api_key_id, strawberry.ID | None, "The API key that acted, if any (its global id)."
    )
