"""Invoices in the graph: tables, filters,
orderings, relations, read permission and portal scope."""

import datetime as dt

from opsgraph import models as m
from opsgraph.graph import enums
from opsgraph.graph.catalogue import (
    CREATED,
    OWNED,
    Entity,
    Relation,
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
        "Invoice",
        table(m.Invoice),
        permission=Permission.INVOICE_READ,
        portal=OWNED,
        filters={
            "status": one_of("status", enums.InvoiceStatus, "status"),
            "customer_id": refers_to("customer_id", "Customer", "customerId"),
            "number": equals("number", str, "invoice number"),
            **date_range("issued_date", dt.date, "Issued"),
            **date_range("due_date", dt.date, "Due"),
        },
        orderings={
            **CREATED,
            "NUMBER": "number",
            "ISSUED_DATE": "issued_date",
            "DUE_DATE": "due_date",
            "TOTAL": "total",
        },
        default_ordering="ID",
        relations={
            "customer": Relation("one", "Customer", "customer_id", "id"),
            "order": Relation("one", "Order", "order_id", "id"),
            "property": Relation("one", "Property", "property_id", "id"),
            "payments": Relation("many", "Payment", "id", "invoice_id"),
            # invoices have no lines of their own: those of the order invoiced
            "lines": Relation("many", "OrderLine", "order_id", "order_id"),
        },
    )
)
