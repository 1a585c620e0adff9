"""Users in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

from opsgraph import models as m
from opsgraph.graph.catalogue import (
    CREATED,
    Entity,
    Portal,
    Relation,
    contains,
    entity,
    equals,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "User",
        table(m.User),
        permission=Permission.USER_READ,
        portal=Portal(own_user=True),
        filters={
            "search": contains("username", "username"),
            "email": contains("email", "e-mail address"),
            "is_active": equals("is_active", bool, "active flag"),
        },
        orderings={**CREATED, "USERNAME": "username"},
        default_ordering="ID",
        relations={
            "roles": Relation(
                "many", "Role", "id", "user_id", through=(table(m.UserRole), "user_id", "role_id")
            ),
            "assigned_tickets": Relation("many", "Ticket", "id", "assignee_id"),
            "customer": Relation("one", "Customer", "customer_id", "id"),
        },
    )
)
