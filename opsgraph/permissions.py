"""Every permission the product knows, spelled once.

A permission is a ``<domain>:<action>`` string; ``Permission`` names each, and every other
module (guards, services, roles, seed data, descriptions) refers to the member, never to
the string. The values are what roles store and API keys list as scopes, so they never
change. This module imports nothing from opsgraph, so any layer may use it.

``portal:scoped`` is not a right but a limit: a principal holding it (through any of its
roles, whatever else those grant) is a customer-portal principal and sees only the rows of
the customer its user is linked to, and nothing at all while linked to none. An API key
inherits it from its creator, whatever the key's scopes.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """One permission; its value is the ``<domain>:<action>`` string."""

    CUSTOMER_READ = "customer:read"
    CUSTOMER_WRITE = "customer:write"
    PROPERTY_READ = "property:read"
    PROPERTY_WRITE = "property:write"
    PRODUCT_READ = "product:read"
    PRODUCT_WRITE = "product:write"
    STOCK_READ = "stock:read"
    STOCK_WRITE = "stock:write"
    ORDER_READ = "order:read"
    ORDER_WRITE = "order:write"
    INVOICE_READ = "invoice:read"
    INVOICE_WRITE = "invoice:write"
    PAYMENT_READ = "payment:read"
    PAYMENT_WRITE = "payment:write"
    TICKET_READ = "ticket:read"
    TICKET_WRITE = "ticket:write"
    TIME_ENTRY_READ = "time_entry:read"
    TIME_ENTRY_WRITE = "time_entry:write"
    PURCHASE_ORDER_READ = "purchase_order:read"
    PURCHASE_ORDER_WRITE = "purchase_order:write"
    TRANSACTION_READ = "transaction:read"
    TRANSACTION_WRITE = "transaction:write"
    REPORT_READ = "report:read"
    REPORT_WRITE = "report:write"
    USER_READ = "user:read"
    USER_WRITE = "user:write"
    USER_ADMIN = "user:admin"
    ROLE_READ = "role:read"
    ROLE_WRITE = "role:write"
    API_KEY_READ = "api_key:read"
    API_KEY_WRITE = "api_key:write"
    AUDIT_READ = "audit:read"
    AUDIT_WRITE = "audit:write"
    # a limit, not a right: see the module docstring
    PORTAL_SCOPED = "portal:scoped"
    # reading the schema itself (introspection) where it is not open to everyone: production
    INTROSPECT = "schema:introspect"
    # the event feed (``events``); each event also needs the read permission of its object
    EVENT_READ = "event:read"
    # webhook endpoints, their deliveries and the inbound receipts
    WEBHOOK_MANAGE = "webhook:manage"
    # inbound webhooks: a regional office reporting sales, a manufacturer reporting states
    WEBHOOK_SALES = "webhook:sales"
    WEBHOOK_MANUFACTURER = "webhook:manufacturer"

    @property
    def domain(self) -> str:
        return self.value.partition(":")[0]

    @property
    def action(self) -> str:
        return self.value.partition(":")[2]
