"""Financial transactions (bookkeeping entries): transactionCreate, transactionUpdate,
transactionDelete.

Rules: the kind is income, expense or transfer; the amount is money as stored
(``NUMERIC(12,2)``): more than zero, at most 2 decimals; the description is at most
2,000 characters. A transaction booked by a payment (``payment_id`` set, written by
paymentRecord) changes only with its payment: updating or deleting it is refused
(``BOOKED_BY_PAYMENT``). Transactions are hidden from customer-portal users, so they
can't write them either.

Every function flushes, never commits: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import BookedByPayment, Forbidden, InvalidInput, NotFound
from opsgraph.models import FinancialTransaction, TransactionKind
from opsgraph.services.audit import record, snapshot

FIELDS = ("kind", "amount", "occurred_on", "description")
INPUT_NAMES = {
    "kind": "kind",
    "amount": "amount",
    "occurred_on": "occurredOn",
    "description": "description",
}
MAX_AMOUNT = Decimal("9999999999.99")
CENT = Decimal("0.01")
MAX_DESCRIPTION = 2000
KINDS = frozenset(kind.value for kind in TransactionKind)


def checked_amount(value: Decimal | None, *, field: str = "amount") -> Decimal:
    """An amount as stored: finite, more than zero, at most 2 decimals, fits NUMERIC(12,2)."""
    if value is None:
        raise InvalidInput("amount is required", field=[field])
    if not value.is_finite():
        raise InvalidInput(f"amount must be a number, not {value}", field=[field])
    if value <= 0:
        raise InvalidInput(f"amount must be more than zero (got {value})", field=[field])
    if value > MAX_AMOUNT:
        raise InvalidInput(f"amount must be at most {MAX_AMOUNT} (got {value})", field=[field])
    if value != value.quantize(CENT):
        raise InvalidInput(f"amount must have at most 2 decimals (got {value})", field=[field])
    return value.quantize(CENT)


def checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields (column name -> value) as stored; every field is required."""
    result: dict[str, Any] = {}
    for name, value in values.items():
        field = INPUT_NAMES[name]
        if name == "amount":
            result[name] = checked_amount(value, field=field)
        elif name == "kind":
            if value not in KINDS:
                raise InvalidInput(f"kind must be one of {', '.join(sorted(KINDS))}", field=[field])
            result[name] = value
        elif name == "occurred_on":
            if not isinstance(value, dt.date):
                raise InvalidInput("occurredOn is required", field=[field])
            result[name] = value
        else:
            description = (value or "").strip()
            if len(description) > MAX_DESCRIPTION:
                raise InvalidInput(
                    f"description must be at most {MAX_DESCRIPTION} characters", field=[field]
                )
            result[name] = description
    return result


def _writer(actor: Principal) -> None:
    actor.require("transaction:write")
    if actor.customer_id is not None:
        raise Forbidden("customer-portal users can't write financial transactions")


async def _unbooked(session: AsyncSession, transaction_id: int) -> FinancialTransaction:
    """The transaction, locked; ``BOOKED_BY_PAYMENT`` if a payment booked it."""
    found = await session.scalar(
        select(FinancialTransaction)
        .where(FinancialTransaction.id == transaction_id)
        .with_for_update()
    )
    if found is None:
        raise NotFound(f"no financial transaction with id {transaction_id}", field=["id"])
    if found.payment_id is not None:
        raise BookedByPayment(
            f"transaction {transaction_id} was booked by payment {found.payment_id}: it "
            "changes only with the payment",
            field=["id"],
        )
    return found


async def create_transaction(
    session: AsyncSession,
    *,
    kind: str,
    amount: Decimal,
    occurred_on: dt.date,
    description: str = "",
    actor: Principal,
) -> FinancialTransaction:
    _writer(actor)
    values = checked(
        {"kind": kind, "amount": amount, "occurred_on": occurred_on, "description": description}
    )
    entry = FinancialTransaction(**values, created_by=actor.user_id)
    session.add(entry)
    await session.flush()
    record(session, actor, "transaction.create", "FinancialTransaction", entry.id, after=values)
    await session.flush()
    return entry


async def update_transaction(
    session: AsyncSession,
    *,
    transaction_id: int,
    changes: Mapping[str, Any],
    actor: Principal,
) -> FinancialTransaction:
    """Change the given fields (column name -> value). A change that changes nothing
    records no audit event."""
    _writer(actor)
    values = checked(changes)
    entry = await _unbooked(session, transaction_id)
    before = snapshot(entry, FIELDS)
    changed = {name: value for name, value in values.items() if getattr(entry, name) != value}
    if not changed:
        return entry
    for name, value in changed.items():
        setattr(entry, name, value)
    await session.flush()
    record(
        session,
        actor,
        "transaction.update",
        "FinancialTransaction",
        entry.id,
        before=before,
        after=snapshot(entry, FIELDS),
    )
    await session.flush()
    return entry


async def delete_transaction(
    session: AsyncSession, *, transaction_id: int, actor: Principal
) -> int:
    """Delete a transaction no payment booked; its id."""
    _writer(actor)
    entry = await _unbooked(session, transaction_id)
    before = snapshot(entry, FIELDS)
    await session.execute(
        delete(FinancialTransaction).where(FinancialTransaction.id == entry.id),
        execution_options={"synchronize_session": False},
    )
    session.expunge(entry)
    record(
        session, actor, "transaction.delete", "FinancialTransaction", transaction_id, before=before
    )
    await session.flush()
    return transaction_id
