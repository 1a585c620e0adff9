"""Roles in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

from opsgraph import models as m
from opsgraph.graph.catalogue import CREATED, SHARED, Entity, Relation, contains, entity, table

entity(
    Entity(
        "Role",
        table(m.Role),
        permission=None,
        portal=SHARED,
        filters={"search": contains("name", "name")},
        orderings={**CREATED, "NAME": "name"},
        default_ordering="ID",
        relations={
            "users": Relation(
                "many", "User", "id", "role_id", through=(table(m.UserRole), "role_id", "user_id")
            ),
        },
    )
)
