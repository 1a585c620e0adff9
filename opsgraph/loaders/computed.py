"""Batched computed values: one statement for all the keys of a level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from opsgraph.graph import money
from opsgraph.loaders.sql import key_array
from opsgraph.models import (
    Invoice,
    InvoiceStatus,
    Payment,
    RolePermission,
    StockLevel,
    UserRole,
)


def invoice_amount_paid(keys: Sequence[Any]) -> Executable:
    return money.paid_by_invoice().where(Payment.invoice_id == key_array(keys, Payment.invoice_id))


def customer_outstanding_balance(keys: Sequence[Any]) -> Executable:
    paid = money.paid_by_invoice().subquery()
    return (
        select(Invoice.customer_id, func.sum(money.balance_due_sql(paid.c.paid)))
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.customer_id == key_array(keys, Invoice.customer_id))
        .where(Invoice.status == InvoiceStatus.sent.value)
        .group_by(Invoice.customer_id)
    )


def customer_lifetime_value(keys: Sequence[Any]) -> Executable:
    return (
        select(Invoice.customer_id, func.sum(Payment.amount))
        .join(Payment, Payment.invoice_id == Invoice.id)
        .where(Invoice.customer_id == key_array(keys, Invoice.customer_id))
        .group_by(Invoice.customer_id)
    )


def product_quantity_on_hand(keys: Sequence[Any]) -> Executable:
    return select(StockLevel.product_id, StockLevel.quantity).where(
        StockLevel.product_id == key_array(keys, StockLevel.product_id)
    )


def role_permissions(keys: Sequence[Any]) -> Executable:
    return (
        select(
            RolePermission.role_id,
            func.array_agg(
                aggregate_order_by(RolePermission.permission, RolePermission.permission)
            ),
        )
        .where(RolePermission.role_id == key_array(keys, RolePermission.role_id))
        .group_by(RolePermission.role_id)
    )


def user_permissions(keys: Sequence[Any]) -> Executable:
    """Every permission a user holds through its roles, sorted."""
    return (
        select(
            UserRole.user_id,
            func.array_agg(
                aggregate_order_by(RolePermission.permission.distinct(), RolePermission.permission)
            ),
        )
        .join(RolePermission, RolePermission.role_id == UserRole.role_id)
        .where(UserRole.user_id == key_array(keys, UserRole.user_id))
        .group_by(UserRole.user_id)
    )
