"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from opsgraph.models.audit import AuditEvent
from opsgraph.models.base import Base
from opsgraph.models.customer import Customer, Property
from opsgraph.models.event import Event
from opsgraph.models.idempotency import IdempotencyKey
from opsgraph.models.invoice import Invoice, InvoiceNumberCounter, InvoiceStatus
from opsgraph.models.order import Order, OrderLine, OrderStatus
from opsgraph.models.payment import Payment, PaymentMethod
from opsgraph.models.product import Product, StockLevel, StockMovement, StockReason
from opsgraph.models.purchase_order import PurchaseOrder, PurchaseOrderState
from opsgraph.models.session import LoginAttempt, RefreshToken
from opsgraph.models.ticket import Ticket, TicketPriority, TicketStatus, TimeEntry
from opsgraph.models.transaction import FinancialTransaction, TransactionKind
from opsgraph.models.trusted_document import DocumentSource, TrustedDocument
from opsgraph.models.user import ApiKey, Role, RolePermission, User, UserRole
from opsgraph.models.webhook import (
    DeliveryStatus,
    ReceiptStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookReceipt,
)

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Customer",
    "DeliveryStatus",
    "DocumentSource",
    "Event",
    "FinancialTransaction",
    "IdempotencyKey",
    "Invoice",
    "InvoiceNumberCounter",
    "InvoiceStatus",
    "LoginAttempt",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Payment",
    "PaymentMethod",
    "Product",
    "Property",
    "PurchaseOrder",
    "PurchaseOrderState",
    "ReceiptStatus",
    "RefreshToken",
    "Role",
    "RolePermission",
    "StockLevel",
    "StockMovement",
    "StockReason",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "TimeEntry",
    "TransactionKind",
    "TrustedDocument",
    "User",
    "UserRole",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookReceipt",
]
