"""How messages name objects and statuses: the one helper every service uses."""

from __future__ import annotations

from types import SimpleNamespace

from opsgraph.graph.ids import to_global_id
from opsgraph.graph.names import article, enum_value, enum_values, name_of, named, noun


def test_objects_are_named_by_business_key_else_by_global_id() -> None:
    assert named("Invoice", 12, key="INV-2026-00012") == "invoice INV-2026-00012"
    assert named("Ticket", 19) == f"ticket {to_global_id('Ticket', 19)}"
    assert named("Customer", key="ACME 1") == 'customer "ACME 1"'
    assert named("PurchaseOrder", key="PO-7") == "purchase order PO-7"
    assert named("Property", None) == "this property"


def test_rows_are_named_by_their_kinds_key() -> None:
    customer = SimpleNamespace(id=5, external_id=None)
    assert name_of(customer, "Customer") == f"customer {to_global_id('Customer', 5)}"
    product = SimpleNamespace(id=3, sku="SALT-1")
    assert name_of(product, "Product") == "product SALT-1"
    key = SimpleNamespace(id=2, prefix="og_abc")
    assert name_of(key, "ApiKey") == "API key og_abc"
    entry = SimpleNamespace(id=9)
    assert name_of(entry, "FinancialTransaction").startswith("transaction ")
    assert name_of(entry, "FinancialTransaction") == (
        f"transaction {to_global_id('FinancialTransaction', 9)}"
    )


def test_statuses_read_as_the_enum_values_with_the_right_article() -> None:
    assert enum_value("in_progress") == "IN_PROGRESS"
    assert enum_values(["open"]) == "OPEN"
    assert enum_values(("resolved", "closed", "in_progress")) == "RESOLVED, CLOSED or IN_PROGRESS"
    assert article("OPEN") == "an OPEN"
    assert article("PENDING") == "a PENDING"
    assert article(noun("Order")) == "an order"
    assert noun("WebhookDelivery") == "webhook delivery"
