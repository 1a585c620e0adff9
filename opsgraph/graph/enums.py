"""The enums of the data model as the graph names them: UPPER_CASE names, the database's
strings as values. The schema layer gives each its GraphQL description."""

from enum import StrEnum

from opsgraph import models as m


def graph_enum(name: str, source: type[StrEnum]) -> type[StrEnum]:
    members = {member.name.upper(): member.value for member in source}
    made: type[StrEnum] = StrEnum(name, members)  # type: ignore[misc]
    return made


OrderStatus = graph_enum("OrderStatus", m.OrderStatus)
InvoiceStatus = graph_enum("InvoiceStatus", m.InvoiceStatus)
PaymentMethod = graph_enum("PaymentMethod", m.PaymentMethod)
TicketStatus = graph_enum("TicketStatus", m.TicketStatus)
TicketPriority = graph_enum("TicketPriority", m.TicketPriority)
StockReason = graph_enum("StockReason", m.StockReason)
PurchaseOrderState = graph_enum("PurchaseOrderState", m.PurchaseOrderState)
TransactionKind = graph_enum("TransactionKind", m.TransactionKind)
WebhookDeliveryStatus = graph_enum("WebhookDeliveryStatus", m.DeliveryStatus)
