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

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import BookedByPayment, InvalidInput
from opsgraph.graph.names import enum_values, name_of, named
from opsgraph.models import FinancialTransaction, TransactionKind
from opsgraph.permissions import Permission
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import InputChecks, checked_money, checked_text
from opsgraph.services.patch import KEEP, Patch, given
from opsgraph.services.rows import locked

FIELDS = ("kind", "amount", "occurred_on", "description")
INPUT_NAMES = {
    "kind": "kind",
    "amount": "amount",
    "occurred_on": "occurredOn",
    "description": "description",
}
MAX_DESCRIPTION = 2000
KINDS = frozenset(kind.value for kind in TransactionKind)


def checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields (column name -> value) as stored; every field is required."""
    result: dict[str, Any] = {}
    checks = InputChecks()  # every broken rule at once
    for name, value in values.items():
        with checks:
            result[name] = _checked_field(name, INPUT_NAMES[name], value)
    checks.done()
    return result


def _checked_field(name: str, field: str, value: Any) -> Any:
    if name == "amount":
        if value is None:
            raise InvalidInput("amount is required", field=[field])
        return checked_money(value, field=field, positive=True)
    if name == "kind":
        if value not in KINDS:
            kinds = enum_values(sorted(KINDS))
            raise InvalidInput(f"kind must be {kinds}", field=[field])
        return value
    if name == "occurred_on":
        if not isinstance(value, dt.date):
            raise InvalidInput("occurredOn is required", field=[field])
        return value
    return checked_text(value, field=field, limit=MAX_DESCRIPTION)


def _writer(actor: Principal) -> None:
    actor.require(Permission.TRANSACTION_WRITE)
    actor.require_staff("write financial transactions")


async def _unbooked(session: AsyncSession, transaction_id: int) -> FinancialTransaction:
    """The transaction, locked; ``BOOKED_BY_PAYMENT`` if a payment booked it."""
    found = await locked(session, FinancialTransaction, transaction_id)
    if found.payment_id is not None:
        raise BookedByPayment(
            f"{name_of(found)} was booked by {named('Payment', found.payment_id)}: it "
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
    kind: Patch[str | None] = KEEP,
    amount: Patch[Decimal | None] = KEEP,
    occurred_on: Patch[dt.date | None] = KEEP,
    description: Patch[str | None] = KEEP,
    actor: Principal,
) -> FinancialTransaction:
    """Change the given fields (kind, amount and date can't be null; a null description is
    made empty). A change that changes nothing records no audit event."""
    _writer(actor)
    values = checked(
        given(kind=kind, amount=amount, occurred_on=occurred_on, description=description)
    )
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
