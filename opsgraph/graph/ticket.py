"""Support tickets and their time entries in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

import datetime as dt

from opsgraph import models as m
from opsgraph.graph import enums
from opsgraph.graph.catalogue import (
    CREATED,
    OWNED,
    Entity,
    Portal,
    Relation,
    contains,
    date_range,
    entity,
    equals,
    one_of,
    refers_to,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "Ticket",
        table(m.Ticket),
        permission=Permission.TICKET_READ,
        portal=OWNED,
        filters={
            "status": one_of("status", enums.TicketStatus, "status"),
            "priority": one_of("priority", enums.TicketPriority, "priority"),
            "search": contains("subject", "subject"),
            "customer_id": refers_to("customer_id", "Customer", "customerId"),
            "assignee_id": refers_to("assignee_id", "User", "assigneeId"),
            **date_range("created_at", dt.datetime, "Opened"),
        },
        orderings={**CREATED, "UPDATED_AT": "updated_at", "PRIORITY": "priority"},
        default_ordering="ID",
        relations={
            "customer": Relation("one", "Customer", "customer_id", "id"),
            "assignee": Relation("one", "User", "assignee_id", "id"),
            "time_entries": Relation("many", "TimeEntry", "id", "ticket_id"),
        },
    )
)

entity(
    Entity(
        "TimeEntry",
        table(m.TimeEntry),
        permission=Permission.TIME_ENTRY_READ,
        portal=Portal(via="ticket"),
        filters={
            "billable": equals("billable", bool, "billable flag"),
            **date_range("started_at", dt.datetime, "Started"),
        },
        orderings={**CREATED, "STARTED_AT": "started_at", "MINUTES": "minutes"},
        default_ordering="ID",
        relations={
            "ticket": Relation("one", "Ticket", "ticket_id", "id"),
            "user": Relation("one", "User", "user_id", "id"),
        },
    )
)
