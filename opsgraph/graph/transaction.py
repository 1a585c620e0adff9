"""Financial transactions in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

import datetime as dt

from opsgraph import models as m
from opsgraph.graph import enums
from opsgraph.graph.catalogue import (
    CREATED,
    HIDDEN,
    Entity,
    Relation,
    date_range,
    entity,
    one_of,
    refers_to,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "FinancialTransaction",
        table(m.FinancialTransaction),
        permission=Permission.TRANSACTION_READ,
        portal=HIDDEN,
        filters={
            "kind": one_of("kind", enums.TransactionKind, "kind"),
            "created_by": refers_to("created_by", "User", "createdBy"),
            **date_range("occurred_on", dt.date, "Occurred"),
        },
        orderings={**CREATED, "OCCURRED_ON": "occurred_on", "AMOUNT": "amount"},
        default_ordering="ID",
        relations={
            "created_by": Relation("one", "User", "created_by", "id"),
            "payment": Relation("one", "Payment", "payment_id", "id"),
        },
    )
)
