"""The database holds the rules it can: each bad row below is refused by a constraint."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

SETUP = """
INSERT INTO customer (id, name, external_id) VALUES (900001, 'A', 'X-1'), (900002, 'B', 'X-2');
INSERT INTO property (id, customer_id, label) VALUES (900001, 900001, 'Site');
INSERT INTO product (id, sku, name, unit_price) VALUES (900001, 'SKU-1', 'Thing', 10);
INSERT INTO stock_level (product_id, quantity) VALUES (900001, 5);
INSERT INTO "order" (id, customer_id, subtotal, tax, total) VALUES (900001, 900001, 100, 25, 125);
INSERT INTO invoice (id, number, customer_id, order_id, period_start, period_end, issued_date,
  due_date, subtotal, tax, total, status)
  VALUES (900001, 'T-1', 900001, 900001, '2026-01-01', '2026-01-31', '2026-02-01', '2026-03-01',
  100, 25, 125, 'sent');
INSERT INTO payment (invoice_id, amount, paid_at, method, reference)
  VALUES (900001, 50, now(), 'card', 'R-1');
INSERT INTO "user" (id, username, email, password_hash) VALUES (900001, 'u1', 'u1@x.se', 'h');
INSERT INTO ticket (id, customer_id, subject) VALUES (900001, 900001, 'Help');
INSERT INTO role (id, name) VALUES (900001, 'tester');
"""

INVOICE = """INSERT INTO invoice (number, customer_id, order_id, period_start, period_end,
  issued_date, due_date, subtotal, tax, total) VALUES ({})"""

BAD_ROWS: dict[str, str] = {
    "customer blank name": "INSERT INTO customer (name) VALUES ('  ')",
    "customer bad email": "INSERT INTO customer (name, email) VALUES ('C', 'not-an-email')",
    "customer duplicate external id": "INSERT INTO customer (name, external_id)"
    " VALUES ('C', 'X-1')",
    "customer negative order count": "UPDATE customer SET order_count = -1 WHERE id = 900001",
    "product bad sku": "INSERT INTO product (sku, name, unit_price) VALUES ('bad sku', 'P', 1)",
    "product duplicate sku": "INSERT INTO product (sku, name, unit_price) VALUES ('SKU-1', 'P', 1)",
    "product negative price": "INSERT INTO product (sku, name, unit_price)"
    " VALUES ('SKU-2', 'P', -1)",
    "stock below zero": "UPDATE stock_level SET quantity = quantity - 6 WHERE product_id = 900001",
    "movement bad reason": "INSERT INTO stock_movement (product_id, delta, reason, quantity_after)"
    " VALUES (900001, 1, 'theft', 6)",
    "sale without order": "INSERT INTO stock_movement (product_id, delta, reason, quantity_after)"
    " VALUES (900001, -1, 'sale', 4)",
    "order bad status": "UPDATE \"order\" SET status = 'lost' WHERE id = 900001",
    "order total not sum": 'UPDATE "order" SET total = 1 WHERE id = 900001',
    "order line zero quantity": "INSERT INTO order_line (order_id, product_id, quantity,"
    " unit_price, line_total) VALUES (900001, 900001, 0, 10, 0)",
    "order line wrong total": "INSERT INTO order_line (order_id, product_id, quantity,"
    " unit_price, line_total) VALUES (900001, 900001, 2, 10, 25)",
    "invoice period reversed": INVOICE.format(
        "'T-2', 900001, NULL, '2026-02-01', '2026-01-01', '2026-02-01', '2026-03-01', 1, 0, 1"
    ),
    "invoice due before issue": INVOICE.format(
        "'T-2', 900001, NULL, '2026-01-01', '2026-01-31', '2026-02-01', '2026-01-15', 1, 0, 1"
    ),
    "invoice total not sum": INVOICE.format(
        "'T-2', 900001, NULL, '2026-01-01', '2026-01-31', '2026-02-01', '2026-03-01', 1, 1, 3"
    ),
    "invoice duplicate number": INVOICE.format(
        "'T-1', 900001, NULL, '2026-01-01', '2026-01-31', '2026-02-01', '2026-03-01', 1, 0, 1"
    ),
    "invoice for another customer's order": "UPDATE invoice SET status = 'void'; "
    + INVOICE.format(
        "'T-2', 900002, 900001, '2026-01-01', '2026-01-31', '2026-02-01', '2026-03-01', 1, 0, 1"
    ),
    "second live invoice for an order": INVOICE.format(
        "'T-2', 900001, 900001, '2026-01-01', '2026-01-31', '2026-02-01', '2026-03-01', 1, 0, 1"
    ),
    "payment zero amount": "INSERT INTO payment (invoice_id, amount, paid_at, method, reference)"
    " VALUES (900001, 0, now(), 'card', 'R-2')",
    "payment bad method": "INSERT INTO payment (invoice_id, amount, paid_at, method, reference)"
    " VALUES (900001, 1, now(), 'bitcoin', 'R-2')",
    "payment duplicate reference": "INSERT INTO payment (invoice_id, amount, paid_at, method,"
    " reference) VALUES (900001, 1, now(), 'cash', 'R-1')",
    "ticket resolved without time": "UPDATE ticket SET status = 'resolved' WHERE id = 900001",
    "ticket open with resolved time": "UPDATE ticket SET resolved_at = now() WHERE id = 900001",
    "ticket bad priority": "UPDATE ticket SET priority = 'meh' WHERE id = 900001",
    "time entry zero minutes": "INSERT INTO time_entry (ticket_id, user_id, minutes, started_at)"
    " VALUES (900001, 900001, 0, now())",
    "purchase order bad state": "INSERT INTO purchase_order (external_id, customer_id, state)"
    " VALUES ('PO-X', 900001, 'lost')",
    "transaction bad kind": "INSERT INTO financial_transaction (kind, amount, occurred_on)"
    " VALUES ('gift', 1, '2026-01-01')",
    "transaction negative amount": "INSERT INTO financial_transaction (kind, amount, occurred_on)"
    " VALUES ('expense', -1, '2026-01-01')",
    "user upper-case username": 'INSERT INTO "user" (username, email, password_hash)'
    " VALUES ('Bob', 'bob@x.se', 'h')",
    "user duplicate email": 'INSERT INTO "user" (username, email, password_hash)'
    " VALUES ('bob', 'u1@x.se', 'h')",
    "role permission malformed": "INSERT INTO role_permission (role_id, permission)"
    " VALUES (900001, 'everything')",
    "role in use cannot be deleted": "INSERT INTO user_role (user_id, role_id)"
    " VALUES (900001, 900001); DELETE FROM role WHERE id = 900001",
    "customer with orders cannot be deleted": "DELETE FROM customer WHERE id = 900001",
    "audit changes not an object": "INSERT INTO audit_event (action, entity_type, changes)"
    " VALUES ('x', 'y', '[1]')",
}


# the constraint that must do the refusing, per case
REFUSED_BY = {
    "customer blank name": "ck_customer_name_not_blank",
    "customer bad email": "ck_customer_email_format",
    "customer duplicate external id": "uq_customer_external_id",
    "customer negative order count": "ck_customer_order_count_non_negative",
    "product bad sku": "ck_product_sku_format",
    "product duplicate sku": "uq_product_sku",
    "product negative price": "ck_product_unit_price_non_negative",
    "stock below zero": "ck_stock_level_quantity_non_negative",
    "movement bad reason": "ck_stock_movement_reason_valid",
    "sale without order": "ck_stock_movement_order_for_sale",
    "order bad status": "ck_order_status_valid",
    "order total not sum": "ck_order_total_is_sum",
    "order line zero quantity": "ck_order_line_quantity_positive",
    "order line wrong total": "ck_order_line_line_total_is_product",
    "invoice period reversed": "ck_invoice_period_ordered",
    "invoice due before issue": "ck_invoice_due_after_issue",
    "invoice total not sum": "ck_invoice_total_is_sum",
    "invoice duplicate number": "uq_invoice_number",
    "invoice for another customer's order": "fk_invoice_order_customer",
    "second live invoice for an order": "uq_invoice_order_id_live",
    "payment zero amount": "ck_payment_amount_positive",
    "payment bad method": "ck_payment_method_valid",
    "payment duplicate reference": "uq_payment_invoice_reference",
    "ticket resolved without time": "ck_ticket_resolved_at_matches_status",
    "ticket open with resolved time": "ck_ticket_resolved_at_matches_status",
    "ticket bad priority": "ck_ticket_priority_valid",
    "time entry zero minutes": "ck_time_entry_minutes_positive",
    "purchase order bad state": "ck_purchase_order_state_valid",
    "transaction bad kind": "ck_financial_transaction_kind_valid",
    "transaction negative amount": "ck_financial_transaction_amount_positive",
    "user upper-case username": "ck_user_username_format",
    "user duplicate email": "uq_user_email",
    "role permission malformed": "ck_role_permission_permission_format",
    "role in use cannot be deleted": "fk_user_role_role_id_role",
    "customer with orders cannot be deleted": "fk_order_customer_id_customer",
    "audit changes not an object": "ck_audit_event_changes_is_object",
}


@pytest.fixture
async def seeded(session: AsyncSession) -> AsyncSession:
    for statement in SETUP.strip().split(";\n"):
        await session.execute(text(statement))
    return session


async def test_setup_rows_are_valid(seeded: AsyncSession) -> None:
    assert await seeded.scalar(text("SELECT count(*) FROM payment WHERE invoice_id = 900001")) == 1


@pytest.mark.parametrize("case", BAD_ROWS)
async def test_constraint_refuses(seeded: AsyncSession, case: str) -> None:
    statement = BAD_ROWS[case]
    with pytest.raises(IntegrityError) as refused:  # noqa: PT012
        async with seeded.begin_nested():
            for part in statement.split("; "):
                await seeded.execute(text(part))
    constraint = refused.value.orig.diag.constraint_name  # type: ignore[union-attr]
    assert constraint == REFUSED_BY[case]
