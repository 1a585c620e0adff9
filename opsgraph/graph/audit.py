"""The audit trail in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

import datetime as dt

from opsgraph import models as m
from opsgraph.graph.catalogue import (
    CREATED,
    HIDDEN,
    Entity,
    Relation,
    date_range,
    entity,
    equals,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "AuditEvent",
        table(m.AuditEvent),
        permission=Permission.AUDIT_READ,
        portal=HIDDEN,
        filters={
            "action": equals("action", str, "action"),
            "entity_type": equals("entity_type", str, "entity type"),
            **date_range("created_at", dt.datetime, "Recorded"),
        },
        orderings={**CREATED},
        default_ordering="ID",
        relations={"actor": Relation("one", "User", "actor_user_id", "id")},
    )
)
