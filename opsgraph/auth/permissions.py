"""The built-in roles, made of the permissions ``opsgraph.permissions.Permission`` names.

The permissions themselves are spelled once, in ``opsgraph.permissions``; this module
gathers them (``PERMISSIONS``, ``DOMAINS``) and composes the roles the seed data creates.
"""

from __future__ import annotations

from typing import Final

from opsgraph.permissions import Permission

PORTAL_SCOPED: Final = Permission.PORTAL_SCOPED
INTROSPECT: Final = Permission.INTROSPECT
EVENT_READ: Final = Permission.EVENT_READ
WEBHOOK_MANAGE: Final = Permission.WEBHOOK_MANAGE
WEBHOOK_SALES: Final = Permission.WEBHOOK_SALES
WEBHOOK_MANUFACTURER: Final = Permission.WEBHOOK_MANUFACTURER

PERMISSIONS: Final[frozenset[str]] = frozenset(Permission)
# the domains with data to read and write, in the order Permission lists them
DOMAINS: Final = tuple(
    dict.fromkeys(
        p.domain for p in Permission if p.action == "read" and f"{p.domain}:write" in PERMISSIONS
    )
)


def _select(*patterns: str) -> frozenset[str]:
    """Permissions matching ``domain:action`` patterns, where either side may be ``*``."""
    chosen: set[str] = set()
    for pattern in patterns:
        domain, _, action = pattern.partition(":")
        for permission in Permission:
            if domain in ("*", permission.domain) and action in ("*", permission.action):
                chosen.add(permission)
    unknown = [p for p in patterns if "*" not in p and p not in PERMISSIONS]
    if unknown:
        raise ValueError(f"unknown permissions: {unknown}")
    return frozenset(chosen)


OPERATIONAL = (
    "customer",
    "property",
    "product",
    "stock",
    "order",
    "ticket",
    "time_entry",
    "purchase_order",
)

P = Permission

BUILTIN_ROLES: Final[dict[str, tuple[str, frozenset[str]]]] = {
    "admin": ("Everything, including users, roles and API keys", PERMISSIONS - {PORTAL_SCOPED}),
    "staff": (
        "Reads everything; writes operational data",
        _select("*:read") - {P.AUDIT_READ, P.USER_READ, P.ROLE_READ, P.API_KEY_READ}
        | _select(*(f"{d}:write" for d in OPERATIONAL)),
    ),
    "accountant": (
        "Invoices, payments and transactions; reads customers and orders",
        _select(
            "invoice:*",
            "payment:*",
            "transaction:*",
            P.CUSTOMER_READ,
            P.ORDER_READ,
            P.PROPERTY_READ,
            P.REPORT_READ,
            EVENT_READ,
        ),
    ),
    "support": (
        "Tickets and time entries; reads customers",
        _select("ticket:*", "time_entry:*", P.CUSTOMER_READ, P.PROPERTY_READ, EVENT_READ),
    ),
    "integration": (
        "What partner systems need: customers, orders, invoices, payments, purchase orders; "
        "and its own API keys",
        _select(
            "api_key:*",
            "customer:*",
            "property:*",
            "order:*",
            "invoice:*",
            "payment:*",
            "purchase_order:*",
            P.PRODUCT_READ,
            P.STOCK_READ,
            EVENT_READ,
            WEBHOOK_SALES,
            WEBHOOK_MANUFACTURER,
        ),
    ),
    "customer": (
        "Customer portal: reads its own customer's data (none while linked to no customer)",
        _select(
            PORTAL_SCOPED,
            P.CUSTOMER_READ,
            P.PROPERTY_READ,
            P.ORDER_READ,
            P.INVOICE_READ,
            P.PAYMENT_READ,
            P.TICKET_READ,
            P.TICKET_WRITE,
            P.TIME_ENTRY_READ,
            P.PURCHASE_ORDER_READ,
            P.REPORT_READ,
            EVENT_READ,
        ),
    ),
}
