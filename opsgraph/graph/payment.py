"""Payments in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

import datetime as dt

from opsgraph import models as m
from opsgraph.graph import enums
from opsgraph.graph.catalogue import (
    CREATED,
    Entity,
    Portal,
    Relation,
    date_range,
    entity,
    equals,
    one_of,
    table,
)
from opsgraph.permissions import Permission

entity(
    Entity(
        "Payment",
        table(m.Payment),
        permission=Permission.PAYMENT_READ,
        portal=Portal(via="invoice"),
        filters={
            "method": one_of("method", enums.PaymentMethod, "method"),
            "reference": equals("reference", str, "reference"),
            **date_range("paid_at", dt.datetime, "Paid"),
        },
        orderings={**CREATED, "PAID_AT": "paid_at", "AMOUNT": "amount"},
        default_ordering="ID",
        relations={"invoice": Relation("one", "Invoice", "invoice_id", "id")},
    )
)
