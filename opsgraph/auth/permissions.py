"""Every permission, in one place, and the built-in roles made of them.

Permissions are ``<domain>:<action>`` strings. The guards and the seed data read them
from here; nothing else spells a permission out.

``portal:scoped`` is not a right but a limit: a principal holding it (through any of its
roles, whatever else those grant) is a customer-portal principal and sees only the rows of
the customer its user is linked to, and nothing at all while linked to none. An API key
inherits it from its creator, whatever the key's scopes.
"""

from __future__ import annotations

from typing import Final

DOMAINS: Final = (
    "customer",
    "property",
    "product",
    "stock",
    "order",
    "invoice",
    "payment",
    "ticket",
    "time_entry",
    "purchase_order",
    "transaction",
    "report",
    "user",
    "role",
    "api_key",
    "audit",
)

PORTAL_SCOPED: Final = "portal:scoped"
# reading the schema itself (introspection) where it is not open to everyone: production
INTROSPECT: Final = "schema:introspect"

# the event feed (``events``); each event also needs the read permission of its object
EVENT_READ: Final = "event:read"
# webhook endpoints, their deliveries and the inbound receipts
WEBHOOK_MANAGE: Final = "webhook:manage"
# inbound webhooks: a regional office reporting sales, a manufacturer reporting states
WEBHOOK_SALES: Final = "webhook:sales"
WEBHOOK_MANUFACTURER: Final = "webhook:manufacturer"

PERMISSIONS: Final[frozenset[str]] = frozenset(
    {f"{domain}:{action}" for domain in DOMAINS for action in ("read", "write")}
    | {"user:admin", PORTAL_SCOPED, INTROSPECT}
    | {EVENT_READ, WEBHOOK_MANAGE, WEBHOOK_SALES, WEBHOOK_MANUFACTURER}
)


def _select(*patterns: str) -> frozenset[str]:
    """Permissions matching ``domain:action`` patterns, where either side may be ``*``."""
    chosen: set[str] = set()
    for pattern in patterns:
        domain, _, action = pattern.partition(":")
        for permission in PERMISSIONS:
            p_domain, _, p_action = permission.partition(":")
            if domain in ("*", p_domain) and action in ("*", p_action):
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

BUILTIN_ROLES: Final[dict[str, tuple[str, frozenset[str]]]] = {
    "admin": ("Everything, including users, roles and API keys", PERMISSIONS - {PORTAL_SCOPED}),
    "staff": (
        "Reads everything; writes operational data",
        _select("*:read") - {"audit:read", "user:read", "role:read", "api_key:read"}
        | _select(*(f"{d}:write" for d in OPERATIONAL)),
    ),
    "accountant": (
        "Invoices, payments and transactions; reads customers and orders",
        _select(
            "invoice:*",
            "payment:*",
            "transaction:*",
            "customer:read",
            "order:read",
            "property:read",
            "report:read",
            EVENT_READ,
        ),
    ),
    "support": (
        "Tickets and time entries; reads customers",
        _select("ticket:*", "time_entry:*", "customer:read", "property:read", EVENT_READ),
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
            "product:read",
            "stock:read",
            EVENT_READ,
            WEBHOOK_SALES,
            WEBHOOK_MANUFACTURER,
        ),
    ),
    "customer": (
        "Customer portal: reads its own customer's data (none while linked to no customer)",
        _select(
            PORTAL_SCOPED,
            "customer:read",
            "property:read",
            "order:read",
            "invoice:read",
            "payment:read",
            "ticket:read",
            "ticket:write",
            "time_entry:read",
            "purchase_order:read",
            "report:read",
            EVENT_READ,
        ),
    ),
}
