"""GraphQL enums of the data model (UPPER_CASE names, the database's strings as values)."""

from enum import StrEnum
from typing import Any

import strawberry

from opsgraph import models as m
from opsgraph.events.catalogue import CATALOGUE


def graphql_enum(name: str, source: type[StrEnum], description: str) -> Any:
    members = {member.name.upper(): member.value for member in source}
    made: Any = StrEnum(name, members)  # type: ignore[misc]
    return strawberry.enum(made, description=description)


OrderStatus = graphql_enum("OrderStatus", m.OrderStatus, "Where an order is in its life.")
InvoiceStatus = graphql_enum("InvoiceStatus", m.InvoiceStatus, "Where an invoice is.")
PaymentMethod = graphql_enum("PaymentMethod", m.PaymentMethod, "How a payment was made.")
TicketStatus = graphql_enum("TicketStatus", m.TicketStatus, "Where a ticket is.")
TicketPriority = graphql_enum("TicketPriority", m.TicketPriority, "How urgent a ticket is.")
StockReason = graphql_enum("StockReason", m.StockReason, "Why stock moved.")
PurchaseOrderState = graphql_enum(
    "PurchaseOrderState", m.PurchaseOrderState, "Where a purchase order is (forward only)."
)
TransactionKind = graphql_enum("TransactionKind", m.TransactionKind, "Kind of transaction.")
WebhookDeliveryStatus = graphql_enum(
    "WebhookDeliveryStatus", m.DeliveryStatus, "Where a webhook delivery is."
)


def _event_types() -> Any:
    """The event catalogue as an enum: ``CUSTOMER_CREATED`` is ``customer.created``."""
    members = {name.upper().replace(".", "_"): name for name in CATALOGUE}
    made: Any = StrEnum("EventType", members)  # type: ignore[misc]
    return strawberry.enum(
        made, description="A type of event (opsgraph.events.catalogue; the value is its name)."
    )


EventType = _event_types()
